package tcp

// RFC 5681 congestion control and RFC 6582 NewReno recovery.

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

const smss = 1460

// bulk returns an established connection (no timestamps: segments carry
// 1460 bytes) with n full segments written and the initial window sent.
func bulk(t *testing.T, n int) (*harness, *rec, []outSeg) {
	t.Helper()
	h, r := established(t, func(c *Config) { c.MinRTO = clock.Second }, plainPeer)
	r.c.SetNoDelay(true)
	if err := r.c.Write(pattern(0, n*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	return h, r, h.drain()
}

func (h *harness) dupAck() {
	h.t.Helper()
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK})
}

func segAt(h *harness, k int) wire.Seq { return h.iss + 1 + wire.Seq(k*smss) }

// RFC 5681 §3.1 (RFC 6928): the initial window is min(10·SMSS, max(2·SMSS, 14600)).
func TestRFC5681_InitialWindow(t *testing.T) {
	_, r, segs := bulk(t, 20)
	if len(segs) != 10 {
		t.Fatalf("%d segments in the initial window, want 10", len(segs))
	}
	for i, s := range segs {
		if len(s.data) != smss || s.seq != s.seq {
			t.Fatalf("segment %d: %v", i, &s)
		}
	}
	if in := r.c.Info(); in.Cwnd != 10*smss || in.InFlight != 10*smss {
		t.Fatalf("cwnd %d inflight %d", in.Cwnd, in.InFlight)
	}
}

// RFC 5681 §3.1 slow start: each ACK grows cwnd by the bytes it acknowledges
// (at most 2·SMSS, RFC 3465), and congestion avoidance by about SMSS per RTT.
func TestRFC5681_SlowStartAndCongestionAvoidance(t *testing.T) {
	h, r, _ := bulk(t, 60)
	cw := r.c.Info().Cwnd
	h.ack(segAt(h, 1))
	if got := r.c.Info().Cwnd; got != cw+smss {
		t.Fatalf("cwnd %d after one SMSS acknowledged, want %d", got, cw+smss)
	}
	h.ack(segAt(h, 4)) // 3 SMSS at once: growth limited to 2 SMSS
	if got := r.c.Info().Cwnd; got != cw+3*smss {
		t.Fatalf("cwnd %d, want %d", got, cw+3*smss)
	}
	// In congestion avoidance (cwnd >= ssthresh) a window's worth of ACKs
	// adds one SMSS.
	c := h.pcbOf()
	c.cc.Ssthresh = c.cc.Cwnd
	cw = c.cc.Cwnd
	h.drain()
	acked := 4
	for sum := uint32(0); sum+smss <= cw; sum += smss {
		acked++
		h.ack(segAt(h, acked))
	}
	if got := c.cc.Cwnd; got != cw+smss {
		t.Fatalf("cwnd %d after one window in congestion avoidance, want %d", got, cw+smss)
	}
}

