package tcp

// Sender-side SACK loss recovery (RFC 6675) and the scoreboard.

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"

	"github.com/lwgo/lwgo/core/wire"
)

// sackPeer offers SACK and window scaling, no timestamps, so that a
// segment carries smss bytes and segAt applies.
var sackPeer = synOpts{mss: 1460, ws: 7, sack: true}

func TestRFC6675ScoreboardMergesAndStaysBounded(t *testing.T) {
	var sb scoreboard
	sb.insert(300, 400)
	sb.insert(100, 200)
	sb.insert(500, 600)
	sb.insert(200, 250) // touches [100,200): merges
	sb.insert(350, 550) // bridges [300,400) and [500,600)
	want := []sackRange{{100, 250}, {300, 600}}
	if got := sb.ranges(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	for i := range 10 { // more disjoint ranges than fit
		sb.insert(wire.Seq(1000+100*i), wire.Seq(1050+100*i))
	}
	if sb.n != maxSACKRanges || sb.r[0] != (sackRange{1400, 1450}) || sb.r[maxSACKRanges-1] != (sackRange{1900, 1950}) {
		t.Fatalf("overflow kept %v, want the highest %d ranges", sb.ranges(), maxSACKRanges)
	}
	sb.insert(50, 60) // lower than all, no room: forgotten
	if sb.r[0] != (sackRange{1400, 1450}) {
		t.Fatalf("a range below a full scoreboard replaced %v", sb.r[0])
	}
	sb.prune(1420)
	if sb.r[0] != (sackRange{1420, 1450}) || sb.sacked(0, 2000) != 30+5*50 {
		t.Fatalf("after prune(1420): %v", sb.ranges())
	}
}

// RFC 6675 §4: IsLost and SetPipe on a scoreboard with two holes.
func TestRFC6675IsLostAndPipe(t *testing.T) {
	const mss = 1000
	var sb scoreboard
	sb.insert(3000, 4000)
	sb.insert(5000, 8000)
	if e := sb.lostEdge(0, mss, dupThresh); e != 5000 {
		t.Fatalf("lost edge %d, want 5000: more than 2·SMSS are SACKed above anything below it", e)
	}
	if !sb.isLost(4000, 0, mss, dupThresh) || sb.isLost(8000, 0, mss, dupThresh) || !sb.isLost(0, 0, mss, dupThresh) {
		t.Fatal("IsLost wrong")
	}
	h := newHarness(t, nil)
	c := &pcb{}
	c.snd.UNA, c.snd.MAX, c.snd.mss = 0, 10000, mss
	c.sack = sb
	c.sack.highRxt = 0
	// Not SACKed: 0–3000, 4000–5000 (lost), 8000–10000 (not lost).
	if p := h.l.pipe(c); p != 2000 {
		t.Fatalf("pipe %d, want 2000", p)
	}
	c.sack.highRxt = 1000 // 0–1000 retransmitted: back in the network
	if p := h.l.pipe(c); p != 3000 {
		t.Fatalf("pipe %d, want 3000", p)
	}
	if s, n := c.sack.nextHole(3000, 10000); s != 4000 || n != 1000 {
		t.Fatalf("next hole from 3000: %d+%d, want 4000+1000", s, n)
	}
	if _, n := c.sack.nextHole(4500, 1000); n != 0 {
		t.Fatalf("a hole beyond the limit: %d bytes, want none", n)
	}
}

// sackBlocks returns SACK options for ranges of segments [from, to).
func sackBlocks(h *harness, blocks ...[2]int) wire.TCPOptions {
	var o wire.TCPOptions
	for i, b := range blocks {
		o.SACK[i] = wire.SACKBlock{Left: segAt(h, b[0]), Right: segAt(h, b[1])}
	}
	o.NumSACK = len(blocks)
	return o
}

// lossyWindow establishes a connection, sends 20 segments, and has the
// peer ACK segments 0–1 (segment 2 lost) then return a duplicate ACK for
// each of segments 3, 4 and 6–19 (segment 5 lost), with its SACK blocks
// when SACK was negotiated. It returns the segments sent meanwhile.
func lossyWindow(t *testing.T, peer synOpts) (*harness, []outSeg) {
	t.Helper()
	h, r := established(t, nil, peer)
	h.pcbOf().cc.Cwnd = 30 * smss
	if err := r.c.Write(pattern(0, 20*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	if n := len(h.drain()); n != 20 {
		t.Fatalf("%d segments in the first window, want 20", n)
	}
	h.ack(segAt(h, 2))
	h.drain()
	for _, top := range []int{4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20} {
		var o wire.TCPOptions
		if top <= 5 {
			o = sackBlocks(h, [2]int{3, top})
		} else {
			o = sackBlocks(h, [2]int{6, top}, [2]int{3, 5})
		}
		if peer.sack {
			h.inject(pkt{seq: h.pnxt, ack: segAt(h, 2), flags: wire.FlagACK, opts: o})
		} else {
			h.ack(segAt(h, 2))
		}
	}
	return h, h.drain()
}

// RFC 6675 §5: with SACK, both holes of one window are retransmitted in
// the same round trip, before any partial acknowledgment; NewReno (no
// SACK) resends only the first and waits for the partial ACK.
func TestRFC6675RecoversTwoHolesInOneRoundTrip(t *testing.T) {
	h, segs := lossyWindow(t, sackPeer)
	var rexmit []wire.Seq
	for _, s := range segs {
		if s.seq.LessThan(segAt(h, 20)) && len(s.data) > 0 {
			rexmit = append(rexmit, s.seq)
		}
	}
	if len(rexmit) != 2 || rexmit[0] != segAt(h, 2) || rexmit[1] != segAt(h, 5) {
		t.Fatalf("retransmitted %v, want segments 2 and 5 (at %d and %d)", rexmit, uint32(segAt(h, 2)), uint32(segAt(h, 5)))
	}
	st := h.l.Stats()
	if st.FastRetransmits != 1 || st.Timeouts != 0 {
		t.Fatalf("fast retransmits %d, timeouts %d", st.FastRetransmits, st.Timeouts)
	}
	// The retransmissions arrive: everything up to the window's end is
	// acknowledged and recovery ends.
	h.ack(segAt(h, 20))
	if c := h.pcbOf(); c.flags&(fInRecovery|fSACKRecovery) != 0 || c.sack.n != 0 {
		t.Fatalf("still in recovery after the full ACK: flags %b, %d ranges", c.flags, c.sack.n)
	}

	h, segs = lossyWindow(t, plainPeer)
	rexmit = rexmit[:0]
	for _, s := range segs {
		if s.seq.LessThan(segAt(h, 20)) && len(s.data) > 0 {
			rexmit = append(rexmit, s.seq)
		}
	}
	if len(rexmit) != 1 || rexmit[0] != segAt(h, 2) {
		t.Fatalf("NewReno retransmitted %v, want segment 2 only", rexmit)
	}
}

// A partial acknowledgment in SACK recovery resends the hole at the new
// SND.UNA even when too little is SACKed above it for IsLost. New data
// waits in the queue, so NextSeg's rule 3 does not send the hole first.
func TestRFC6675PartialAckResendsTheNextHole(t *testing.T) {
	h, r := established(t, nil, sackPeer)
	c := h.pcbOf()
	c.cc.Cwnd = 10 * smss
	if err := r.c.Write(pattern(0, 30*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	if n := len(h.drain()); n != 10 {
		t.Fatalf("%d segments sent, want the window's 10", n)
	}
	// Segments 0 and 7 are lost; 1–6 and 8–9 arrive.
	for top := 2; top <= 7; top++ {
		h.inject(pkt{seq: h.pnxt, ack: segAt(h, 0), flags: wire.FlagACK, opts: sackBlocks(h, [2]int{1, top})})
	}
	for _, top := range []int{9, 10} {
		h.inject(pkt{seq: h.pnxt, ack: segAt(h, 0), flags: wire.FlagACK, opts: sackBlocks(h, [2]int{8, top}, [2]int{1, 7})})
	}
	segs := h.drain()
	if len(segs) == 0 || segs[0].seq != segAt(h, 0) {
		t.Fatalf("segment 0 not retransmitted first: %v", segs)
	}
	for _, s := range segs {
		if s.seq == segAt(h, 7) {
			var at []int
			for _, s := range segs {
				at = append(at, int(s.seq.Sub(segAt(h, 0)))/smss)
			}
			t.Fatalf("segment 7 resent before the partial ACK (segments sent: %v); the test needs it not to be", at)
		}
	}
	// Segment 0's retransmission arrives: the peer ACKs up to the hole
	// at 7, with 8–9 SACKed: 2 segments above it, not enough for IsLost.
	h.inject(pkt{seq: h.pnxt, ack: segAt(h, 7), flags: wire.FlagACK, opts: sackBlocks(h, [2]int{8, 10})})
	s := h.next()
	if s.seq != segAt(h, 7) || len(s.data) != smss {
		t.Fatalf("after the partial ACK: %v, want segment 7 again", s)
	}
	if st := h.l.Stats(); st.Timeouts != 0 || st.FastRetransmits != 1 {
		t.Fatalf("timeouts %d, fast retransmits %d", st.Timeouts, st.FastRetransmits)
	}
}

// RFC 2018 §8: after a retransmission timeout the sender ignores what was
// SACKed (the receiver may have reneged) and resends from SND.UNA.
func TestRFC2018TimeoutForgetsSACKInformation(t *testing.T) {
	h, r := established(t, nil, sackPeer)
	if err := r.c.Write(pattern(0, 4*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	h.drain()
	h.inject(pkt{seq: h.pnxt, ack: segAt(h, 0), flags: wire.FlagACK, opts: sackBlocks(h, [2]int{1, 3})})
	if h.pcbOf().sack.n != 1 {
		t.Fatal("SACK block not recorded")
	}
	// A tail loss probe may go first; step to the RTO.
	for i := 0; h.l.Stats().Timeouts == 0; i++ {
		if i == 1000 {
			t.Fatal("no RTO")
		}
		h.drain()
		h.advance(clock.Millisecond)
	}
	if c := h.pcbOf(); c.sack.n != 0 || c.flags&fSACKRecovery != 0 {
		t.Fatal("scoreboard kept across the RTO")
	}
	s := h.next()
	if s.seq != segAt(h, 0) {
		t.Fatalf("RTO sent %v, want segment 0", s)
	}
}

// SACK blocks the sender cannot take (beyond SND.MAX, at or below the
// cumulative ACK: D-SACK, RFC 2883) leave the scoreboard alone.
func TestRFC6675IgnoresInvalidAndDSACKBlocks(t *testing.T) {
	h, r := established(t, nil, sackPeer)
	if err := r.c.Write(pattern(0, 4*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	h.drain()
	h.ack(segAt(h, 1))
	o := sackBlocks(h, [2]int{0, 1}, [2]int{3, 9}, [2]int{2, 2})
	h.inject(pkt{seq: h.pnxt, ack: segAt(h, 1), flags: wire.FlagACK, opts: o})
	if n := h.pcbOf().sack.n; n != 0 {
		t.Fatalf("%d ranges recorded from a D-SACK, a block beyond SND.MAX and an empty block", n)
	}
}

// In a two-way transfer the peer's ACKs ride on its data, so none is a
// duplicate ACK (RFC 5681 §2); their SACK blocks still show the loss, and
// recovery starts once IsLost(SND.UNA) holds (RFC 6675 §5).
func TestRFC6675DataCarryingACKsStartRecovery(t *testing.T) {
	h, r := established(t, nil, sackPeer)
	if err := r.c.Write(pattern(0, 10*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	h.drain()
	for top := 2; top <= 4; top++ {
		h.inject(pkt{seq: h.pnxt, ack: segAt(h, 0), flags: wire.FlagACK, opts: sackBlocks(h, [2]int{1, top}),
			data: []byte("reply")})
		h.pnxt = h.pnxt.Add(5)
	}
	var rexmit bool
	for _, s := range h.drain() {
		rexmit = rexmit || s.seq == segAt(h, 0) && len(s.data) == smss
	}
	if !rexmit || h.l.Stats().FastRetransmits != 1 || h.l.Stats().DupAcks != 0 {
		t.Fatalf("retransmitted %v, fast retransmits %d, duplicate ACKs %d: want segment 0 resent without duplicate ACKs",
			rexmit, h.l.Stats().FastRetransmits, h.l.Stats().DupAcks)
	}
}

// SACK recovery allocates nothing: a window with one loss, three
// duplicate ACKs with SACK blocks, the retransmission and the full ACK.
func TestNoAllocsSACKRecovery(t *testing.T) {
	h, r := established(t, nil, sackPeer)
	h.out.record = false
	app := &sinkApp{}
	r.c.SetHandler(app)
	r.c.SetNoDelay(true)
	c := h.pcbOf()
	data := pattern(0, 8*smss)
	noAllocs(t, func() {
		c.cc.Cwnd = 16 * smss
		base := c.snd.UNA
		if err := r.c.Write(data, 0); err != nil {
			t.Fatal(err)
		}
		r.c.Output()
		for top := 2; top <= 4; top++ {
			var o wire.TCPOptions
			o.NumSACK = 1
			o.SACK[0] = wire.SACKBlock{Left: base.Add(smss), Right: base.Add(wire.Size(top * smss))}
			h.inject(pkt{seq: h.pnxt, ack: base, flags: wire.FlagACK, opts: o})
		}
		h.inject(pkt{seq: h.pnxt, ack: c.snd.NXT, flags: wire.FlagACK})
	})
	if st := h.l.Stats(); st.FastRetransmits != 1003 || st.Timeouts != 0 {
		t.Fatalf("fast retransmits %d, timeouts %d: want one recovery per run", st.FastRetransmits, st.Timeouts)
	}
	checkInvariants(t, h.l)
}

// RFC 5961 accepts an ACK below SND.UNA; its SACK blocks must not bring
// back what SND.UNA covers.
func TestRFC6675OldACKAddsNothingBelowSNDUNA(t *testing.T) {
	h, r := established(t, nil, sackPeer)
	r.c.Write(pattern(0, 10*smss), 0)
	r.c.Output()
	h.drain()
	h.ack(segAt(h, 4))
	h.inject(pkt{seq: h.pnxt, ack: segAt(h, 2), flags: wire.FlagACK, opts: sackBlocks(h, [2]int{2, 3}, [2]int{3, 6})})
	c := h.pcbOf()
	for _, rg := range c.sack.ranges() {
		if rg.left.LessThan(c.snd.UNA) {
			t.Fatalf("range %v below SND.UNA %d", rg, uint32(c.snd.UNA))
		}
	}
	if c.sack.n != 1 || c.sack.r[0] != (sackRange{segAt(h, 4), segAt(h, 6)}) {
		t.Fatalf("scoreboard %v, want [4,6) only", c.sack.ranges())
	}
}

// RFC 3522 (Eifel) and RFC 4015: a fast retransmit whose original segment
// arrived after all (the ACK echoes the original's older TSval) is undone:
// the window comes back, recovery ends, and DupThresh grows so that the
// same reordering no longer looks like loss. An echo of the retransmission
// itself undoes nothing.
func TestRFC3522_SpuriousFastRetransmitIsUndone(t *testing.T) {
	for _, spurious := range []bool{true, false} {
		h, r := established(t, nil, fullPeer)
		c := h.pcbOf()
		const mss = smss - 12 // timestamps
		at := func(k int) wire.Seq { return h.iss + 1 + wire.Seq(k*mss) }
		c.cc.Cwnd = 20 * mss
		r.c.Write(pattern(0, 10*mss), 0)
		r.c.Output()
		first := h.drain()
		origTS := first[0].opts.TSVal
		cwnd := c.cc.Cwnd
		h.advance(5 * clock.Millisecond)
		for top := 2; top <= 4; top++ {
			o := wire.TCPOptions{HasTimestamps: true, TSVal: h.peerTS(), TSEcr: first[top-1].opts.TSVal, NumSACK: 1}
			o.SACK[0] = wire.SACKBlock{Left: at(1), Right: at(top)}
			h.inject(pkt{seq: h.pnxt, ack: at(0), flags: wire.FlagACK, opts: o})
		}
		rexmit := h.drain()
		if len(rexmit) == 0 || rexmit[0].seq != at(0) || c.flags&fInRecovery == 0 {
			t.Fatalf("no fast retransmit: %v", rexmit)
		}
		echo := rexmit[0].opts.TSVal
		if spurious {
			echo = origTS
		}
		h.inject(pkt{seq: h.pnxt, ack: at(10), flags: wire.FlagACK,
			opts: wire.TCPOptions{HasTimestamps: true, TSVal: h.peerTS(), TSEcr: echo}})
		st := h.l.Stats()
		switch {
		case spurious && (st.SpuriousRecoveries != 1 || c.cc.Cwnd < cwnd || c.sack.reord != 6 || c.flags&fInRecovery != 0):
			t.Fatalf("spurious: undone %d, cwnd %d (was %d), reordering %d", st.SpuriousRecoveries, c.cc.Cwnd, cwnd, c.sack.reord)
		case !spurious && (st.SpuriousRecoveries != 0 || c.cc.Cwnd >= cwnd || c.sack.reord != 0):
			t.Fatalf("genuine loss undone: %d, cwnd %d (was %d), reordering %d", st.SpuriousRecoveries, c.cc.Cwnd, cwnd, c.sack.reord)
		}
		if !spurious {
			continue
		}
		// The same reordering again: three duplicates no longer start
		// recovery (DupThresh is 6 with 10 segments in flight).
		r.c.Write(pattern(0, 10*mss), 0)
		r.c.Output()
		h.drain()
		for top := 12; top <= 14; top++ {
			o := wire.TCPOptions{NumSACK: 1}
			o.SACK[0] = wire.SACKBlock{Left: at(11), Right: at(top)}
			h.inject(pkt{seq: h.pnxt, ack: at(10), flags: wire.FlagACK, opts: o})
		}
		if h.l.Stats().FastRetransmits != 1 || c.flags&fInRecovery != 0 {
			t.Fatal("three duplicates started recovery after reordering was seen")
		}
	}
}

// RFC 4653 §3.1: a grown DupThresh never exceeds two thirds of the flight,
// so a small window still detects a loss.
func TestRFC4653_DupThreshBoundedByTheFlight(t *testing.T) {
	h, r := established(t, nil, sackPeer)
	c := h.pcbOf()
	c.sack.reord = 64
	r.c.Write(pattern(0, 4*smss), 0)
	r.c.Output()
	h.drain()
	if th := c.dupThresh(); th != dupThresh {
		t.Fatalf("DupThresh %d with 4 segments in flight, want %d", th, dupThresh)
	}
	c.cc.Cwnd = 100 * smss
	r.c.Write(pattern(0, 60*smss), 0)
	r.c.Output()
	h.drain()
	if th := c.dupThresh(); th != 42 {
		t.Fatalf("DupThresh %d with 64 segments in flight, want 42", th)
	}
}

// RFC 2883 §4: a duplicate segment is acknowledged at once with a D-SACK
// block, the duplicate range, first; a partly duplicate one reports the
// duplicated part. The block is reported once.
func TestRFC2883_DuplicateDataIsReportedWithDSACK(t *testing.T) {
	h, _ := established(t, nil, sackPeer)
	start := h.pnxt
	h.send(h.iss+1, pattern(0, 1000), 0)
	h.drain()
	h.pnxt = start
	h.send(h.iss+1, pattern(0, 1000), 0) // the same segment again
	s := h.next()
	if s.opts.NumSACK != 1 || s.opts.SACK[0] != (wire.SACKBlock{Left: start, Right: start.Add(1000)}) || s.ack != start.Add(1000) {
		t.Fatalf("ACK of a duplicate: %v, want D-SACK [%d,%d)", s, uint32(start), uint32(start.Add(1000)))
	}
	// Half old, half new: the old half is reported.
	h.pnxt = start.Add(500)
	h.send(h.iss+1, pattern(500, 1000), 0)
	h.advance(h.l.Config().DelayedACK)
	s = h.next()
	if s.opts.NumSACK != 1 || s.opts.SACK[0] != (wire.SACKBlock{Left: start.Add(500), Right: start.Add(1000)}) {
		t.Fatalf("ACK of a partial duplicate: %v, want D-SACK [%d,%d)", s, uint32(start.Add(500)), uint32(start.Add(1000)))
	}
	h.send(h.iss+1, pattern(1500, 1000), 0)
	h.advance(h.l.Config().DelayedACK)
	if s := h.next(); s.opts.NumSACK != 0 {
		t.Fatalf("D-SACK repeated: %v", s)
	}
}
