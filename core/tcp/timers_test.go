package tcp

// Persist, keepalive, TIME-WAIT and handshake timers.

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

// zeroWindow returns a connection whose peer has closed its window, with
// data queued behind it.
func zeroWindow(t *testing.T, mod func(*Config)) (*harness, *rec) {
	t.Helper()
	h, r := established(t, func(c *Config) {
		c.MinRTO = clock.Second
		if mod != nil {
			mod(c)
		}
	}, plainPeer)
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 1000), 0)
	r.c.Output()
	h.next()
	h.pwnd = 0
	h.ack(h.iss + 1001) // everything acknowledged, window closed
	r.c.Write(pattern(1000, 3000), 0)
	r.c.Output()
	h.expectNothing()
	return h, r
}

// RFC 9293 §3.8.6.1: with a zero window the sender probes after one RTO
// (SHLD-29), backing off exponentially (SHLD-30), and the connection stays
// up as long as the probes are answered (MUST-26/37), however long.
func TestRFC9293_PersistProbesWithBackoff(t *testing.T) {
	h, r := zeroWindow(t, nil)
	c := h.pcbOf()
	rto := c.rtt.rto
	if rto != clock.Second {
		t.Fatalf("RTO %v", rto)
	}
	start := h.now
	// Probe k comes rto·(1+2+…+2^(k-1)) after the window closed, each gap
	// capped at MaxRTO (60 s).
	at := clock.Duration(0)
	gap := rto
	for k := range 30 {
		at += gap
		h.advanceTo(start.Add(at - 1))
		h.expectNothing()
		h.advance(1)
		p := h.next()
		if p.flags.Has(wire.FlagRST) || p.at != start.Add(at) {
			t.Fatalf("probe %d: %v at %v, want at %v", k+1, p, p.at.Sub(start), at)
		}
		if k == 0 {
			// The first probe carries the next byte (lwIP); later ones are
			// answered the same way whatever they carry.
			if len(p.data) != 1 || p.seq != h.iss+1001 || p.data[0] != pattern(1000, 1)[0] {
				t.Fatalf("first probe %v", p)
			}
		} else if len(p.data) > 1 {
			t.Fatalf("probe %d carries %d bytes", k+1, len(p.data))
		}
		h.expectNothing()
		// The peer answers: window still closed, nothing acknowledged.
		h.ack(h.iss + 1001)
		h.expectNothing()
		gap = min(2*gap, h.l.cfg.MaxRTO)
	}
	if r.c.State() != Established || len(r.errs) != 0 {
		t.Fatalf("connection dropped while probes were answered: %v %v", r.c.State(), r.errs)
	}
	if h.l.stats.FastRetransmits != 0 {
		t.Fatal("probe answers counted as duplicate ACKs")
	}
	if h.l.stats.ZeroWindowProbes != 30 {
		t.Errorf("ZeroWindowProbes %d", h.l.stats.ZeroWindowProbes)
	}
}

// When the window opens, sending resumes at once from SND.UNA, the probe's
// byte included.
func TestRFC9293_PersistRecoveryWhenWindowOpens(t *testing.T) {
	h, r := zeroWindow(t, nil)
	h.advance(clock.Second)
	h.next() // the one-byte probe
	h.ack(h.iss + 1001)
	h.advance(2 * clock.Second)
	h.next()
	h.pwnd = 65535
	h.ack(h.iss + 1001) // window update
	segs := h.drain()
	if len(segs) == 0 {
		t.Fatal("nothing sent when the window opened")
	}
	var got []byte
	for i, s := range segs {
		if s.seq != h.iss+1001+wire.Seq(len(got)) {
			t.Fatalf("segment %d at %d, want contiguous from SND.UNA %d", i, uint32(s.seq), uint32(h.iss+1001))
		}
		got = append(got, s.data...)
	}
	if !bytes.Equal(got, pattern(1000, 3000)) {
		t.Fatalf("sent %d bytes after the window opened, want the 3000 queued", len(got))
	}
	h.ack(h.iss + 4001)
	if r.c.SendQueueLen() != 0 || h.pcbOf().flags&fPersist != 0 {
		t.Fatal("not drained")
	}
	h.advance(time5min)
	h.expectNothing()
}

