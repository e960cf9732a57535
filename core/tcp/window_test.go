package tcp

// Nagle, delayed ACKs, silly-window avoidance on both sides, and the
// receive window's right edge.

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

// RFC 9293 §3.7.4 (SHLD-7): a small segment waits while another is
// unacknowledged; the ACK releases the coalesced data; SetNoDelay sends at
// once (MUST-17).
func TestRFC9293_Nagle(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	a := h.iss + 1
	r.c.Write([]byte("a"), 0)
	r.c.Output()
	h.expect(wire.FlagACK|wire.FlagPSH, a, h.irs+1)
	r.c.Write([]byte("b"), 0)
	r.c.Output()
	r.c.Write([]byte("c"), 0)
	r.c.Output()
	h.expectNothing()
	h.ack(a + 1)
	s := h.expect(wire.FlagACK|wire.FlagPSH, a+1, h.irs+1)
	if string(s.data) != "bc" {
		t.Fatalf("released %q, want the coalesced \"bc\"", s.data)
	}
	// Full segments are never held.
	r.c.Write(pattern(0, 2000), 0)
	r.c.Output()
	s = h.expect(wire.FlagACK, a+3, h.irs+1)
	if len(s.data) != 1460 {
		t.Fatalf("full segment %d bytes", len(s.data))
	}
	h.expectNothing() // the 540-byte tail waits
	r.c.SetNoDelay(true)
	r.c.Output()
	s = h.expect(wire.FlagACK|wire.FlagPSH, a+3+1460, h.irs+1)
	if len(s.data) != 540 {
		t.Fatalf("tail %d bytes", len(s.data))
	}
	r.c.Write([]byte("d"), 0)
	r.c.Output()
	h.expect(wire.FlagACK|wire.FlagPSH, a+2003, h.irs+1)
}

// WriteMore withholds PSH; PSH marks the last segment of a write (MUST-61).
func TestRFC9293_PushFlag(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 3000), WriteMore)
	r.c.Output()
	for _, s := range h.drain() {
		if s.flags.Has(wire.FlagPSH) {
			t.Fatalf("PSH with WriteMore: %v", &s)
		}
	}
	h.ack(h.iss + 3001)
	r.c.Write(pattern(0, 3000), 0)
	r.c.Output()
	segs := h.drain()
	for i, s := range segs {
		if s.flags.Has(wire.FlagPSH) != (i == len(segs)-1) {
			t.Fatalf("segment %d of %d: %v", i, len(segs), &s)
		}
	}
}

// Delayed ACK (RFC 9293 §3.8.6.3, MUST-40, SHLD-18/19): one segment is
// acknowledged after the delay, the second full segment at once.
func TestRFC9293_DelayedACK(t *testing.T) {
	h, _ := established(t, nil, plainPeer)
	if d := h.l.cfg.DelayedACK; d <= 0 || d >= 500*ms {
		t.Fatalf("DelayedACK %v, want (0, 500 ms)", d)
	}
	h.send(h.iss+1, pattern(0, 1460), 0)
	h.advance(h.l.cfg.DelayedACK - 1)
	h.expectNothing()
	h.advance(1)
	h.expect(wire.FlagACK, h.iss+1, h.pnxt)
	// Every second full-sized segment at once.
	h.send(h.iss+1, pattern(0, 1460), 0)
	h.expectNothing()
	h.send(h.iss+1, pattern(0, 1460), 0)
	h.expect(wire.FlagACK, h.iss+1, h.pnxt)
	h.advance(clock.Second)
	h.expectNothing()
}

// RFC 5681 §4.2: an out-of-order segment is acknowledged at once (a
// duplicate ACK), and so is the segment that fills the gap.
func TestRFC5681_ImmediateACKOutOfOrderAndGapFill(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	base := h.pnxt
	h.inject(pkt{seq: base + 100, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(100, 100)})
	h.expect(wire.FlagACK, h.iss+1, base)
	h.inject(pkt{seq: base + 300, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(300, 100)})
	h.expect(wire.FlagACK, h.iss+1, base)
	// Partial fill: still a hole at 200.
	h.inject(pkt{seq: base, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 100)})
	h.expect(wire.FlagACK, h.iss+1, base+200)
	h.inject(pkt{seq: base + 200, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(200, 100)})
	h.expect(wire.FlagACK, h.iss+1, base+400)
	if !bytes.Equal(r.got, pattern(0, 400)) {
		t.Fatalf("got %d bytes out of order", len(r.got))
	}
}

// An ACK owed is carried by data sent within the delay (MUST-58).
func TestRFC9293_ACKPiggybacked(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	h.send(h.iss+1, []byte("request"), 0)
	h.advance(10 * ms)
	r.c.Write([]byte("response"), 0)
	r.c.Output()
	h.expect(wire.FlagACK|wire.FlagPSH, h.iss+1, h.pnxt)
	h.ack(h.iss + 9)
	h.advance(clock.Second)
	h.expectNothing()
}

