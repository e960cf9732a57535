package tcp

// RFC 6298: the retransmission timer.

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

const ms = clock.Millisecond

// RFC 6298 §2.1 and §5.5: before any sample the RTO is 1 s; every expiry
// doubles it, up to MaxRTO; SynRetries retransmissions later the open fails.
func TestRFC6298_InitialRTOThenExponentialBackoff_SYN(t *testing.T) {
	h := newHarness(t, nil)
	r := h.connectSYN()
	start := h.now
	// Default InitialRTO 1 s, MaxRTO 60 s, SynRetries 6.
	want := []clock.Duration{1, 3, 7, 15, 31, 63}
	for i, w := range want {
		h.advanceTo(start.Add(w*clock.Second - 1))
		h.expectNothing()
		h.advance(1)
		s := h.expect(wire.FlagSYN, h.iss, 0)
		if s.at != start.Add(w*clock.Second) {
			t.Fatalf("retransmission %d at %v", i+1, s.at.Sub(start))
		}
	}
	// The sixth backoff is capped: 32 s doubles to 64 s, MaxRTO makes 60 s.
	h.advanceTo(start.Add(123*clock.Second - 1))
	h.expectNothing()
	if len(r.errs) != 0 {
		t.Fatalf("gave up early: %v", r.errs)
	}
	h.advance(1)
	h.expectNothing() // no RST from SYN-SENT
	if len(r.errs) != 1 || r.errs[0] != errs.ErrTimeout {
		t.Fatalf("Err %v, want ErrTimeout", r.errs)
	}
	if h.l.stats.AttemptFails != 1 {
		t.Errorf("AttemptFails %d", h.l.stats.AttemptFails)
	}
	checkClean(t, h.l, h.pool)
}

// The same for data, with MaxRTO capping the backoff and MaxRetries ending it.
func TestRFC6298_DataRTOBackoffCappedByMaxRTO(t *testing.T) {
	h, r := established(t, func(c *Config) {
		c.MinRTO = clock.Second // the handshake's near-zero sample yields RTO = 1 s
		c.MaxRTO = 8 * clock.Second
		c.MaxRetries = 6
	}, plainPeer)
	if rto := r.c.Info().RTO; rto != clock.Second {
		t.Fatalf("RTO after the handshake %v", rto)
	}
	r.c.Write([]byte("data"), 0)
	r.c.Output()
	start := h.now
	h.expect(wire.FlagACK|wire.FlagPSH, h.iss+1, h.irs+1)
	for i, w := range []clock.Duration{1, 3, 7, 15, 23, 31} {
		h.advanceTo(start.Add(w*clock.Second - 1))
		h.expectNothing()
		h.advance(1)
		s := h.next()
		if s.seq != h.iss+1 || string(s.data) != "data" || s.at != start.Add(w*clock.Second) {
			t.Fatalf("retransmission %d: %v at %v", i+1, s, s.at.Sub(start))
		}
	}
	if rto := r.c.Info().RTO; rto != 8*clock.Second {
		t.Fatalf("RTO %v, want the 8 s cap", rto)
	}
	h.advanceTo(start.Add(39*clock.Second - 1))
	h.expectNothing()
	h.advance(1)
	h.expect(wire.FlagRST|wire.FlagACK, h.iss+5, h.irs+1)
	if len(r.errs) != 1 || r.errs[0] != errs.ErrTimeout {
		t.Fatalf("Err %v", r.errs)
	}
}