const time5min = 5 * clock.Minute

// A probe whose byte the peer accepts (its window had room after all).
func TestRFC9293_PersistProbeByteAccepted(t *testing.T) {
	h, r := zeroWindow(t, nil)
	h.advance(clock.Second)
	h.next()
	h.pwnd = 0
	h.ack(h.iss + 1002) // took the byte, window closed again
	h.advance(2 * clock.Second)
	p := h.next()
	if len(p.data) > 1 || p.flags.Has(wire.FlagRST) {
		t.Fatalf("probe %v", p)
	}
	h.pwnd = 65535
	h.ack(h.iss + 1002)
	segs := h.drain()
	if len(segs) == 0 || segs[0].seq != h.iss+1002 {
		t.Fatalf("resumed at %v", &segs[0])
	}
	if r.c.State() != Established {
		t.Fatal(r.c.State())
	}
}

// Keepalive is off by default (MUST-25): an idle connection sends nothing.
func TestRFC9293_KeepAliveOffByDefault(t *testing.T) {
	h, _ := established(t, nil, plainPeer)
	h.advance(3 * 60 * clock.Minute)
	h.expectNothing()
	if h.l.cfg.KeepIdle < 2*60*clock.Minute {
		t.Errorf("default KeepIdle %v below 2 h (MUST-28)", h.l.cfg.KeepIdle)
	}
}

// Keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): after KeepIdle without a
// segment, a probe <SEQ=SND.NXT-1><ACK=RCV.NXT> without data (SHLD-12), then
// one per interval; an answer restarts the idle period; KeepCount unanswered
// probes drop the connection with ErrTimeout.
func TestRFC9293_KeepAlive(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.SetKeepAlive(true, 10*clock.Second, 2*clock.Second, 3)
	start := h.now
	probe := func(at clock.Duration) {
		t.Helper()
		h.advanceTo(start.Add(at - 1))
		h.expectNothing()
		h.advance(1)
		p := h.expect(wire.FlagACK, h.iss, h.irs+1)
		if len(p.data) != 0 {
			t.Fatalf("probe carries data: %v", p)
		}
	}
	probe(10 * clock.Second)
	probe(12 * clock.Second)
	// Answered: the idle period restarts from the answer (MUST-29: one lost
	// probe is no death).
	h.ack(h.iss + 1)
	h.expectNothing()
	start = h.now
	probe(10 * clock.Second)
	probe(12 * clock.Second)
	probe(14 * clock.Second)
	h.advanceTo(start.Add(16*clock.Second - 1))
	h.expectNothing()
	if len(r.errs) != 0 {
		t.Fatal("dropped early")
	}
	h.advance(1)
	h.expect(wire.FlagRST|wire.FlagACK, h.iss+1, h.irs+1)
	if len(r.errs) != 1 || r.errs[0] != errs.ErrTimeout {
		t.Fatalf("Err %v", r.errs)
	}
	if h.l.stats.KeepAliveProbes != 5 || h.l.stats.KeepAliveDrops != 1 {
		t.Errorf("stats %+v", h.l.stats)
	}
	checkClean(t, h.l, h.pool)
}

// Traffic from the peer keeps keepalive quiet; turning it off stops it.
func TestKeepAliveQuietWhileTrafficAndOff(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.SetKeepAlive(true, 10*clock.Second, 2*clock.Second, 3)
	for i := range 5 {
		h.advance(8 * clock.Second)
		h.send(h.iss+1, []byte{byte(i)}, 0)
	}
	h.advance(clock.Second)
	for _, s := range h.drain() {
		if s.seq == h.iss {
			t.Fatalf("keepalive probe during traffic: %v", &s)
		}
	}
	r.c.SetKeepAlive(false, 0, 0, 0)
	h.advance(time5min)
	h.expectNothing()
}

