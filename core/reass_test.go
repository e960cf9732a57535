package core

// Reassembly (RFC 791, RFC 1122 §3.2.1.4): correctness, the hostile cases
// (duplicates, overlaps, ping of death) and the memory bound.

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// reassRig is a rig with a recorder on UDP port 7 and a UDP message to it.
func reassRig(t *testing.T, cfg Config, dataLen int) (*rig, *[]udpRx, wire.IPv4Header, []byte) {
	r := newRig(t, cfg)
	r.learn(peerMAC, peerIP)
	_, got := r.bindRecorder(netip.Addr{}, 7)
	msg := mkUDP(peerIP, rigIP, 1234, 7, pattern(dataLen, 0x31))
	h := wire.IPv4Header{ID: 0xabcd, Protocol: wire.ProtoUDP, Src: peerIP, Dst: rigIP}
	return r, got, h, msg
}

func TestRFC1122_3_2_1_4_ReassemblesOutOfOrder(t *testing.T) {
	r, got, h, msg := reassRig(t, Config{}, 3000)
	fs := splitFrags(len(msg), 1000) // 4 fragments, the last 8 bytes
	for i, k := range []int{3, 1, 0, 2} {
		r.inject(mkFrag(h, msg, fs[k]))
		if len(*got) != 0 && i < 3 {
			t.Fatalf("delivered after %d fragments", i+1)
		}
	}
	r.expectNone()
	if len(*got) != 1 || !bytes.Equal((*got)[0].data, msg[8:]) {
		t.Fatalf("delivered %d datagrams", len(*got))
	}
	if st := r.s.Stats(); st.IPFrag.Recv != 4 || st.UDP.Recv != 1 || st.IP.Drop != 0 {
		t.Fatalf("frag recv=%d udp recv=%d ip drop=%d", st.IPFrag.Recv, st.UDP.Recv, st.IP.Drop)
	}
	if r.s.reass.busy() {
		t.Fatalf("slot still busy after completion")
	}
	r.checkNoLeak()
}

// Fragments of two datagrams with the same ID from different sources stay
// apart (RFC 791: the key is source, destination, protocol and ID).
func TestReassemblyKeysOnSourceAndID(t *testing.T) {
	r, got, h, msg := reassRig(t, Config{}, 100)
	h2 := h
	h2.Src = otherIP
	msg2 := mkUDP(otherIP, rigIP, 1234, 7, pattern(100, 0x77))
	fs := splitFrags(len(msg), 56)
	r.inject(mkFrag(h, msg, fs[0]), mkFrag(h2, msg2, fs[1]), mkFrag(h2, msg2, fs[0]), mkFrag(h, msg, fs[1]))
	if len(*got) != 2 || !bytes.Equal((*got)[0].data, msg2[8:]) || !bytes.Equal((*got)[1].data, msg[8:]) {
		t.Fatalf("delivered %d datagrams, wrong or mixed", len(*got))
	}
	if (*got)[0].src.Addr() != netip.AddrFrom4(otherIP) {
		t.Fatalf("first from %v", (*got)[0].src)
	}
	r.checkNoLeak()
}

func TestReassemblyExactDuplicateIgnored(t *testing.T) {
	r, got, h, msg := reassRig(t, Config{}, 2000)
	fs := splitFrags(len(msg), 512)
	r.inject(mkFrag(h, msg, fs[0]), mkFrag(h, msg, fs[0]), mkFrag(h, msg, fs[2]), mkFrag(h, msg, fs[2]))
	r.inject(mkFrag(h, msg, fs[1]), mkFrag(h, msg, fs[3]))
	if len(*got) != 1 || !bytes.Equal((*got)[0].data, msg[8:]) {
		t.Fatalf("delivered %d", len(*got))
	}
	if st := r.s.Stats(); st.IPDrop.ReassDup != 2 || st.IPDrop.ReassOverlap != 0 {
		t.Fatalf("reass_dup=%d overlap=%d", st.IPDrop.ReassDup, st.IPDrop.ReassOverlap)
	}
	r.checkNoLeak()
}

func TestReassemblyPartialOverlapDropsDatagram(t *testing.T) {
	r, got, h, msg := reassRig(t, Config{}, 40)
	// [0,24) then [16,48): 8 bytes overlap. The datagram is dropped whole.
	r.inject(mkFrag(h, msg, frag{0, 24, true}), mkFrag(h, msg, frag{16, 32, false}))
	if st := r.s.Stats(); st.IPDrop.ReassOverlap != 1 {
		t.Fatalf("reass_overlap=%d", st.IPDrop.ReassOverlap)
	}
	if r.s.reass.busy() {
		t.Fatalf("datagram kept after an overlap")
	}
	// The missing piece alone now starts a new datagram that never completes.
	r.inject(mkFrag(h, msg, frag{24, 24, false}))
	if len(*got) != 0 {
		t.Fatalf("delivered a datagram assembled across an overlap")
	}
	r.advanceBy(r.s.cfg.ReassTimeout+2*clock.Second, clock.Second)
	r.expectNone() // fragment 0 was dropped with the datagram: no Time Exceeded
	r.checkNoLeak()
}

