package pipe

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// frame allocates an Ethernet frame of n bytes (n >= 14) from p from src to
// dst whose payload bytes count up from tag.
func frame(t testing.TB, p *pbuf.Pool, src, dst wire.MAC, n int, tag byte) *pbuf.Buf {
	t.Helper()
	b, err := p.Alloc(pbuf.LayerLink, n)
	if err != nil {
		t.Fatalf("Alloc(%d): %v", n, err)
	}
	f := b.Bytes()
	h := wire.EthernetHeader{Dst: dst, Src: src, Type: wire.EtherTypeIPv4}
	h.Encode(wire.Ethernet(f))
	for i := wire.EthernetHeaderLen; i < n; i++ {
		f[i] = tag + byte(i)
	}
	return b
}

func send(e *End, bs ...*pbuf.Buf) int { return e.Transmit(bs) }

func recvAll(e *End, p *pbuf.Pool) []*pbuf.Buf {
	var out []*pbuf.Buf
	var dst [4]*pbuf.Buf
	for {
		n := e.Receive(p, dst[:])
		out = append(out, dst[:n]...)
		if n < len(dst) {
			return out
		}
	}
}

func TestFramesCrossToThePeerInBothDirections(t *testing.T) {
	a, b := New(Config{})
	pa, pb := pbuf.NewPool(8, 2048), pbuf.NewPool(8, 2048)

	fa := frame(t, pa, a.HardwareAddr(), b.HardwareAddr(), 1514, 1)
	want := bytes.Clone(fa.Bytes())
	if n := send(a, fa); n != 1 {
		t.Fatalf("Transmit = %d", n)
	}
	if pa.Available() != pa.Cap() {
		t.Error("Transmit did not free the sender's Buf")
	}
	if got := recvAll(a, pa); len(got) != 0 {
		t.Fatalf("a received its own frame")
	}
	got := recvAll(b, pb)
	if len(got) != 1 || !bytes.Equal(got[0].Bytes(), want) {
		t.Fatalf("b received %d frames, or different bytes", len(got))
	}
	if got[0].Pool() != pb {
		t.Error("received Buf is not from the receiver's pool")
	}
	got[0].Free()

	fb := frame(t, pb, b.HardwareAddr(), a.HardwareAddr(), 100, 2)
	want = bytes.Clone(fb.Bytes())
	send(b, fb)
	got = recvAll(a, pa)
	if len(got) != 1 || !bytes.Equal(got[0].Bytes(), want) {
		t.Fatalf("a received %d frames, or different bytes", len(got))
	}
	got[0].Free()

	if s := a.Stats(); s.Sent != 1 || s.SentBytes != 1514 || s.Delivered != 1 || s.DeliveredBytes != 100 {
		t.Errorf("a.Stats = %+v", s)
	}
	if s := b.Stats(); s.Sent != 1 || s.Delivered != 1 {
		t.Errorf("b.Stats = %+v", s)
	}
	if pa.Available() != pa.Cap() || pb.Available() != pb.Cap() {
		t.Error("buffers leaked")
	}
}

func TestFramesArriveInOrderAcrossRingWraparound(t *testing.T) {
	a, b := New(Config{QueueLen: 3})
	pa, pb := pbuf.NewPool(4, 2048), pbuf.NewPool(4, 2048)
	next := byte(0)
	for round := range 20 {
		k := 1 + round%3
		for range k {
			send(a, frame(t, pa, a.mac, b.mac, 64, next))
			next++
		}
		got := recvAll(b, pb)
		if len(got) != k {
			t.Fatalf("round %d: got %d frames, want %d", round, len(got), k)
		}
		for i, f := range got {
			want := next - byte(k-i)
			if f.Bytes()[14] != want+14 {
				t.Fatalf("round %d frame %d: tag %d, want %d", round, i, f.Bytes()[14]-14, want)
			}
			f.Free()
		}
	}
}

func TestFullRingDropsAndCountsOnTheSender(t *testing.T) {
	a, b := New(Config{QueueLen: 2})
	pa, pb := pbuf.NewPool(4, 2048), pbuf.NewPool(4, 2048)
	n := send(a, frame(t, pa, a.mac, b.mac, 60, 1), frame(t, pa, a.mac, b.mac, 60, 2), frame(t, pa, a.mac, b.mac, 60, 3))
	if n != 3 {
		t.Fatalf("Transmit = %d, want 3: the wire drops, it does not push back", n)
	}
	if s := a.Stats(); s.Sent != 2 || s.DroppedFull != 1 {
		t.Errorf("a.Stats = %+v, want 2 sent, 1 dropped-full", s)
	}
	if pa.Available() != pa.Cap() {
		t.Error("the dropped frame was not freed")
	}
	if b.Pending() != 2 {
		t.Errorf("Pending = %d, want 2", b.Pending())
	}
	for _, f := range recvAll(b, pb) {
		f.Free()
	}
}