// TIME-WAIT lasts exactly Config.TimeWait (2·MSL, MUST-13).
func TestRFC9293_TimeWaitDuration(t *testing.T) {
	h := timeWait(t, func(c *Config) { c.TimeWait = 30 * clock.Second })
	h.advance(30*clock.Second - 1)
	if h.state() != TimeWait {
		t.Fatalf("state %v", h.state())
	}
	h.advance(1)
	if h.state() != Closed {
		t.Fatalf("state %v", h.state())
	}
	checkClean(t, h.l, h.pool)
}

// timeWait returns a harness whose connection (closed by us) is in
// TIME-WAIT; the peer uses o.
func timeWait(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	h, r := established(t, mod, plainPeer)
	return enterTimeWait(t, h, r)
}

func enterTimeWait(t *testing.T, h *harness, r *rec) *harness {
	t.Helper()
	r.c.Close()
	h.drain()
	h.send(h.iss+2, nil, wire.FlagFIN)
	h.expect(wire.FlagACK, h.iss+2, h.pnxt)
	if h.state() != TimeWait {
		t.Fatalf("state %v", h.state())
	}
	return h
}

// A retransmitted FIN in TIME-WAIT is acknowledged again and restarts the
// 2·MSL timeout (RFC 9293 §3.10.7.4).
func TestRFC9293_TimeWaitRetransmittedFINReACKed(t *testing.T) {
	h := timeWait(t, nil)
	h.advance(30 * clock.Second)
	h.inject(pkt{seq: h.pnxt - 1, ack: h.iss + 2, flags: wire.FlagFIN | wire.FlagACK})
	h.expect(wire.FlagACK, h.iss+2, h.pnxt)
	h.advance(h.l.cfg.TimeWait - 1)
	if h.state() != TimeWait {
		t.Fatal("2·MSL not restarted")
	}
	h.advance(1)
	if h.state() != Closed {
		t.Fatal(h.state())
	}
}

// RFC 1337: a RST in TIME-WAIT is ignored.
func TestRFC1337_TimeWaitIgnoresRST(t *testing.T) {
	h := timeWait(t, nil)
	h.inject(pkt{seq: h.pnxt, flags: wire.FlagRST})
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 2, flags: wire.FlagRST | wire.FlagACK})
	h.expectNothing()
	if h.state() != TimeWait {
		t.Fatalf("state %v after RST", h.state())
	}
}

// Other segments in TIME-WAIT: an old duplicate is answered with an ACK.
func TestTimeWaitOldDuplicateACKed(t *testing.T) {
	h := timeWait(t, nil)
	h.inject(pkt{seq: h.irs + 1, ack: h.iss + 1, flags: wire.FlagACK, data: []byte("old")})
	h.expect(wire.FlagACK, h.iss+2, h.pnxt)
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 2, flags: wire.FlagACK}) // a plain ACK: nothing
	h.expectNothing()
}

// RFC 6191: a new SYN with a larger timestamp reuses the TIME-WAIT 4-tuple;
// one with an older timestamp is answered with an ACK and changes nothing.
func TestRFC6191_TimeWaitReuseByTimestamp(t *testing.T) {
	h, r := established(t, nil, fullPeer)
	enterTimeWait(t, h, r)
	h.lst = Listener{} // still listening, keep it
	old := h.peerTS()
	h.advance(clock.Second)
	// Older timestamp, even with a larger sequence number: refused.
	h.inject(pkt{seq: h.pnxt + 100000, flags: wire.FlagSYN, noTS: true,
		opts: wire.TCPOptions{MSS: 1460, HasTimestamps: true, TSVal: old - 10}})
	h.expect(wire.FlagACK, h.iss+2, h.pnxt)
	if h.state() != TimeWait {
		t.Fatalf("state %v", h.state())
	}
	// Newer timestamp, even with a smaller sequence number: a new connection.
	h.inject(pkt{seq: h.irs - 100000, flags: wire.FlagSYN, noTS: true,
		opts: wire.TCPOptions{MSS: 1460, HasTimestamps: true, TSVal: h.peerTS()}})
	h.expectSegment(func(s *outSeg) {
		if s.flags != wire.FlagSYN|wire.FlagACK || s.ack != h.irs-100000+1 {
			t.Fatalf("want SYN-ACK, got %v", s)
		}
	})
	if h.state() != SynReceived || h.l.stats.TimeWaitReused != 1 {
		t.Fatalf("state %v reused %d", h.state(), h.l.stats.TimeWaitReused)
	}
}

