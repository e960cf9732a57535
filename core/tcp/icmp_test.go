package tcp

// ICMP errors about our segments (RFC 1122 §4.2.3.9, RFC 1191, RFC 5927).

import (
	"testing"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

func (h *harness) icmp(kind ICMPKind, seq wire.Seq, mtu int) bool {
	h.l.SetNow(h.now)
	return h.l.ICMPError(kind, ipA, h.peer, h.lport, h.pport, seq, mtu, 1500)
}

// RFC 1191 §6.4: Fragmentation Needed with a next-hop MTU lowers the MSS
// and resends what is in flight in segments of the new size, at once and
// without reducing the congestion window.
func TestRFC1191_FragNeededLowersMSSAndResends(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	if err := r.c.Write(pattern(0, 3*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	h.drain()
	cwnd := h.pcbOf().cc.Cwnd
	if !h.icmp(ICMPFragNeeded, h.iss+1, 1280) {
		t.Fatal("error not taken")
	}
	const mss = 1280 - 40
	var got []byte
	for _, s := range h.drain() {
		if len(s.data) > mss {
			t.Fatalf("segment of %d bytes after a PMTU of 1280", len(s.data))
		}
		got = append(got, s.data...)
	}
	if string(got) != string(pattern(0, 3*smss)) {
		t.Fatalf("resent %d bytes, want the %d in flight", len(got), 3*smss)
	}
	c := h.pcbOf()
	if c.snd.mss != mss || c.cc.Cwnd != cwnd || h.l.Stats().PMTUUpdates != 1 {
		t.Fatalf("mss %d cwnd %d→%d updates %d", c.snd.mss, cwnd, c.cc.Cwnd, h.l.Stats().PMTUUpdates)
	}
	// A larger MTU later changes nothing (RFC 1191 §6.3: no increase from
	// a Fragmentation Needed message).
	h.icmp(ICMPFragNeeded, c.snd.UNA, 1500)
	if c.snd.mss != mss {
		t.Fatal("MSS raised by an ICMP message")
	}
}

// RFC 1191 §5, §7: a router that gives no MTU gets the plateau below the
// datagram; RFC 5927 §7.2: absurdly small MTUs are floored.
func TestRFC1191_PlateauAndFloor(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.Write(pattern(0, smss), 0)
	r.c.Output()
	h.drain()
	h.icmp(ICMPFragNeeded, h.iss+1, 0) // quoted datagram 1500 B: plateau 1492
	if m := h.pcbOf().snd.mss; m != 1492-40 {
		t.Fatalf("MSS %d, want %d", m, 1492-40)
	}
	h.icmp(ICMPFragNeeded, h.iss+1, 100)
	if m := h.pcbOf().snd.mss; m != minPMTU-40 {
		t.Fatalf("MSS %d after an MTU of 100, want the floor %d", m, minPMTU-40)
	}
}

// RFC 5927 §4.1: an error quoting a sequence number not in flight is
// ignored (forged or stale); so is one for no connection.
func TestRFC5927_ErrorOutsideTheFlightIsIgnored(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.Write(pattern(0, 2*smss), 0)
	r.c.Output()
	h.drain()
	for _, seq := range []wire.Seq{h.iss, h.iss + 1 + 2*smss, h.iss + 100000} {
		if h.icmp(ICMPFragNeeded, seq, 576) {
			t.Fatalf("seq %d: error taken", uint32(seq))
		}
	}
	h.pport++
	if h.icmp(ICMPHard, h.iss+1, 0) {
		t.Fatal("error for no connection taken")
	}
	if c := h.pcbOf(); c != nil {
		t.Fatal("lookup after changing the port")
	}
	h.pport--
	if m := h.pcbOf().snd.mss; m != smss || h.l.Stats().ICMPIgnored != 4 {
		t.Fatalf("MSS %d, ignored %d", m, h.l.Stats().ICMPIgnored)
	}
	h.expectNothing()
}

// RFC 1122 §4.2.3.9: port unreachable (hard) aborts a connection attempt;
// an established connection survives hard and soft errors (RFC 5461 §4.1).
func TestRFC1122_4_2_3_9_HardErrorAbortsOnlyAConnectionAttempt(t *testing.T) {
	h := newHarness(t, nil)
	r := h.connectSYN()
	syn := h.iss
	if !h.icmp(ICMPSoft, syn, 0) || len(r.errs) != 0 {
		t.Fatal("soft error in SYN-SENT: not taken, or the attempt ended")
	}
	if !h.icmp(ICMPHard, syn, 0) {
		t.Fatal("hard error not taken")
	}
	if len(r.errs) != 1 || r.errs[0] != errs.ErrReset {
		t.Fatalf("connection attempt ended with %v, want [ErrReset]", r.errs)
	}

	h, r = established(t, nil, plainPeer)
	r.c.Write(pattern(0, smss), 0)
	r.c.Output()
	h.drain()
	h.icmp(ICMPHard, h.iss+1, 0)
	h.icmp(ICMPSoft, h.iss+1, 0)
	if h.state() != Established || len(r.errs) != 0 {
		t.Fatalf("established connection: state %v, errors %v", h.state(), r.errs)
	}
}
