package tcp

// Regressions found in review of the loss-recovery work.

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// RFC 3522 detects only that the first retransmission was spurious: with a
// real loss in the same window (segment 10), the recovery is kept and the
// lost segment is retransmitted on its duplicate ACKs, not left to the RTO.
func TestRFC3522_NoUndoWhileAnotherLossIsBeingRepaired(t *testing.T) {
	h, r := established(t, nil, fullPeer)
	c := h.pcbOf()
	const mss = smss - 12
	at := func(k int) wire.Seq { return h.iss + 1 + wire.Seq(k*mss) }
	c.cc.Cwnd = 20 * mss
	r.c.Write(pattern(0, 20*mss), 0)
	r.c.Output()
	first := h.drain()
	origTS := first[0].opts.TSVal
	h.advance(5 * clock.Millisecond)
	for top := 2; top <= 4; top++ { // segment 0 late: three SACKed duplicates
		o := wire.TCPOptions{HasTimestamps: true, TSVal: h.peerTS(), TSEcr: first[top-1].opts.TSVal, NumSACK: 1}
		o.SACK[0] = wire.SACKBlock{Left: at(1), Right: at(top)}
		h.inject(pkt{seq: h.pnxt, ack: at(0), flags: wire.FlagACK, opts: o})
	}
	h.drain()
	// The late original arrives: ACK up to the lost segment 10, with 11
	// already SACKed, echoing the original's TSval.
	o := wire.TCPOptions{HasTimestamps: true, TSVal: h.peerTS(), TSEcr: origTS, NumSACK: 1}
	o.SACK[0] = wire.SACKBlock{Left: at(11), Right: at(12)}
	h.inject(pkt{seq: h.pnxt, ack: at(10), flags: wire.FlagACK, opts: o})
	if h.l.Stats().SpuriousRecoveries != 0 || c.flags&fInRecovery == 0 {
		t.Fatal("recovery undone with segment 10 still missing")
	}
	sent := h.drain() // the partial ACK resends the hole at once
	for top := 13; top <= 20; top++ {
		o := wire.TCPOptions{HasTimestamps: true, TSVal: h.peerTS(), TSEcr: first[top-1].opts.TSVal, NumSACK: 1}
		o.SACK[0] = wire.SACKBlock{Left: at(11), Right: at(top)}
		h.inject(pkt{seq: h.pnxt, ack: at(10), flags: wire.FlagACK, opts: o})
	}
	for _, s := range append(sent, h.drain()...) {
		if s.seq == at(10) && h.l.Stats().Timeouts == 0 {
			return
		}
	}
	t.Fatalf("segment 10 not retransmitted before the RTO (timeouts %d)", h.l.Stats().Timeouts)
}

// A probe timeout that fires after the send point was rewound (a PMTU
// update whose resend found no buffer) does the RTO's work: the
// connection never sits with data outstanding and no timer.
func TestRFC8985_ProbeTimeoutAfterRewindDoesNotStall(t *testing.T) {
	h, r := tlpConn(t, fullPeer)
	c := h.pcbOf()
	r.c.Write(pattern(0, 4000), 0)
	r.c.Output()
	h.drain()
	var held []*pbuf.Buf
	for {
		b, err := h.pool.Alloc(pbuf.LayerIP, 100)
		if err != nil {
			break
		}
		held = append(held, b)
	}
	h.l.ICMPError(ICMPFragNeeded, c.id.local, c.id.remote, c.id.lport, c.id.rport, c.snd.UNA, 1000, 1500)
	for _, b := range held {
		b.Free()
	}
	h.advance(5 * clock.Second)
	if len(h.drain()) == 0 || c.rtoAt == clock.Never {
		t.Fatalf("stalled: nothing resent, timer %v, %d bytes outstanding", c.rtoAt, c.snd.MAX.Sub(c.snd.UNA))
	}
}

// RFC 5927 §7.2: a Fragmentation Needed whose quoted datagram could not
// have been too big (no larger than the MTU it reports, or than any IPv4
// path carries) is forged or broken, and the MSS stays; so does one about
// a handshake segment.
func TestRFC5927_ImplausibleFragNeededIsIgnored(t *testing.T) {
	h, r := established(t, nil, fullPeer)
	c := h.pcbOf()
	r.c.Write(pattern(0, 4000), 0)
	r.c.Output()
	h.drain()
	mss := c.snd.mss
	for _, q := range []struct{ mtu, quoted int }{{0, 60}, {1000, 900}, {0, 552}, {1200, 1200}} {
		if h.l.ICMPError(ICMPFragNeeded, c.id.local, c.id.remote, c.id.lport, c.id.rport, c.snd.UNA+1, q.mtu, q.quoted) {
			t.Fatalf("MTU %d quoting %d bytes: taken", q.mtu, q.quoted)
		}
	}
	if c.snd.mss != mss {
		t.Fatalf("MSS %d, want %d", c.snd.mss, mss)
	}
	h2 := newHarness(t, nil)
	h2.connectSYN()
	c2 := h2.pcbOf()
	if h2.l.ICMPError(ICMPFragNeeded, c2.id.local, c2.id.remote, c2.id.lport, c2.id.rport, h2.iss, 1000, 1500) {
		t.Fatal("Fragmentation Needed taken in SYN-SENT")
	}
}