// Without timestamps (RFC 1122 §4.2.2.13): reuse needs a larger sequence number.
func TestTimeWaitReuseBySequence(t *testing.T) {
	h := timeWait(t, nil)
	h.inject(pkt{seq: h.irs, flags: wire.FlagSYN, opts: wire.TCPOptions{MSS: 1460}})
	h.expect(wire.FlagACK, h.iss+2, h.pnxt)
	h.inject(pkt{seq: h.pnxt + 1000, flags: wire.FlagSYN, opts: wire.TCPOptions{MSS: 1460}})
	h.expectSegment(func(s *outSeg) {
		if s.flags != wire.FlagSYN|wire.FlagACK {
			t.Fatalf("want SYN-ACK, got %v", s)
		}
	})
}

// SYN-RECEIVED gives up after SynRetries SYN-ACK retransmissions and frees
// the backlog slot; the listener keeps working.
func TestSynReceivedTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SynRetries = 2 })
	h.listen(1)
	h.peerSYN()
	sa := h.next()
	h.advance(clock.Second)
	h.expect(wire.FlagSYN|wire.FlagACK, sa.seq, h.irs+1)
	h.advance(2 * clock.Second)
	h.expect(wire.FlagSYN|wire.FlagACK, sa.seq, h.irs+1)
	h.advance(4*clock.Second - 1)
	h.expectNothing()
	h.advance(1)
	h.drain() // a RST, if any
	if h.state() != Closed {
		t.Fatalf("state %v", h.state())
	}
	if h.l.lst[0].pending != 0 {
		t.Fatalf("backlog still counts %d", h.l.lst[0].pending)
	}
	if len(h.accepted) != 0 {
		t.Fatal("accepted")
	}
	checkClean(t, h.l, h.pool)
	// The backlog (1) has room again.
	h.pport++
	h.acceptConn()
}

// RST in SYN-RECEIVED from a passive open returns to LISTEN (MUST-11): the
// connection goes, the listener stays.
func TestSynReceivedRSTReturnsToListen(t *testing.T) {
	h := newHarness(t, nil)
	h.listen(1)
	h.peerSYN()
	h.next()
	h.inject(pkt{seq: h.irs + 1, flags: wire.FlagRST})
	if h.state() != Closed || h.l.lst[0].pending != 0 || !h.lst.IsValid() {
		t.Fatalf("state %v pending %d", h.state(), h.l.lst[0].pending)
	}
	h.expectNothing()
	checkClean(t, h.l, h.pool)
	h.acceptConn()
}

// With our probe's byte beyond the peer's closed window, our ACKs and
// window updates carry SEQ = SND.UNA: the only sequence number a closed
// window accepts (SND.NXT would be dropped, its window update with it).
func TestZeroWindowACKSeqStaysAcceptable(t *testing.T) {
	h, r := zeroWindow(t, nil)
	h.advance(clock.Second)
	h.next() // the probe's byte at SND.UNA
	h.ack(h.iss + 1001)
	r.noRecved = true
	h.send(h.iss+1001, []byte("data"), 0)
	h.send(h.iss+1001, []byte("more"), 0)
	h.expect(wire.FlagACK, h.iss+1001, h.pnxt)
	r.c.Recved(8)
	r.c.Abort()
	h.expect(wire.FlagRST|wire.FlagACK, h.iss+1001, h.pnxt)
}
