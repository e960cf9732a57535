package loopback

import (
	"testing"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

var (
	macA = wire.MAC{0x02, 0, 0, 0, 0, 1}
	macB = wire.MAC{0x02, 0, 0, 0, 0, 2}
)

// frame allocates an Ethernet frame of n bytes (n >= 14) from p, addressed
// to dst, whose payload bytes all equal tag.
func frame(t testing.TB, p *pbuf.Pool, dst wire.MAC, n int, tag byte) *pbuf.Buf {
	t.Helper()
	b, err := p.Alloc(pbuf.LayerLink, n)
	if err != nil {
		t.Fatalf("Alloc(%d): %v", n, err)
	}
	f := b.Bytes()
	h := wire.EthernetHeader{Dst: dst, Src: macA, Type: wire.EtherTypeIPv4}
	h.Encode(wire.Ethernet(f))
	for i := wire.EthernetHeaderLen; i < n; i++ {
		f[i] = tag
	}
	return b
}

func tagOf(b *pbuf.Buf) byte { return b.Bytes()[wire.EthernetHeaderLen] }

func TestTransmittedFramesComeBackInOrderAsTheSameBufs(t *testing.T) {
	p := pbuf.NewPool(8, 2048)
	d := New(Config{})
	var sent [3]*pbuf.Buf
	for i := range sent {
		sent[i] = frame(t, p, macB, 100, byte(i+1))
	}
	if n := d.Transmit(sent[:]); n != 3 {
		t.Fatalf("Transmit = %d, want 3", n)
	}
	var got [4]*pbuf.Buf
	if n := d.Receive(nil, got[:]); n != 3 {
		t.Fatalf("Receive = %d, want 3", n)
	}
	for i := range sent {
		if got[i] != sent[i] {
			t.Errorf("frame %d: got a different Buf; the loopback must be copy-free", i)
		}
		if tagOf(got[i]) != byte(i+1) {
			t.Errorf("frame %d: tag %d, want %d", i, tagOf(got[i]), i+1)
		}
		got[i].Free()
	}
	if n := d.Receive(nil, got[:]); n != 0 {
		t.Fatalf("Receive on an empty queue = %d, want 0", n)
	}
	if p.Available() != p.Cap() {
		t.Errorf("pool has %d of %d slots free", p.Available(), p.Cap())
	}
	if s := d.Stats(); s.Sent != 3 || s.Delivered != 3 {
		t.Errorf("Stats = %+v, want 3 sent and delivered", s)
	}
}

func TestReceiveReturnsAtMostLenDst(t *testing.T) {
	p := pbuf.NewPool(8, 2048)
	d := New(Config{})
	for i := range 5 {
		d.Transmit([]*pbuf.Buf{frame(t, p, macB, 60, byte(i))})
	}
	var dst [2]*pbuf.Buf
	for _, want := range []int{2, 2, 1, 0} {
		n := d.Receive(nil, dst[:])
		if n != want {
			t.Fatalf("Receive = %d, want %d", n, want)
		}
		for _, b := range dst[:n] {
			b.Free()
		}
	}
}

func TestQueueOverflowFreesAndCountsTheFrame(t *testing.T) {
	p := pbuf.NewPool(8, 2048)
	d := New(Config{QueueLen: 2})
	fs := []*pbuf.Buf{frame(t, p, macB, 60, 1), frame(t, p, macB, 60, 2), frame(t, p, macB, 60, 3)}
	if n := d.Transmit(fs); n != 3 {
		t.Fatalf("Transmit = %d, want 3: the loopback drops, it does not push back", n)
	}
	if s := d.Stats(); s.DroppedFull != 1 || s.Sent != 2 {
		t.Errorf("Stats = %+v, want 1 dropped-full and 2 sent", s)
	}
	if p.Available() != p.Cap()-2 {
		t.Errorf("the dropped frame was not freed: %d slots free, want %d", p.Available(), p.Cap()-2)
	}
	var dst [4]*pbuf.Buf
	n := d.Receive(nil, dst[:])
	if n != 2 || tagOf(dst[0]) != 1 || tagOf(dst[1]) != 2 {
		t.Fatalf("Receive = %d frames, want the first two", n)
	}
	dst[0].Free()
	dst[1].Free()
}

func TestFrameLongerThanMTUIsDropped(t *testing.T) {
	p := pbuf.NewPool(4, 2048)
	d := New(Config{MTU: 576})
	d.Transmit([]*pbuf.Buf{frame(t, p, macB, 576+14, 1), frame(t, p, macB, 576+15, 2)})
	if s := d.Stats(); s.Sent != 1 || s.DroppedOversize != 1 {
		t.Errorf("Stats = %+v, want 1 sent, 1 dropped-oversize", s)
	}
	if d.MTU() != 576 {
		t.Errorf("MTU = %d, want 576", d.MTU())
	}
	d.Discard()
	if p.Available() != p.Cap() {
		t.Errorf("Discard left %d of %d slots free", p.Available(), p.Cap())
	}
}

func TestDefaultsAndCaps(t *testing.T) {
	d := New(Config{MAC: macA})
	if d.MTU() != DefaultMTU || len(d.q) != DefaultQueueLen {
		t.Errorf("MTU %d queue %d, want %d and %d", d.MTU(), len(d.q), DefaultMTU, DefaultQueueLen)
	}
	if !d.Caps().NoARP || d.Caps().RxChecksum || d.Caps().TxChecksumOffload {
		t.Errorf("Caps = %+v, want only NoARP", d.Caps())
	}
	if !d.LinkUp() || d.HardwareAddr() != macA {
		t.Errorf("LinkUp %v MAC %v", d.LinkUp(), d.HardwareAddr())
	}
}

func TestNewPanicsOnNegativeConfig(t *testing.T) {
	for _, c := range []Config{{QueueLen: -1}, {MTU: -1}} {
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

func TestReceivedFramesCarryOnlyTheLinkBroadcastFlag(t *testing.T) {
	p := pbuf.NewPool(4, 2048)
	d := New(Config{})
	u := frame(t, p, macB, 60, 1)
	u.Flags = pbuf.RxIPv4ChecksumOK | pbuf.RxL4ChecksumOK // stale flags must not survive
	bc := frame(t, p, wire.BroadcastMAC, 60, 2)
	mc := frame(t, p, wire.MAC{0x01, 0x00, 0x5e, 0, 0, 1}, 60, 3)
	d.Transmit([]*pbuf.Buf{u, bc, mc})
	var dst [3]*pbuf.Buf
	d.Receive(nil, dst[:])
	want := []pbuf.Flags{0, pbuf.LinkBroadcast, pbuf.LinkBroadcast}
	for i, b := range dst {
		if b.Flags != want[i] {
			t.Errorf("frame %d: Flags %b, want %b", i, b.Flags, want[i])
		}
		b.Free()
	}
}

func TestCopyModeCopiesIntoThePoolArgumentAndFreesTheOriginal(t *testing.T) {
	tx := pbuf.NewPool(4, 2048)
	rx := pbuf.NewPool(4, 2048)
	d := New(Config{Copy: true})
	b := frame(t, tx, macB, 200, 7)
	d.Transmit([]*pbuf.Buf{b})
	var dst [1]*pbuf.Buf
	if d.Receive(rx, dst[:]) != 1 {
		t.Fatal("no frame")
	}
	if dst[0].Pool() != rx || dst[0].Len() != 200 || tagOf(dst[0]) != 7 {
		t.Errorf("copy: pool %p (want %p), len %d, tag %d", dst[0].Pool(), rx, dst[0].Len(), tagOf(dst[0]))
	}
	if tx.Available() != tx.Cap() {
		t.Errorf("original not freed")
	}
	dst[0].Free()
}

func TestCopyModeWithEmptyPoolDropsAndCounts(t *testing.T) {
	tx := pbuf.NewPool(4, 2048)
	rx := pbuf.NewPool(1, 2048)
	hog, _ := rx.Alloc(pbuf.LayerRaw, 10)
	d := New(Config{Copy: true})
	d.Transmit([]*pbuf.Buf{frame(t, tx, macB, 60, 1), frame(t, tx, macB, 60, 2)})
	var dst [2]*pbuf.Buf
	if n := d.Receive(rx, dst[:]); n != 0 {
		t.Fatalf("Receive = %d with an empty pool", n)
	}
	if s := d.Stats(); s.DroppedNoBuf != 2 || s.Delivered != 0 {
		t.Errorf("Stats = %+v, want 2 dropped-nobuf", s)
	}
	hog.Free()
	if tx.Available() != tx.Cap() || rx.Available() != rx.Cap() {
		t.Error("a buffer leaked")
	}
}

func TestTransmitReceiveDoNotAllocate(t *testing.T) {
	for _, copyMode := range []bool{false, true} {
		p := pbuf.NewPool(8, 2048)
		d := New(Config{QueueLen: 4, Copy: copyMode})
		var tx [2]*pbuf.Buf
		var rx [4]*pbuf.Buf
		allocs := testing.AllocsPerRun(1000, func() {
			tx[0], _ = p.Alloc(pbuf.LayerLink, 100)
			tx[1], _ = p.Alloc(pbuf.LayerLink, 100)
			d.Transmit(tx[:])
			n := d.Receive(p, rx[:])
			for _, b := range rx[:n] {
				b.Free()
			}
		})
		if allocs != 0 {
			t.Errorf("Copy=%v: %v allocations per Transmit+Receive, want 0", copyMode, allocs)
		}
		if p.Available() != p.Cap() {
			t.Errorf("Copy=%v: leaked %d slots", copyMode, p.Cap()-p.Available())
		}
	}
}