// RFC 6298 §2.2–2.4, with G = 1 ms and the MinRTO/MaxRTO clamp.
func TestRFC6298_SRTTRTTVARArithmetic(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.l.pcbAlloc()
	steps := []struct {
		r, srtt, rttvar, rto clock.Duration
	}{
		// First sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4·RTTVAR).
		{100 * ms, 100 * ms, 50 * ms, 300 * ms},
		// RTTVAR = 3/4·50 + 1/4·|100−200| = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5.
		{200 * ms, 112500 * clock.Microsecond, 62500 * clock.Microsecond, 362500 * clock.Microsecond},
		// RTTVAR = 3/4·62.5 + 1/4·62.5 = 62.5; SRTT = 7/8·112.5 + 1/8·50 = 104.6875.
		{50 * ms, 104687500, 62500 * clock.Microsecond, 104687500 + 250*ms},
	}
	for i, s := range steps {
		h.l.rttSample(c, s.r)
		if c.rtt.srtt != s.srtt || c.rtt.rttvar != s.rttvar || c.rtt.rto != s.rto {
			t.Fatalf("sample %d (%v): SRTT %v RTTVAR %v RTO %v, want %v %v %v", i, s.r,
				c.rtt.srtt, c.rtt.rttvar, c.rtt.rto, s.srtt, s.rttvar, s.rto)
		}
	}
	// Steady samples: RTTVAR decays, the granularity term and MinRTO floor it.
	for range 200 {
		h.l.rttSample(c, 10*ms)
	}
	if c.rtt.rto != h.l.cfg.MinRTO {
		t.Fatalf("RTO %v, want the %v floor", c.rtt.rto, h.l.cfg.MinRTO)
	}
	// A huge sample is capped at MaxRTO (RFC 6298 §2.5).
	c2, _ := h.l.pcbAlloc()
	h.l.rttSample(c2, 100*clock.Second)
	if c2.rtt.rto != h.l.cfg.MaxRTO {
		t.Fatalf("RTO %v, want MaxRTO", c2.rtt.rto)
	}
}

// End to end: the SYN-ACK/ACK round trip is the first sample, a data round
// trip the second.
func TestRFC6298_SamplesFromHandshakeAndData(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.NoTimestamps = true })
	h.listen(0)
	h.peerSYN()
	sa := h.next()
	h.iss, h.pnxt = sa.seq, h.irs+1
	h.advance(100 * ms)
	h.ack(h.iss + 1)
	r := h.accepted[0]
	in := r.c.Info()
	if in.SRTT != 100*ms || in.RTTVar != 50*ms || in.RTO != 300*ms {
		t.Fatalf("after the handshake: %+v", in)
	}
	r.c.Write(pattern(0, 100), 0)
	r.c.Output()
	h.next()
	h.advance(200 * ms)
	h.ack(h.iss + 101)
	in = r.c.Info()
	if in.SRTT != 112500*clock.Microsecond || in.RTTVar != 62500*clock.Microsecond {
		t.Fatalf("after data: %+v", in)
	}
}

// Karn's algorithm (RFC 6298 §3, MUST-18): an ACK for a retransmitted
// segment yields no sample without timestamps, and the backed-off RTO stays
// until a fresh segment is timed.
func TestRFC6298_KarnNoSampleFromRetransmission(t *testing.T) {
	h, r := established(t, func(c *Config) { c.NoTimestamps = true; c.MinRTO = clock.Second }, plainPeer)
	before := r.c.Info()
	r.c.Write(pattern(0, 100), 0)
	r.c.Output()
	h.next()
	h.advance(clock.Second) // RTO
	h.next()
	if rto := r.c.Info().RTO; rto != 2*clock.Second {
		t.Fatalf("backed-off RTO %v", rto)
	}
	h.advance(300 * ms)
	h.ack(h.iss + 101) // ambiguous: the original or the retransmission?
	after := r.c.Info()
	if after.SRTT != before.SRTT || after.RTTVar != before.RTTVar {
		t.Fatalf("sample taken from a retransmitted segment: SRTT %v -> %v", before.SRTT, after.SRTT)
	}
	if after.RTO != 2*clock.Second {
		t.Fatalf("RTO %v, want the backed-off 2 s kept", after.RTO)
	}
	// A new segment is timed normally.
	r.c.Write(pattern(100, 100), 0)
	r.c.Output()
	h.next()
	h.advance(400 * ms)
	h.ack(h.iss + 201)
	if got := r.c.Info(); got.SRTT == before.SRTT || got.RTO == 2*clock.Second {
		t.Fatalf("fresh segment not sampled: %+v", got)
	}
}