// Receiver SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): a closed window
// reopens only by a useful amount; small Recved calls send nothing.
func TestRFC9293_ReceiverSWSAvoidance(t *testing.T) {
	h, r := established(t, func(c *Config) { c.RcvBuf = 8192 }, plainPeer)
	r.noRecved = true
	for off := 0; off < 8192; off += 1024 {
		h.send(h.iss+1, pattern(off, 1024), 0)
	}
	h.advance(clock.Second)
	var last *outSeg
	for _, s := range h.drain() {
		last = &s
	}
	if last == nil || last.wnd != 0 || last.ack != h.pnxt {
		t.Fatalf("last ACK %v, want a zero window", last)
	}
	// Up to min(RcvBuf/4, 4·MSS) = 2048 consumed: nothing.
	for range 20 {
		r.c.Recved(100)
	}
	r.c.Recved(47)
	h.advance(clock.Second)
	h.expectNothing()
	r.c.Recved(1)
	s := h.expect(wire.FlagACK, h.iss+1, h.pnxt)
	if s.wnd != 2048 {
		t.Fatalf("window update %d, want 2048", s.wnd)
	}
	// A window probe is answered with the current (not silly) window.
	r.c.Recved(200)
	h.inject(pkt{seq: h.pnxt - 1, ack: h.iss + 1, flags: wire.FlagACK})
	if s := h.next(); s.wnd != 2048 {
		t.Fatalf("probe answered with window %d, want 2048 (200 more is too small to announce)", s.wnd)
	}
}

// The right edge we announce never moves left (SHLD-14), whatever the
// interleaving of arrivals and reads, and data up to any edge we announced
// is accepted.
func TestRFC9293_NoWindowShrinking(t *testing.T) {
	for i, o := range []synOpts{plainPeer, {mss: 1460, ws: 7}, fullPeer, {mss: 1460, ws: 7}} {
		rcvBuf := 300_000
		if i == 3 {
			rcvBuf = 3 << 20 // shift 6
		}
		h, r := established(t, func(c *Config) { c.RcvBuf = rcvBuf }, o)
		r.noRecved = true
		rnd := uint32(12345)
		next := func(n uint32) int {
			rnd = rnd*1664525 + 1013904223
			return int(rnd>>8) % int(n)
		}
		maxEdge := h.pnxt + 65535 // the SYN-ACK's window
		scale := r.c.Info().RcvWScale
		if scale < 0 {
			scale = 0
		}
		check := func() {
			t.Helper()
			for _, s := range h.drain() {
				edge := s.ack.Add(wire.Size(uint32(s.wnd) << scale))
				if edge.LessThan(maxEdge) {
					t.Fatalf("%+v: right edge moved left by %d: %v", o, maxEdge.Sub(edge), &s)
				}
				maxEdge = edge
			}
		}
		sent := 0
		for range 3000 {
			switch next(3) {
			case 0, 1:
				// The peer sends up to the largest edge it was offered.
				room := int(maxEdge.Sub(h.pnxt))
				if room <= 0 {
					h.advance(clock.Second) // a probe would come
					check()
					continue
				}
				n := min(room, 1+next(1460))
				h.send(h.iss+1, pattern(sent, n), 0)
				sent += n
			case 2:
				if r.unrecved > 0 {
					n := min(r.unrecved, 1+next(3000))
					r.unrecved -= n
					r.c.Recved(n)
				}
			}
			if next(10) == 0 {
				h.advance(50 * ms)
			}
			check()
		}
		if sent < 500_000 {
			t.Fatalf("%+v: only %d bytes exchanged", o, sent)
		}
		if !bytes.Equal(r.got, pattern(0, sent)) {
			t.Fatalf("%+v: data within announced windows was dropped: got %d of %d bytes", o, len(r.got), sent)
		}
	}
}

// Sender SWS avoidance (RFC 9293 §3.8.6.2.1, MUST-38): a window too small
// for a full segment and under half the largest offered is not used at
// once; with nothing in flight, the override timeout sends what fits.
func TestRFC9293_SenderSWSAvoidance(t *testing.T) {
	h, r := established(t, func(c *Config) { c.MinRTO = clock.Second }, plainPeer)
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 1000), 0)
	r.c.Output()
	h.next()
	h.pwnd = 500
	h.ack(h.iss + 1001) // window 500 of a maximum 65535 seen
	r.c.Write(pattern(1000, 3000), 0)
	r.c.Output()
	h.expectNothing()
	h.advance(clock.Second - 1)
	h.expectNothing()
	h.advance(1)
	s := h.expect(wire.FlagACK, h.iss+1001, h.irs+1)
	if len(s.data) != 500 {
		t.Fatalf("override sent %d bytes, want the 500 the window allows", len(s.data))
	}
	// A window of at least half the maximum is used at once.
	h.pwnd = 40000
	h.ack(h.iss + 1501)
	segs := h.drain()
	n := 0
	for _, s := range segs {
		n += len(s.data)
	}
	if n != 2500 {
		t.Fatalf("sent %d bytes into a large window, want 2500", n)
	}
}

// A peer that shrinks its window (MUST-34): nothing new beyond the new edge
// (SHLD-15); outstanding data is retransmitted as usual.
func TestRFC9293_SenderRobustToShrinkingWindow(t *testing.T) {
	h, r := established(t, func(c *Config) { c.MinRTO = clock.Second }, plainPeer)
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 20000), 0)
	r.c.Output()
	segs := h.drain()
	if len(segs) != 10 {
		t.Fatalf("%d segments", len(segs))
	}
	// ACK of one segment, window shrunk to 1000: the right edge moves from
	// 1+65535 to 1461+1000, inside what is already in flight.
	h.pwnd = 1000
	h.ack(h.iss + 1461)
	h.expectNothing()
	h.advance(clock.Second)
	s := h.next()
	if s.seq != h.iss+1461 {
		t.Fatalf("retransmission %v", s)
	}
	if r.c.State() != Established {
		t.Fatal(r.c.State())
	}
}