// RFC 5681 §3.2: fast retransmit on exactly the third duplicate ACK, with
// ssthresh = max(FlightSize/2, 2·SMSS) and cwnd = ssthresh + 3·SMSS, window
// inflation per further duplicate; RFC 6582 §3.2: a partial ACK retransmits
// the next hole at once and stays in recovery; the full ACK deflates to
// min(ssthresh, max(FlightSize, SMSS) + SMSS) and leaves.
func TestRFC5681_FastRetransmitAndNewRenoRecovery(t *testing.T) {
	h, r, segs := bulk(t, 20)
	if len(segs) != 10 {
		t.Fatalf("initial window %d segments", len(segs))
	}
	c := h.pcbOf()
	// Segments 0 and 5 are lost; the peer gets 1–4 and 6–9 and answers each
	// with a duplicate ACK for segment 0.
	h.dupAck()
	h.dupAck()
	h.expectNothing()
	if c.flags&fInRecovery != 0 {
		t.Fatal("recovery after two duplicates")
	}
	h.dupAck()
	s := h.expect(wire.FlagACK, segAt(h, 0), h.irs+1)
	if len(s.data) != smss {
		t.Fatalf("retransmission carries %d bytes", len(s.data))
	}
	h.expectNothing()
	if c.cc.Ssthresh != 5*smss || c.cc.Cwnd != 8*smss || c.flags&fInRecovery == 0 {
		t.Fatalf("after the third duplicate: ssthresh %d cwnd %d", c.cc.Ssthresh, c.cc.Cwnd)
	}
	if c.snd.recover != segAt(h, 10) {
		t.Fatalf("recover %d, want SND.MAX", uint32(c.snd.recover))
	}
	// Further duplicates inflate cwnd by SMSS each; once cwnd exceeds the
	// flight, new data goes out.
	h.dupAck() // cwnd 9·SMSS
	h.dupAck() // 10·SMSS = flight
	h.expectNothing()
	h.dupAck() // 11·SMSS: one new segment
	h.expect(wire.FlagACK, segAt(h, 10), h.irs+1)
	h.expectNothing()
	if h.l.stats.FastRetransmits != 1 {
		t.Fatalf("FastRetransmits %d", h.l.stats.FastRetransmits)
	}
	// Partial ACK: 0–4 arrive, 5 is the next hole.
	h.ack(segAt(h, 5))
	h.expect(wire.FlagACK, segAt(h, 5), h.irs+1)
	if c.flags&fInRecovery == 0 {
		t.Fatal("left recovery on a partial ACK")
	}
	if want := uint32(11*smss - 5*smss + smss); c.cc.Cwnd != want {
		t.Fatalf("cwnd %d after the partial ACK, want %d (deflated by 5 SMSS, plus one)", c.cc.Cwnd, want)
	}
	// cwnd 7·SMSS, flight 6 (segments 5–10): one more new segment.
	h.expect(wire.FlagACK, segAt(h, 11), h.irs+1)
	h.expectNothing()
	// Full ACK of everything up to recover.
	h.ack(segAt(h, 10))
	if c.flags&fInRecovery != 0 {
		t.Fatal("still in recovery after the full ACK")
	}
	// FlightSize is segments 10 and 11: min(5·SMSS, max(2·SMSS, SMSS) + SMSS).
	if c.cc.Cwnd != 3*smss {
		t.Fatalf("cwnd %d after the full ACK, want %d", c.cc.Cwnd, 3*smss)
	}
	if r.c.State() != Established {
		t.Fatal(r.c.State())
	}
}

// Two duplicates and then new data: no retransmission, the count restarts.
func TestRFC5681_TwoDuplicatesDoNotRetransmit(t *testing.T) {
	h, _, _ := bulk(t, 20)
	h.dupAck()
	h.dupAck()
	h.ack(segAt(h, 1))
	h.drain()
	h.inject(pkt{seq: h.pnxt, ack: segAt(h, 1), flags: wire.FlagACK})
	h.inject(pkt{seq: h.pnxt, ack: segAt(h, 1), flags: wire.FlagACK})
	h.expectNothing()
	if h.l.stats.FastRetransmits != 0 {
		t.Fatal("fast retransmit")
	}
}

// RFC 5681 §2 duplicate ACK definition: an ACK carrying data, or changing
// the window, is not a duplicate.
func TestRFC5681_NotDuplicates(t *testing.T) {
	h, _, _ := bulk(t, 20)
	for i := range 3 {
		h.send(h.iss+1, []byte{byte(i)}, 0) // data
	}
	for i := range 3 {
		h.pwnd = uint16(60000 + i) // window updates
		h.ack(h.iss + 1)
	}
	for _, s := range h.drain() {
		if len(s.data) > 0 {
			t.Fatalf("retransmission on non-duplicates: %v", &s)
		}
	}
	if h.l.stats.FastRetransmits != 0 {
		t.Fatal("fast retransmit")
	}
}