func TestReassemblyConflictingDuplicateDropsDatagram(t *testing.T) {
	r, got, h, msg := reassRig(t, Config{}, 40)
	evil := bytes.Clone(msg)
	evil[10] ^= 0xff
	r.inject(mkFrag(h, msg, frag{0, 16, true}), mkFrag(h, evil, frag{0, 16, true}))
	if st := r.s.Stats(); st.IPDrop.ReassOverlap != 1 || st.IPDrop.ReassDup != 0 {
		t.Fatalf("reass_overlap=%d dup=%d", st.IPDrop.ReassOverlap, st.IPDrop.ReassDup)
	}
	r.inject(mkFrag(h, msg, frag{16, 32, false}))
	if len(*got) != 0 {
		t.Fatalf("delivered after conflicting duplicates")
	}
	// A last fragment that moves the end of a datagram also drops it.
	h.ID++
	r.inject(mkFrag(h, msg, frag{16, 32, false}), mkFrag(h, msg, frag{16, 24, false}))
	if st := r.s.Stats(); st.IPDrop.ReassOverlap != 2 {
		t.Fatalf("conflicting ends: reass_overlap=%d", st.IPDrop.ReassOverlap)
	}
	r.advanceBy(r.s.cfg.ReassTimeout+2*clock.Second, clock.Second)
	r.checkNoLeak()
}

func TestReassemblyPingOfDeathDropped(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	h := wire.IPv4Header{ID: 1, Protocol: wire.ProtoICMP, Src: peerIP, Dst: rigIP}
	body := pattern(65600, 1)
	// The largest offset (65528) with 16 bytes: the datagram would be 65564.
	r.inject(mkFrag(h, body, frag{65528, 16, false}))
	// Offset 65512 with 24 bytes and MF: still beyond 65535.
	r.inject(mkFrag(h, body, frag{65512, 24, true}))
	st := r.s.Stats()
	if st.IPDrop.BadFragment != 2 || st.IPFrag.ProtErr != 2 {
		t.Fatalf("badfrag=%d frag proterr=%d", st.IPDrop.BadFragment, st.IPFrag.ProtErr)
	}
	if r.s.reass.busy() || r.s.reassPool.Available() != r.s.reassPool.Cap() {
		t.Fatalf("a ping-of-death fragment took a reassembly slot")
	}
	// Exactly 65535 is legal: accepted as a fragment.
	r.inject(mkFrag(h, body, frag{65504, 11, false}))
	if st := r.s.Stats(); st.IPDrop.BadFragment != 2 || !r.s.reass.busy() {
		t.Fatalf("a fragment ending at 65535 was refused (badfrag=%d)", st.IPDrop.BadFragment)
	}
	r.advanceBy(r.s.cfg.ReassTimeout+2*clock.Second, clock.Second)
	r.expectNone()
	r.checkNoLeak()
}

func TestReassemblyNonFinalFragmentNotMultipleOf8Dropped(t *testing.T) {
	r, _, h, msg := reassRig(t, Config{}, 100)
	r.inject(mkFrag(h, msg, frag{0, 12, true}), mkFrag(h, msg, frag{8, 0, true}))
	st := r.s.Stats()
	if st.IPDrop.BadFragment != 2 {
		t.Fatalf("badfrag=%d, want 2", st.IPDrop.BadFragment)
	}
	if r.s.reass.busy() {
		t.Fatalf("bad fragment took a slot")
	}
	// The final fragment may have any length.
	r.inject(mkFrag(h, msg, frag{8, 13, false}))
	if st := r.s.Stats(); st.IPDrop.BadFragment != 2 {
		t.Fatalf("final fragment of 13 bytes refused")
	}
}