func TestEmptyPoolDropsTheHeadFrameAndCountsOnTheReceiver(t *testing.T) {
	a, b := New(Config{})
	pa, pb := pbuf.NewPool(4, 2048), pbuf.NewPool(1, 2048)
	send(a, frame(t, pa, a.mac, b.mac, 60, 1), frame(t, pa, a.mac, b.mac, 60, 2))
	hog, _ := pb.Alloc(pbuf.LayerRaw, 1)
	var dst [4]*pbuf.Buf
	if n := b.Receive(pb, dst[:]); n != 0 {
		t.Fatalf("Receive = %d with an empty pool", n)
	}
	if s := b.Stats(); s.DroppedNoBuf != 1 {
		t.Errorf("b.Stats = %+v, want 1 dropped-nobuf", s)
	}
	hog.Free()
	if n := b.Receive(pb, dst[:]); n != 1 || dst[0].Bytes()[14] != 2+14 {
		t.Fatalf("Receive = %d, want the second frame", n)
	}
	dst[0].Free()
}

func TestSlotsTooSmallForTheFrameCountAsNoBuf(t *testing.T) {
	a, b := New(Config{})
	pa, pb := pbuf.NewPool(4, 2048), pbuf.NewPool(4, 128)
	send(a, frame(t, pa, a.mac, b.mac, 1000, 1))
	if got := recvAll(b, pb); len(got) != 0 {
		t.Fatal("a 1000-byte frame fitted a 128-byte slot")
	}
	if s := b.Stats(); s.DroppedNoBuf != 1 {
		t.Errorf("b.Stats = %+v, want 1 dropped-nobuf", s)
	}
}

func TestFramesLongerThanMaxFrameOrPeerMTUAreDropped(t *testing.T) {
	a, b := New(Config{A: EndConfig{MTU: 9000}, B: EndConfig{MTU: 1500}, MaxFrame: 9014})
	pa := pbuf.NewPool(4, 10000)
	pb := pbuf.NewPool(4, 10000)
	if a.MTU() != 9000 || b.MTU() != 1500 {
		t.Fatalf("MTUs %d %d", a.MTU(), b.MTU())
	}
	send(a, frame(t, pa, a.mac, b.mac, 1514, 1), frame(t, pa, a.mac, b.mac, 1515, 2))
	send(b, frame(t, pb, b.mac, a.mac, 9014, 3), frame(t, pb, b.mac, a.mac, 9015, 4))
	if s := a.Stats(); s.Sent != 1 || s.DroppedOversize != 1 {
		t.Errorf("a.Stats = %+v: B's MTU is 1500, so 1515-byte frames must drop", s)
	}
	if s := b.Stats(); s.Sent != 1 || s.DroppedOversize != 1 {
		t.Errorf("b.Stats = %+v: MaxFrame is 9014", s)
	}
	for _, e := range []*End{a, b} {
		for _, f := range recvAll(e, pa) {
			f.Free()
		}
	}
}

func TestShortFramesArePaddedWithZerosTo60Bytes(t *testing.T) {
	a, b := New(Config{})
	pa, pb := pbuf.NewPool(4, 2048), pbuf.NewPool(4, 2048)
	// Dirty the slot first so stale bytes would show.
	send(a, frame(t, pa, a.mac, b.mac, 200, 0xa5))
	for _, f := range recvAll(b, pb) {
		f.Free()
	}
	for range a.tx.lens { // cycle the whole ring
		send(a, frame(t, pa, a.mac, b.mac, 200, 0xa5))
		recvAll(b, pb)[0].Free()
	}
	f := frame(t, pa, a.mac, b.mac, 42, 1)
	want := append(bytes.Clone(f.Bytes()), make([]byte, 18)...)
	send(a, f)
	got := recvAll(b, pb)
	if len(got) != 1 || !bytes.Equal(got[0].Bytes(), want) {
		t.Fatalf("got %x\nwant %x", got[0].Bytes(), want)
	}
	got[0].Free()
	if s := a.Stats(); s.SentBytes != 200*uint64(len(a.tx.lens)+1)+42 {
		t.Errorf("SentBytes = %d counts padding", s.SentBytes)
	}
}

