package tcp

// RFC 5961: blind in-window attacks, and RFC 9293's ACK checks.

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

// RFC 5961 §3.2: a RST inside the window but not at RCV.NXT draws a
// challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and changes nothing.
func TestRFC5961_InWindowRSTChallengeACK(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	h.inject(pkt{seq: h.irs + 1 + 1000, flags: wire.FlagRST})
	h.expect(wire.FlagACK, h.iss+1, h.irs+1)
	h.expectNothing()
	if r.c.State() != Established || len(r.errs) != 0 {
		t.Fatalf("state %v errs %v", r.c.State(), r.errs)
	}
	// The peer's genuine RST at the ACK's sequence number resets.
	h.inject(pkt{seq: h.irs + 1, flags: wire.FlagRST})
	if len(r.errs) != 1 || r.errs[0] != errs.ErrReset {
		t.Fatalf("errs %v", r.errs)
	}
}

// RFC 5961 §3.2: a RST exactly at RCV.NXT resets (with or without ACK,
// carrying data or not: SHLD-2).
func TestRFC5961_ExactRSTResets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags wire.TCPFlags
		data  []byte
	}{
		{"RST", wire.FlagRST, nil},
		{"RST,ACK", wire.FlagRST | wire.FlagACK, nil},
		{"RST with data", wire.FlagRST | wire.FlagACK, []byte("reason")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, r := established(t, nil, plainPeer)
			h.inject(pkt{seq: h.irs + 1, ack: h.iss + 1, flags: tc.flags, data: tc.data})
			h.expectNothing()
			if len(r.errs) != 1 || r.errs[0] != errs.ErrReset || h.state() != Closed {
				t.Fatalf("errs %v state %v", r.errs, h.state())
			}
			checkClean(t, h.l, h.pool)
		})
	}
}

// RFC 5961 §3.2: a RST outside the window is dropped silently.
func TestRFC5961_OutOfWindowRSTIgnored(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	for _, seq := range []wire.Seq{h.irs, h.irs - 5000, h.irs + 1 + 65535, h.irs + 1 + 1<<30} {
		h.inject(pkt{seq: seq, flags: wire.FlagRST})
	}
	h.expectNothing()
	if r.c.State() != Established || len(r.errs) != 0 {
		t.Fatalf("state %v errs %v", r.c.State(), r.errs)
	}
}

// RFC 5961 §4.2: a SYN in a synchronized state, whatever its sequence
// number, draws a challenge ACK and is dropped.
func TestRFC5961_SYNInEstablishedChallengeACK(t *testing.T) {
	for _, off := range []wire.Seq{0, 1, 100, 1 << 20, 1 << 31} {
		h, r := established(t, nil, plainPeer)
		h.inject(pkt{seq: h.irs + 1 + off, flags: wire.FlagSYN, opts: wire.TCPOptions{MSS: 1460}})
		h.expect(wire.FlagACK, h.iss+1, h.irs+1)
		h.expectNothing()
		if r.c.State() != Established || len(r.errs) != 0 {
			t.Fatalf("seq +%d: state %v errs %v", off, r.c.State(), r.errs)
		}
	}
	// Also SYN,ACK and in CLOSE-WAIT.
	h, r := established(t, nil, plainPeer)
	h.send(h.iss+1, nil, wire.FlagFIN)
	h.drain()
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagSYN | wire.FlagACK})
	h.expect(wire.FlagACK, h.iss+1, h.pnxt)
	if r.c.State() != CloseWait {
		t.Fatal(r.c.State())
	}
}

// RFC 5961 §7: challenge ACKs are rate limited (ChallengeACKRate per
// second).
func TestRFC5961_ChallengeACKRateLimit(t *testing.T) {
	h, _ := established(t, func(c *Config) { c.ChallengeACKRate = 3 }, plainPeer)
	for range 10 {
		h.inject(pkt{seq: h.irs + 500, flags: wire.FlagRST})
	}
	if n := len(h.drain()); n != 3 {
		t.Fatalf("%d challenge ACKs in one second, want 3", n)
	}
	if h.l.stats.ChallengeLimited != 7 {
		t.Errorf("ChallengeLimited %d", h.l.stats.ChallengeLimited)
	}
	h.advance(clock.Second)
	for range 10 {
		h.inject(pkt{seq: h.irs + 500, flags: wire.FlagSYN})
	}
	if n := len(h.drain()); n != 3 {
		t.Fatalf("%d challenge ACKs in the next second, want 3", n)
	}
}