func TestReassemblyMaxSize(t *testing.T) {
	// ReassMaxSize 1000: a datagram of 1000 bytes (980 of payload) passes,
	// one of 1008 does not.
	r, got, h, msg := reassRig(t, Config{ReassMaxSize: 1000}, 980-8)
	r.inject(mkFrag(h, msg, frag{0, 512, true}), mkFrag(h, msg, frag{512, len(msg) - 512, false}))
	if len(*got) != 1 || !bytes.Equal((*got)[0].data, msg[8:]) {
		t.Fatalf("datagram at the limit not delivered")
	}
	big := mkUDP(peerIP, rigIP, 1234, 7, pattern(988-8, 2))
	h.ID++
	r.inject(mkFrag(h, big, frag{0, 512, true}), mkFrag(h, big, frag{512, len(big) - 512, false}))
	if len(*got) != 1 {
		t.Fatalf("datagram beyond ReassMaxSize delivered")
	}
	if st := r.s.Stats(); st.IPDrop.ReassTooBig != 1 {
		t.Fatalf("reass_toobig=%d", st.IPDrop.ReassTooBig)
	}
	if r.s.reass.busy() {
		t.Fatalf("oversized datagram kept its slot")
	}
	r.checkNoLeak()
}

func TestRFC1122_3_2_1_4_ReassemblyTimeoutSendsTimeExceeded(t *testing.T) {
	r, got, h, msg := reassRig(t, Config{ReassTimeout: 15 * clock.Second}, 100)
	f0 := mkFrag(h, msg, frag{0, 64, true})
	r.inject(f0)
	r.advanceBy(14*clock.Second, clock.Second)
	r.expectNone()
	if !r.s.reass.busy() || r.s.Poll(r.now()) != r.s.nextTick {
		t.Fatalf("partial datagram gone early, or Poll does not ask to be called for the timer")
	}
	r.advanceBy(2*clock.Second, clock.Second)
	d := decode(t, r.expectOne())
	if d.ip.Src() != rigIP || d.ip.Dst() != peerIP || d.eth.Dst() != peerMAC {
		t.Fatalf("time exceeded %s", describe(d.eth))
	}
	if d.icmp.Type() != wire.ICMPv4TimeExceeded || d.icmp.Code() != wire.ICMPv4ReassExceeded {
		t.Fatalf("type %d code %d, want 11/1", d.icmp.Type(), d.icmp.Code())
	}
	// The quote is fragment 0's header and its first 8 data bytes.
	want := f0[wire.EthernetHeaderLen : wire.EthernetHeaderLen+28]
	if !bytes.Equal(d.icmp.Payload(), want) {
		t.Fatalf("quote\n got % x\nwant % x", d.icmp.Payload(), want)
	}
	if st := r.s.Stats(); st.IPDrop.ReassTimeout != 1 || st.ICMPEx.TimeExceeded != 1 {
		t.Fatalf("reass_timeout=%d timeexceeded=%d", st.IPDrop.ReassTimeout, st.ICMPEx.TimeExceeded)
	}
	// The rest arriving late starts over and never completes on its own.
	r.inject(mkFrag(h, msg, frag{64, len(msg) - 64, false}))
	if len(*got) != 0 {
		t.Fatalf("delivered after the timeout")
	}
	if r.s.Poll(r.now()) == clock.Never {
		t.Fatalf("Poll returns Never with a partial datagram pending")
	}
	r.advanceBy(16*clock.Second, clock.Second)
	r.expectNone() // no fragment 0 this time
	r.checkNoLeak()
}

// When every slot is busy, a new datagram evicts the oldest (lwIP
// ip_reass_remove_oldest_datagram; the ReassEvicted counter).
func TestReassemblyEvictsOldestWhenSlotsBusy(t *testing.T) {
	r, got, h, _ := reassRig(t, Config{ReassMaxDatagrams: 2}, 100)
	msgs := map[uint16][]byte{}
	for _, id := range []uint16{1, 2, 3} {
		msgs[id] = mkUDP(peerIP, rigIP, 1234, 7, pattern(100, byte(id)))
		h.ID = id
		r.inject(mkFrag(h, msgs[id], frag{0, 56, true}))
		r.clk.Advance(clock.Millisecond)
	}
	st := r.s.Stats()
	if st.IPDrop.ReassEvicted != 1 || st.IPDrop.ReassNoBuf != 0 {
		t.Errorf("third datagram: reass_evicted=%d reass_nobuf=%d; want the oldest evicted, not the newest refused",
			st.IPDrop.ReassEvicted, st.IPDrop.ReassNoBuf)
	}
	for _, id := range []uint16{3, 2, 1} {
		h.ID = id
		r.inject(mkFrag(h, msgs[id], frag{56, 52, false}))
	}
	var ids []byte
	for _, g := range *got {
		ids = append(ids, g.data[0]-0x00) // pattern(…, id) starts with id
	}
	if !bytes.Equal(ids, []byte{3, 2}) {
		t.Errorf("delivered datagrams %v, want [3 2] (1 evicted)", ids)
	}
	r.advanceBy(r.s.cfg.ReassTimeout+2*clock.Second, clock.Second)
	r.sent()
	r.checkNoLeak()
}