func TestLinkDownLosesFramesInFlightAndRefusesNewOnes(t *testing.T) {
	a, b := New(Config{})
	pa, pb := pbuf.NewPool(4, 2048), pbuf.NewPool(4, 2048)
	send(a, frame(t, pa, a.mac, b.mac, 60, 1))
	send(b, frame(t, pb, b.mac, a.mac, 60, 2), frame(t, pb, b.mac, a.mac, 60, 3))
	b.SetLinkUp(false)
	if a.LinkUp() || b.LinkUp() {
		t.Fatal("link still up on one end")
	}
	if a.Pending() != 0 || b.Pending() != 0 {
		t.Fatal("frames survived the link going down")
	}
	send(a, frame(t, pa, a.mac, b.mac, 60, 4))
	if s := a.Stats(); s.DroppedLinkDown != 2 {
		t.Errorf("a.Stats = %+v, want 2 dropped-linkdown", s)
	}
	if s := b.Stats(); s.DroppedLinkDown != 2 {
		t.Errorf("b.Stats = %+v, want 2 dropped-linkdown", s)
	}
	if pa.Available() != pa.Cap() || pb.Available() != pb.Cap() {
		t.Error("buffers leaked")
	}
	a.SetLinkUp(true)
	send(a, frame(t, pa, a.mac, b.mac, 60, 5))
	got := recvAll(b, pb)
	if !b.LinkUp() || len(got) != 1 {
		t.Fatalf("after link up: LinkUp %v, %d frames", b.LinkUp(), len(got))
	}
	got[0].Free()
}

func TestGroupAddressedFramesAreFlaggedLinkBroadcast(t *testing.T) {
	a, b := New(Config{})
	pa, pb := pbuf.NewPool(4, 2048), pbuf.NewPool(4, 2048)
	send(a, frame(t, pa, a.mac, b.mac, 60, 1), frame(t, pa, a.mac, wire.BroadcastMAC, 60, 2))
	got := recvAll(b, pb)
	if got[0].Flags != 0 || got[1].Flags != pbuf.LinkBroadcast {
		t.Errorf("flags %b %b", got[0].Flags, got[1].Flags)
	}
	got[0].Free()
	got[1].Free()
}

func TestDefaults(t *testing.T) {
	a, b := New(Config{})
	if a.HardwareAddr() != DefaultMACA || b.HardwareAddr() != DefaultMACB {
		t.Errorf("MACs %v %v", a.HardwareAddr(), b.HardwareAddr())
	}
	if a.MTU() != DefaultMTU || b.MTU() != DefaultMTU || a.c.maxFrame != DefaultMTU+14 || len(a.tx.lens) != DefaultQueueLen {
		t.Errorf("MTU %d/%d MaxFrame %d QueueLen %d", a.MTU(), b.MTU(), a.c.maxFrame, len(a.tx.lens))
	}
	if a.Caps() != b.Caps() || a.Caps().NoARP || a.Caps().RxChecksum {
		t.Errorf("Caps %+v", a.Caps())
	}
	if a.Peer() != b || b.Peer() != a || !a.LinkUp() {
		t.Error("Peer or LinkUp wrong")
	}
	m := wire.MAC{0x02, 9, 9, 9, 9, 9}
	c, _ := New(Config{A: EndConfig{MAC: m, MTU: 576}})
	if c.HardwareAddr() != m || c.MTU() != 576 {
		t.Errorf("configured MAC %v MTU %d", c.HardwareAddr(), c.MTU())
	}
}

func TestNewPanicsOnBadConfig(t *testing.T) {
	for _, c := range []Config{{QueueLen: -1}, {MaxFrame: -1}, {MaxFrame: 59}, {A: EndConfig{MTU: -1}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", c)
				}
			}()
			New(c)
		}()
	}
}

func TestTransmitReceiveDoNotAllocate(t *testing.T) {
	a, b := New(Config{QueueLen: 4})
	pa, pb := pbuf.NewPool(8, 2048), pbuf.NewPool(8, 2048)
	var tx [3]*pbuf.Buf
	var rx [4]*pbuf.Buf
	fill := func(p *pbuf.Pool) {
		for i := range tx {
			tx[i], _ = p.Alloc(pbuf.LayerLink, 40+500*i)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		fill(pa)
		a.Transmit(tx[:])
		fill(pb)
		b.Transmit(tx[:])
		for _, e := range [...]*End{a, b} {
			n := e.Receive(pa, rx[:])
			for _, f := range rx[:n] {
				f.Free()
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round, want 0", allocs)
	}
	// Drop paths too: ring full and empty pool.
	hogs := make([]*pbuf.Buf, 0, 8)
	allocs = testing.AllocsPerRun(1000, func() {
		for range 2 {
			fill(pa)
			a.Transmit(tx[:]) // 6 frames into 4 slots
		}
		for range pb.Available() {
			h, _ := pb.Alloc(pbuf.LayerRaw, 1)
			hogs = append(hogs, h)
		}
		b.Receive(pb, rx[:]) // pool empty: drops
		for _, h := range hogs {
			h.Free()
		}
		hogs = hogs[:0]
		n := b.Receive(pb, rx[:])
		for _, f := range rx[:n] {
			f.Free()
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round on the drop paths, want 0", allocs)
	}
	if s := a.Stats(); s.DroppedFull == 0 || b.Stats().DroppedNoBuf == 0 {
		t.Errorf("drop paths not exercised: %+v %+v", s, b.Stats())
	}
}