// RFC 9293 §3.10.7.4: an ACK for something not yet sent (SEG.ACK > SND.NXT)
// draws an ACK and the segment is dropped, its data too.
func TestRFC9293_AckOfUnsentDataDropped(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.Write([]byte("abc"), 0)
	r.c.Output()
	h.next()
	h.inject(pkt{seq: h.irs + 1, ack: h.iss + 100, flags: wire.FlagACK, data: []byte("data")})
	h.expect(wire.FlagACK, h.iss+4, h.irs+1)
	if len(r.got) != 0 || r.c.SendQueueLen() != 3 {
		t.Fatalf("got %q queue %d", r.got, r.c.SendQueueLen())
	}
	if h.l.stats.BadAck != 1 {
		t.Errorf("BadAck %d", h.l.stats.BadAck)
	}
}

// RFC 5961 §5.2: an ACK older than SND.UNA − MAX.SND.WND is dropped with a
// challenge ACK; one within it is accepted (a duplicate).
func TestRFC5961_OldAckDropped(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 1000), 0)
	r.c.Output()
	h.next()
	h.ack(h.iss + 1001)
	h.inject(pkt{seq: h.irs + 1, ack: h.iss + 1001 - 200000, flags: wire.FlagACK, data: []byte("x")})
	h.expect(wire.FlagACK, h.iss+1001, h.irs+1)
	if len(r.got) != 0 {
		t.Fatal("data of a segment with an unacceptable ACK was accepted")
	}
	h.inject(pkt{seq: h.irs + 1, ack: h.iss + 500, flags: wire.FlagACK, data: []byte("y")})
	if string(r.got) != "y" {
		t.Fatalf("got %q: an old but acceptable ACK dropped its data", r.got)
	}
}

// RFC 9293 §3.10.7.4 "first": an unacceptable segment draws an ACK (unless
// it is a RST) and is otherwise ignored.
func TestRFC9293_UnacceptableSegmentACKed(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	h.inject(pkt{seq: h.irs + 1 - 100, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 50)})
	h.expect(wire.FlagACK, h.iss+1, h.irs+1)
	h.inject(pkt{seq: h.irs + 1 + 70000, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 50)})
	h.expect(wire.FlagACK, h.iss+1, h.irs+1)
	if len(r.got) != 0 {
		t.Fatal("data accepted")
	}
	// A segment straddling RCV.NXT is trimmed and accepted.
	h.inject(pkt{seq: h.irs + 1 - 10, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 30)})
	if string(r.got) != string(pattern(10, 20)) {
		t.Fatalf("got %v", r.got)
	}
}

// Checksum errors are dropped and counted (MUST-3); no RST for them.
func TestRFC9293_BadChecksumDropped(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	h.inject(pkt{seq: h.irs + 1, ack: h.iss + 1, flags: wire.FlagACK, data: []byte("bad"), badSum: true})
	h.inject(pkt{sport: 9, seq: 5, flags: wire.FlagSYN, badSum: true})
	h.expectNothing()
	if len(r.got) != 0 || h.l.stats.ChkErr != 2 {
		t.Fatalf("got %q chkerr %d", r.got, h.l.stats.ChkErr)
	}
}

// A segment for no connection and no listener is answered with a RST
// (RFC 9293 §3.10.7.1): <SEQ=SEG.ACK><CTL=RST> for an ACK, else
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; a RST is not answered.
func TestRFC9293_ClosedPortResets(t *testing.T) {
	h := newHarness(t, nil)
	h.inject(pkt{seq: 100, flags: wire.FlagSYN})
	h.expect(wire.FlagRST|wire.FlagACK, 0, 101)
	h.inject(pkt{seq: 100, ack: 5000, flags: wire.FlagACK, data: []byte("abc")})
	h.expect(wire.FlagRST, 5000, 0)
	h.inject(pkt{seq: 100, flags: wire.FlagFIN, data: []byte("abc")})
	h.expect(wire.FlagRST|wire.FlagACK, 0, 104)
	h.inject(pkt{seq: 100, flags: wire.FlagRST})
	h.expectNothing()
	checkClean(t, h.l, h.pool)
}

// Bare unacceptable segments are answered at most every 500 ms per
// connection (Linux tcp_invalid_ratelimit); ones with data always are.
func TestUnacceptableBareSegmentsRateLimited(t *testing.T) {
	h, _ := established(t, nil, plainPeer)
	for range 10 {
		h.inject(pkt{seq: h.irs - 1000, ack: h.iss + 1, flags: wire.FlagACK})
	}
	h.expect(wire.FlagACK, h.iss+1, h.irs+1)
	h.expectNothing()
	for range 3 {
		h.inject(pkt{seq: h.irs - 1000, ack: h.iss + 1, flags: wire.FlagACK, data: []byte("old")})
		h.expect(wire.FlagACK, h.iss+1, h.irs+1)
	}
	h.advance(500 * ms)
	h.inject(pkt{seq: h.irs - 1000, ack: h.iss + 1, flags: wire.FlagACK})
	h.expect(wire.FlagACK, h.iss+1, h.irs+1)
}
