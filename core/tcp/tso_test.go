package tcp

// TCP segmentation offload: with a route whose device segments (Route.TSOMax)
// the engine sends super-segments of whole MSS, with partial checksums, and
// otherwise exactly the segments it would send without TSO. And receive
// batches (BeginBatch/EndBatch): one ACK for a burst, but a duplicate ACK for
// every out-of-order segment.

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

const tsoSlot = 64<<10 + 128

// tsoHarness returns a harness whose route offers TSO and checksum offload
// (when tso) with a GSO pool of bufs buffers, and a connection accepted from a
// peer offering o.
func tsoHarness(t *testing.T, tso bool, bufs int, mod func(*Config), o synOpts) (*harness, *rec, *pbuf.Pool) {
	t.Helper()
	h := newHarness(t, mod)
	var gso *pbuf.Pool
	if tso {
		h.out.tsoMax, h.out.txCsum = 65535, true
		gso = pbuf.NewPool(bufs, tsoSlot)
		h.l.SetGSOPool(gso)
	}
	h.po = o
	return h, h.acceptConn(), gso
}

// TestTSOSuperSegmentsCarryWholeMSS: the initial window (10 MSS, RFC 6928)
// leaves as one super-segment with GSOSize = MSS and a partial checksum;
// after its ACK the grown window leaves as one again.
func TestTSOSuperSegmentsCarryWholeMSS(t *testing.T) {
	h, r, gso := tsoHarness(t, true, 4, nil, plainPeer)
	h.pwnd = 65535
	data := pattern(0, 200*smss)
	n := min(r.c.SendBuffer(), len(data))
	if err := r.c.Write(data[:n], 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	s := h.next()
	if s.gso != smss || !s.partial || len(s.data) != 10*smss || s.seq != h.iss+1 {
		t.Fatalf("first flight: %v gso %d partial %v, want one super-segment of 10×%d", s, s.gso, s.partial, smss)
	}
	if !bytes.Equal(s.data, data[:10*smss]) {
		t.Fatal("super-segment payload differs from what was written")
	}
	h.expectNothing()
	h.ack(s.end())
	// One ACK for 10 MSS grows cwnd by 2 MSS in slow start (RFC 3465
	// §2.2, L = 2·SMSS): 12 MSS leave, within the peer's 65535 bytes.
	s = h.next()
	if s.gso != smss || len(s.data) != 12*smss {
		t.Fatalf("second flight: %v, want 12×%d", s, smss)
	}
	h.drain()
	if gso.Available() != gso.Cap() {
		t.Fatalf("GSO pool: %d of %d free after the device took the frames", gso.Available(), gso.Cap())
	}
	checkInvariants(t, h.l)
}

// TestTSOLargestDatagramIsCapped: with a huge window the super-segment is
// the most whole MSS that fit a 65535-byte datagram with the largest
// headers.
func TestTSOLargestDatagramIsCapped(t *testing.T) {
	h, r, _ := tsoHarness(t, true, 4, nil, fullPeer)
	h.pcbOf().cc.Cwnd = 1 << 20
	data := pattern(0, 100*smss)
	if err := r.c.Write(data[:min(r.c.SendBuffer(), len(data))], 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	mss := smss - 12 // timestamps
	want := (65535 - wire.IPv4MinHeaderLen - wire.TCPMaxHeaderLen) / mss * mss
	s := h.next()
	if int(s.gso) != mss || len(s.data) != want {
		t.Fatalf("%v gso %d, want %d bytes in segments of %d", s, s.gso, want, mss)
	}
	if wire.IPv4MinHeaderLen+wire.TCPMinHeaderLen+s.opts.Len()+len(s.data) > 65535 {
		t.Fatal("datagram over 65535 bytes")
	}
}

// TestTSONagleHoldsThePartialTail (RFC 9293 §3.7.4): 2.5 MSS written with
// nothing in flight go out as 2 MSS, the half segment waiting for the ACK,
// as without TSO; with Nagle off the whole 2.5 MSS leave at once.
func TestTSONagleHoldsThePartialTail(t *testing.T) {
	for _, noDelay := range []bool{false, true} {
		h, r, _ := tsoHarness(t, true, 4, nil, plainPeer)
		r.c.SetNoDelay(noDelay)
		data := pattern(0, 5*smss/2)
		if err := r.c.Write(data, 0); err != nil {
			t.Fatal(err)
		}
		r.c.Output()
		s := h.next()
		if !noDelay {
			if len(s.data) != 2*smss || s.gso != smss {
				t.Fatalf("Nagle on: %v, want 2 MSS", s)
			}
			h.expectNothing()
			h.ack(s.end())
			s = h.next()
			if len(s.data) != smss/2 || s.gso != 0 {
				t.Fatalf("after the ACK: %v, want the half segment alone", s)
			}
		} else if len(s.data) != len(data) || s.gso != smss {
			t.Fatalf("Nagle off: %v, want all 2.5 MSS in one super-segment", s)
		}
		h.expectNothing()
	}
}

// TestTSOWithoutGSOBuffersSendsPlainSegments: with the GSO pool empty the
// engine sends MSS segments (still checksum-partial), not nothing.
func TestTSOWithoutGSOBuffersSendsPlainSegments(t *testing.T) {
	h, r, gso := tsoHarness(t, true, 1, nil, plainPeer)
	held, err := gso.Alloc(pbuf.LayerRaw, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.c.Write(pattern(0, 4*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	segs := h.drain()
	if len(segs) != 4 {
		t.Fatalf("%d segments, want 4", len(segs))
	}
	for _, s := range segs {
		if s.gso != 0 || len(s.data) != smss || !s.partial {
			t.Fatalf("%v gso %d partial %v", &s, s.gso, s.partial)
		}
	}
	held.Free()
	if h.l.Stats().MemErr != 0 {
		t.Fatal("MemErr counted: the engine should not have tried the GSO pool")
	}
}

// TestTSORouteWithoutOffloadIsUnchanged: no TSO offered, no GSO pool: MSS
// segments with full checksums.
func TestTSORouteWithoutOffloadIsUnchanged(t *testing.T) {
	h, r, _ := tsoHarness(t, false, 0, nil, plainPeer)
	if err := r.c.Write(pattern(0, 3*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	for _, s := range h.drain() {
		if s.gso != 0 || s.partial || len(s.data) != smss {
			t.Fatalf("%v gso %d partial %v", &s, s.gso, s.partial)
		}
	}
}

// TestTSORetransmissionAfterRTO: after an RTO the lost super-segment's data
// is sent again from snd.UNA, one MSS first (cwnd 1 MSS, RFC 5681 §3.1).
func TestTSORetransmissionAfterRTO(t *testing.T) {
	h, r, _ := tsoHarness(t, true, 4, nil, plainPeer)
	data := pattern(0, 10*smss)
	if err := r.c.Write(data, 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	first := h.next()
	h.advance(h.pcbOf().rtt.rto + 1)
	s := h.next()
	if s.seq != first.seq || len(s.data) != smss || !bytes.Equal(s.data, data[:smss]) {
		t.Fatalf("retransmission %v, want the first MSS again", s)
	}
}

// TestNoAllocsTSOBulkSend: Write + Output + the peer's ACK with TSO.
func TestNoAllocsTSOBulkSend(t *testing.T) {
	h, r, _ := tsoHarness(t, true, 4, nil, plainPeer)
	h.out.record = false
	app := &sinkApp{}
	r.c.SetHandler(app)
	c := h.pcbOf()
	data := pattern(0, 8*smss)
	ack := h.template(pkt{flags: wire.FlagACK})
	noAllocs(t, func() {
		if err := r.c.Write(data, 0); err != nil {
			t.Fatal(err)
		}
		r.c.Output()
		h.injectTemplate(ack, h.pnxt, c.snd.NXT)
	})
	if app.sent != 1003*len(data) || h.l.Stats().TSOSegs == 0 {
		t.Fatalf("sent %d, TSO segments %d", app.sent, h.l.Stats().TSOSegs)
	}
	checkInvariants(t, h.l)
}

// TestBatchAcksABurstOnce: eight full segments in one receive batch get
// one ACK, at EndBatch, for all of them; outside a batch they get one
// every second segment (RFC 9293 §3.8.6.3).
func TestBatchAcksABurstOnce(t *testing.T) {
	for _, batch := range []bool{true, false} {
		h, _ := established(t, nil, plainPeer)
		if batch {
			h.l.BeginBatch()
		}
		for i := range 8 {
			h.send(h.iss+1, pattern(i*smss, smss), 0)
		}
		if batch {
			h.expectNothing()
			h.l.EndBatch()
			h.expect(wire.FlagACK, h.iss+1, h.pnxt)
			h.expectNothing()
			continue
		}
		if segs := h.drain(); len(segs) != 4 || segs[3].ack != h.pnxt {
			t.Fatalf("without a batch: %d ACKs, want 4", len(segs))
		}
	}
}

// TestBatchStillDupAcksEveryOutOfOrderSegment: inside a batch, each segment
// beyond a hole is answered at once with a duplicate ACK (RFC 5681 §4.2),
// so that the sender's fast retransmit works; the hole's repair ends the
// duplicates and the cumulative ACK waits for EndBatch.
func TestBatchStillDupAcksEveryOutOfOrderSegment(t *testing.T) {
	h, _ := established(t, nil, fullPeer)
	base := h.pnxt
	h.l.BeginBatch()
	h.send(h.iss+1, pattern(0, smss), 0)
	h.pnxt = base.Add(2 * smss) // segment 1 is lost
	for i := 2; i < 5; i++ {
		h.send(h.iss+1, pattern(i*smss, smss), 0)
	}
	for range 3 {
		s := h.expect(wire.FlagACK, h.iss+1, base.Add(smss))
		if s.opts.NumSACK == 0 {
			t.Fatalf("duplicate ACK without SACK: %v", s)
		}
	}
	h.expectNothing()
	h.inject(pkt{seq: base.Add(smss), ack: h.iss + 1, flags: wire.FlagACK, data: pattern(smss, smss)})
	h.l.EndBatch()
	h.expect(wire.FlagACK, h.iss+1, base.Add(5*smss))
	h.expectNothing()
}

// A route that no longer takes super-segments (ErrIf from the IP layer)
// turns TSO off for the connection: the refused data comes back with the
// RTO in plain segments, and so does everything after it.
func TestTSORouteLosingTSOFallsBackToPlainSegments(t *testing.T) {
	h, r, _ := tsoHarness(t, true, 4, nil, plainPeer)
	h.out.noGSO = true
	if err := r.c.Write(pattern(0, 10*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	h.expectNothing()
	if h.pcbOf().snd.tsoMax != 0 {
		t.Fatal("TSO still on after ErrIf")
	}
	h.advance(h.pcbOf().rtt.rto + 1)
	s := h.next()
	if s.gso != 0 || len(s.data) != smss || s.seq != h.iss+1 {
		t.Fatalf("after the RTO: %v gso %d, want a plain first segment", s, s.gso)
	}
}

// A segment larger than our MSS (a device's GRO merged a burst) counts as
// several full segments: it is acknowledged at once, not after the
// delayed-ACK timer (RFC 9293 §3.8.6.3: at least every second full-sized
// segment).
func TestCoalescedSegmentIsAcknowledgedAtOnce(t *testing.T) {
	h, _ := established(t, nil, plainPeer)
	h.send(h.iss+1, pattern(0, 1900), 0) // more than the 1460-byte MSS (the harness's slots hold no more)
	s := h.next()
	if s.ack != h.pnxt {
		t.Fatalf("ACK %v, want one for the coalesced segment at once", s)
	}
	h.send(h.iss+1, pattern(0, smss), 0)
	h.expectNothing() // one full segment: delayed as usual
}