// With timestamps every ACK echoing a TSval is a valid sample (RFC 7323
// §4.1), retransmissions included.
func TestRFC7323_RTTFromTimestamps(t *testing.T) {
	h, r := established(t, nil, fullPeer)
	prev := r.c.Info().SRTT
	r.c.Write(pattern(0, 100), 0)
	r.c.Output()
	s := h.next()
	h.advance(250 * ms)
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 101, flags: wire.FlagACK,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: h.peerTS(), TSEcr: s.opts.TSVal}})
	if in, want := r.c.Info(), (7*prev+250*ms)/8; in.SRTT != want {
		t.Fatalf("SRTT %v after a 250 ms echo, want %v", in.SRTT, want)
	}
}

// RFC 6298 §5.2–5.3: the timer stops when everything is acknowledged and
// restarts (now + RTO) on an ACK of new data.
func TestRFC6298_TimerRestartOnAckStopOnAllAcked(t *testing.T) {
	h, r := established(t, func(c *Config) { c.NoTimestamps = true; c.MinRTO = clock.Second }, plainPeer)
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 200), 0)
	r.c.Output()
	h.next()
	c := h.pcbOf()
	if c.rtoAt != h.now.Add(c.rtt.rto) {
		t.Fatalf("timer not started at send")
	}
	r.c.Write(pattern(200, 100), 0)
	r.c.Output()
	h.next()
	h.advance(500 * ms)
	h.ack(h.iss + 201)
	if c.rtoAt != h.now.Add(c.rtt.rto) {
		t.Fatalf("timer not restarted on a partial ACK: %v, now %v rto %v", c.rtoAt, h.now, c.rtt.rto)
	}
	h.ack(h.iss + 301)
	if c.rtoAt != clock.Never {
		t.Fatalf("timer still running with nothing outstanding")
	}
	h.advance(10 * clock.Second)
	h.expectNothing()
}

// RFC 6298 §5.7: when the SYN was retransmitted (no RTT sample possible),
// the RTO is 3 s once data flows.
func TestRFC6298_ThreeSecondRTOAfterSYNTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.NoTimestamps = true })
	r := h.connectSYN()
	h.advance(clock.Second)
	h.expect(wire.FlagSYN, h.iss, 0)
	h.advance(100 * ms)
	h.inject(pkt{seq: h.irs, ack: h.iss + 1, flags: wire.FlagSYN | wire.FlagACK, opts: wire.TCPOptions{MSS: 1460}})
	h.expect(wire.FlagACK, h.iss+1, h.irs+1)
	if in := r.c.Info(); in.SRTT != 0 || in.RTO != 3*clock.Second {
		t.Fatalf("after a retransmitted SYN: SRTT %v RTO %v, want no sample and 3 s", in.SRTT, in.RTO)
	}
}

// The same on the passive side: a retransmitted SYN-ACK.
func TestRFC6298_ThreeSecondRTOAfterSYNACKTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.NoTimestamps = true })
	h.listen(0)
	h.peerSYN()
	sa := h.next()
	h.advance(clock.Second)
	h.expect(wire.FlagSYN|wire.FlagACK, sa.seq, h.irs+1)
	h.advance(100 * ms)
	h.inject(pkt{seq: h.irs + 1, ack: sa.seq + 1, flags: wire.FlagACK})
	r := h.accepted[0]
	if in := r.c.Info(); in.SRTT != 0 || in.RTO != 3*clock.Second {
		t.Fatalf("after a retransmitted SYN-ACK: SRTT %v RTO %v, want no sample and 3 s", in.SRTT, in.RTO)
	}
}
