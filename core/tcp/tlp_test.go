package tcp

// Tail loss probe (RFC 8985 §7).

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

// tlpConn returns a connection whose smoothed round trip is 10 ms (set
// outright: the handshake's sample is near 0 in virtual time), so the PTO
// is 20 ms, well below the RTO.
func tlpConn(t *testing.T, peer synOpts) (*harness, *rec) {
	t.Helper()
	h, r := established(t, nil, peer)
	c := h.pcbOf()
	c.rtt.srtt = 10 * clock.Millisecond
	if c.rtt.rto < 100*clock.Millisecond {
		t.Fatalf("RTO %v", c.rtt.rto)
	}
	return h, r
}

// RFC 8985 §7.3: when a flight's tail gets no ACK, the probe timeout
// (2·SRTT, well before the RTO) resends the last segment; the ACK that
// answers it ends the episode without an RTO.
func TestRFC8985_TailLossProbeResendsTheLastSegment(t *testing.T) {
	h, r := tlpConn(t, sackPeer)
	base := h.pcbOf().snd.UNA
	r.c.Write(pattern(smss, 3*smss), 0)
	r.c.Output()
	h.drain()
	h.advance(19 * clock.Millisecond)
	h.expectNothing()
	h.advance(2 * clock.Millisecond)
	s := h.next()
	if s.seq != base.Add(2*smss) || len(s.data) != smss {
		t.Fatalf("probe %v, want the last segment (at %d)", s, uint32(base.Add(2*smss)))
	}
	if h.l.Stats().TLPProbes != 1 {
		t.Fatalf("%d probes", h.l.Stats().TLPProbes)
	}
	// Only the last segment was lost; the probe repaired it.
	h.ack(base.Add(3 * smss))
	if st := h.l.Stats(); st.Timeouts != 0 || h.pcbOf().rtoAt != clock.Never {
		t.Fatalf("timeouts %d, timer %v", st.Timeouts, h.pcbOf().rtoAt)
	}
}

// RFC 8985 §7.3: with new data queued that the congestion window holds
// back, the probe sends a segment of it; one probe only, then the RTO.
func TestRFC8985_ProbeSendsNewDataWhenThereIsSome(t *testing.T) {
	h, r := tlpConn(t, sackPeer)
	c := h.pcbOf()
	c.cc.Cwnd = 2 * smss
	r.c.Write(pattern(smss, 4*smss), 0)
	r.c.Output()
	if n := len(h.drain()); n != 2 {
		t.Fatalf("%d segments in a 2-segment window", n)
	}
	next := c.snd.NXT
	h.advance(21 * clock.Millisecond)
	s := h.next()
	if s.seq != next || len(s.data) != smss {
		t.Fatalf("probe %v, want new data at %d", s, uint32(next))
	}
	h.expectNothing()
	h.advance(c.rtt.rto - 21*clock.Millisecond)
	h.expectNothing() // the RTO runs from the probe
	h.advance(22 * clock.Millisecond)
	if s := h.next(); s.seq != c.snd.UNA || h.l.Stats().Timeouts != 1 || h.l.Stats().TLPProbes != 1 {
		t.Fatalf("after the RTO: %v, timeouts %d, probes %d", s, h.l.Stats().Timeouts, h.l.Stats().TLPProbes)
	}
}

// No probe without SACK (its ACK could not show anything), and none when a
// single segment is in flight and 2·SRTT plus the peer's delayed ACK would
// not come before the RTO.
func TestRFC8985_NoProbeWithoutSACKOrBeforeTheRTO(t *testing.T) {
	for _, tc := range []struct {
		name string
		peer synOpts
		segs int
	}{{"no SACK", plainPeer, 3}, {"one segment", sackPeer, 1}} {
		h, r := tlpConn(t, tc.peer)
		c := h.pcbOf()
		r.c.Write(pattern(smss, tc.segs*smss), 0)
		r.c.Output()
		h.drain()
		h.advance(c.rtt.rto - clock.Millisecond)
		h.expectNothing()
		h.advance(2 * clock.Millisecond)
		if s := h.next(); s.seq != c.snd.UNA || h.l.Stats().TLPProbes != 0 || h.l.Stats().Timeouts != 1 {
			t.Fatalf("%s: %v, probes %d, timeouts %d: want the RTO's retransmission", tc.name, s, h.l.Stats().TLPProbes, h.l.Stats().Timeouts)
		}
	}
}

// The probe of a flight that ended with our FIN carries the FIN again.
func TestRFC8985_ProbeRepeatsTheFIN(t *testing.T) {
	h, r := tlpConn(t, sackPeer)
	r.c.Write(pattern(smss, 2*smss), 0)
	r.c.CloseWrite()
	r.c.Output()
	h.drain()
	h.advance(21 * clock.Millisecond)
	s := h.next()
	if !s.flags.Has(wire.FlagFIN) || len(s.data) != smss {
		t.Fatalf("probe %v, want the last segment with the FIN", s)
	}
}

// RFC 8985 §7.4: a whole flight lost, the probe (new data) gets through
// and is SACKed: the data sent a PTO before it is lost, and SACK recovery
// starts at once, not after the RTO.
func TestRFC8985_SACKedProbeShowsTheFlightBeforeItLost(t *testing.T) {
	h, r := tlpConn(t, sackPeer)
	c := h.pcbOf()
	c.cc.Cwnd = 4 * smss
	base := c.snd.UNA
	r.c.Write(pattern(0, 6*smss), 0)
	r.c.Output()
	if n := len(h.drain()); n != 4 {
		t.Fatalf("%d segments, want the window's 4", n)
	}
	h.advance(21 * clock.Millisecond)
	probe := h.next()
	if probe.seq != base.Add(4*smss) {
		t.Fatalf("probe %v, want new data at %d", probe, uint32(base.Add(4*smss)))
	}
	// Segments 0–3 were all lost; the probe arrives.
	o := wire.TCPOptions{NumSACK: 1}
	o.SACK[0] = wire.SACKBlock{Left: probe.seq, Right: probe.end()}
	h.inject(pkt{seq: h.pnxt, ack: base, flags: wire.FlagACK, opts: o})
	s := h.next()
	if s.seq != base || h.l.Stats().FastRetransmits != 1 || h.l.Stats().Timeouts != 0 {
		t.Fatalf("after the SACKed probe: %v, fast retransmits %d, timeouts %d: want segment 0 resent at once",
			s, h.l.Stats().FastRetransmits, h.l.Stats().Timeouts)
	}
}