// RFC 5681 §3.1 eq. 4: on RTO, ssthresh = max(FlightSize/2, 2·SMSS) and
// cwnd = 1 SMSS (loss window); a second expiry of the same segment keeps
// ssthresh.
func TestRFC5681_RTOLossWindow(t *testing.T) {
	h, _, _ := bulk(t, 20)
	c := h.pcbOf()
	h.advance(c.rtt.rto)
	segs := h.drain()
	if len(segs) != 1 || segs[0].seq != segAt(h, 0) {
		t.Fatalf("after RTO: %v", segs)
	}
	if c.cc.Cwnd != smss || c.cc.Ssthresh != 5*smss {
		t.Fatalf("cwnd %d ssthresh %d", c.cc.Cwnd, c.cc.Ssthresh)
	}
	h.advance(c.rtt.rto)
	h.drain()
	if c.cc.Ssthresh != 5*smss {
		t.Fatalf("ssthresh %d after the second expiry, want it held at %d", c.cc.Ssthresh, 5*smss)
	}
	// Go-back-N: the ACK of the first segment releases the next two (slow start).
	h.ack(segAt(h, 1))
	if segs := h.drain(); len(segs) != 2 || segs[0].seq != segAt(h, 1) {
		t.Fatalf("after the ACK: %d segments", len(segs))
	}
}

// Fast retransmit works across sequence-number wraparound.
func TestFastRetransmitAcrossSeqWraparound(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MinRTO = clock.Second })
	h.po = plainPeer
	r := h.acceptConn()
	// Move our sequence space near 2^32 by rewriting the fresh connection.
	c := h.pcbOf()
	base := wire.Seq(0xffffffff - 3*smss)
	c.snd.ISS, c.snd.UNA, c.snd.NXT, c.snd.MAX, c.snd.bufSeq = base-1, base, base, base, base
	c.snd.recover = base - 1
	c.snd.WL2 = base
	h.iss = base - 1
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 10*smss), 0)
	r.c.Output()
	if n := len(h.drain()); n != 10 {
		t.Fatalf("%d segments", n)
	}
	for range 3 {
		h.ack(base)
	}
	h.expect(wire.FlagACK, base, h.irs+1)
	h.ack(base + 10*smss)
	if c.snd.UNA != base+10*smss || c.snd.queued != 0 || c.flags&fInRecovery != 0 {
		t.Fatalf("UNA %d queued %d", uint32(c.snd.UNA), c.snd.queued)
	}
}

// After an RTO rewinds the send point for go-back-N, a pure ACK still
// carries the highest sequence number sent (RFC 9293's SND.NXT): one below
// the peer's RCV.NXT would be unacceptable to it and draw an ACK, and two
// such ends ACK each other forever.
func TestACKAfterRTOCarriesHighestSeq(t *testing.T) {
	h, r, _ := bulk(t, 10)
	h.advance(h.pcbOf().rtt.rto)
	if s := h.next(); s.seq != segAt(h, 0) {
		t.Fatalf("retransmission %v", s)
	}
	h.send(segAt(h, 0), []byte("x"), 0)
	h.send(segAt(h, 0), []byte("y"), 0) // second segment: ACK now
	h.expect(wire.FlagACK, segAt(h, 10), h.pnxt)
	// So does the RST of an abort (otherwise the peer ignores it, RFC 5961).
	r.c.Abort()
	h.expect(wire.FlagRST|wire.FlagACK, segAt(h, 10), h.pnxt)
}

// Two Layers that both retransmit settle (the exchange from a fuzz crasher).
func TestBothEndsRetransmittingSettle(t *testing.T) {
	p := newPair(t, func(c *Config) { c.MinRTO = 100 * ms })
	ra := &rec{}
	rb := p.dial(ra)
	ra.c.Write(pattern(0, 10000), 0)
	rb.c.Write(pattern(0, 10000), 0)
	// Data gets through, ACKs do not: both ends time out and rewind while
	// the other has received far beyond.
	drop := true
	p.filter = func(_ *node, s []byte) int {
		if drop && len(s) == wire.TCP(s).HeaderLen() {
			return 1
		}
		return 0
	}
	ra.c.Output()
	rb.c.Output()
	p.advance(150 * ms)
	drop = false
	p.advance(5 * clock.Second)
	if len(ra.got) != 10000 || len(rb.got) != 10000 {
		t.Fatalf("A got %d, B got %d", len(ra.got), len(rb.got))
	}
}