// A flood of first fragments from many IDs holds at most ReassMaxDatagrams
// reassembly buffers and no packet buffer; every buffer returns once the
// timers expire.
func TestReassemblyFloodIsBounded(t *testing.T) {
	const ids = 600
	r, _, h, msg := reassRig(t, Config{ReassMaxDatagrams: 4}, 1000)
	fs := splitFrags(len(msg), 256)
	for i := range ids {
		h.ID = uint16(i)
		h.Src = wire.IPv4Addr{10, 0, 0, byte(2 + i%200)}
		m := mkUDP(h.Src, rigIP, 1234, 7, pattern(1000, byte(i)))
		r.inject(mkFrag(h, m, fs[i%(len(fs)-1)]))
		if i%7 == 0 {
			r.clk.Advance(10 * clock.Millisecond)
		}
		if a := r.s.reassPool.Available(); a < 0 || a > r.s.reassPool.Cap() {
			t.Fatalf("reassembly pool has %d of %d free", a, r.s.reassPool.Cap())
		}
		if a := r.s.pool.Available(); a != r.s.pool.Cap() {
			t.Fatalf("fragment %d: %d packet buffers held", i, r.s.pool.Cap()-a)
		}
		busy := 0
		for _, sl := range r.s.reass.slots {
			if sl.used {
				busy++
			}
		}
		if busy > 4 {
			t.Fatalf("%d datagrams under reassembly, limit 4", busy)
		}
	}
	r.drainTimers()
	r.sent()
	st := r.s.Stats()
	// Each datagram was started (then timed out or evicted) or refused.
	if n := st.IPDrop.ReassTimeout + st.IPDrop.ReassEvicted + st.IPDrop.ReassNoBuf; n != ids {
		t.Errorf("timeout %d + evicted %d + nobuf %d = %d, want %d", st.IPDrop.ReassTimeout,
			st.IPDrop.ReassEvicted, st.IPDrop.ReassNoBuf, n, ids)
	}
	r.checkNoLeak()
}

// A reassembled datagram held by the application keeps its reassembly
// buffer; new datagrams are refused (counted), never overrun.
func TestReassemblyBufferHeldByApplication(t *testing.T) {
	r := newRig(t, Config{ReassMaxDatagrams: 1})
	r.learn(peerMAC, peerIP)
	u, err := r.s.NewUDP()
	if err != nil {
		t.Fatal(err)
	}
	u.Bind(netip.Addr{}, 7)
	var held []*pbuf.Buf
	u.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) { held = append(held, p) })
	h := wire.IPv4Header{ID: 1, Protocol: wire.ProtoUDP, Src: peerIP, Dst: rigIP}
	msg := mkUDP(peerIP, rigIP, 1, 7, pattern(100, 4))
	fs := splitFrags(len(msg), 56)
	r.inject(mkFrag(h, msg, fs[0]), mkFrag(h, msg, fs[1]))
	if len(held) != 1 || held[0].Pool() != r.s.reassPool || r.s.reassPool.Available() != 0 {
		t.Fatalf("held %d; reassembly pool %d free", len(held), r.s.reassPool.Available())
	}
	h.ID = 2
	r.inject(mkFrag(h, msg, fs[0]), mkFrag(h, msg, fs[1]))
	if len(held) != 1 || r.s.Stats().IPDrop.ReassNoBuf != 2 {
		t.Fatalf("held %d, reass_nobuf=%d", len(held), r.s.Stats().IPDrop.ReassNoBuf)
	}
	held[0].Free()
	h.ID = 3
	r.inject(mkFrag(h, msg, fs[0]), mkFrag(h, msg, fs[1]))
	if len(held) != 2 {
		t.Fatalf("no delivery after the buffer came back")
	}
	held[1].Free()
	r.expectNone()
	r.checkNoLeak()
}

// RFC 1122 §3.2.2: no ICMP error about a datagram sent as a link-layer
// broadcast, also when the error is the reassembly Time Exceeded.
func TestRFC1122_3_2_2_NoTimeExceededForLinkBroadcastFragment(t *testing.T) {
	r, _, h, msg := reassRig(t, Config{}, 100)
	f0 := mkFrag(h, msg, frag{0, 64, true})
	copy(f0, wire.BroadcastMAC[:])
	r.inject(f0)
	r.advanceBy(r.s.cfg.ReassTimeout+2*clock.Second, clock.Second)
	r.expectNone()
	if st := r.s.Stats(); st.ICMPEx.Suppressed != 1 {
		t.Fatalf("suppressed=%d", st.ICMPEx.Suppressed)
	}
}
