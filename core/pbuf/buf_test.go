package pbuf_test

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

const (
	testSlots = 4
	testSize  = 2048
)

// mustAlloc allocates or fails the test at the caller's line.
func mustAlloc(t testing.TB, p *pbuf.Pool, l pbuf.Layer, n int) *pbuf.Buf {
	t.Helper()
	b, err := p.Alloc(l, n)
	if err != nil {
		t.Fatalf("Alloc(%v, %d): %v", l, n, err)
	}
	return b
}

// window is a buffer's observable geometry.
type window struct{ head, len, tail int }

func geom(b *pbuf.Buf) window { return window{b.Headroom(), b.Len(), b.Tailroom()} }

// checkGeom reports a difference between b's geometry and want, and checks
// that Bytes agrees with Len and that the three parts fill the slot.
func checkGeom(t *testing.T, b *pbuf.Buf, want window) {
	t.Helper()
	if got := geom(b); got != want {
		t.Errorf("headroom/len/tailroom = %+v, want %+v", got, want)
	}
	if len(b.Bytes()) != b.Len() {
		t.Errorf("len(Bytes()) = %d, Len() = %d", len(b.Bytes()), b.Len())
	}
	if b.Headroom()+b.Len()+b.Tailroom() != b.Cap() {
		t.Errorf("headroom %d + len %d + tailroom %d != cap %d", b.Headroom(), b.Len(), b.Tailroom(), b.Cap())
	}
}

// mustPanic reports an error unless f panics.
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

// Each layer leaves room for the headers below it (lwIP pbuf_layer): a device
// header, Ethernet, IPv4 without options, TCP with 40 bytes of options.
func TestLayerHeadroom(t *testing.T) {
	tests := []struct {
		name    string
		l       pbuf.Layer
		want    int
		headers []int // prepended in order, exactly using up the headroom
	}{
		{"Raw", pbuf.LayerRaw, 0, nil},
		{"Link", pbuf.LayerLink, 46, []int{wire.EthernetHeaderLen, pbuf.DeviceHeadroom}},
		{"IP", pbuf.LayerIP, 66, []int{wire.IPv4MinHeaderLen, wire.EthernetHeaderLen, pbuf.DeviceHeadroom}},
		{"Transport", pbuf.LayerTransport, 126, []int{wire.TCPMaxHeaderLen, wire.IPv4MinHeaderLen, wire.EthernetHeaderLen, pbuf.DeviceHeadroom}},
		{"Unknown", pbuf.Layer(99), 0, nil},
		{"Negative", pbuf.Layer(-1), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Headroom(); got != tt.want {
				t.Fatalf("Headroom = %d, want %d", got, tt.want)
			}
			p := pbuf.NewPool(1, testSize)
			b := mustAlloc(t, p, tt.l, 100)
			checkGeom(t, b, window{tt.want, 100, testSize - tt.want - 100})
			for _, n := range tt.headers {
				if h := b.Prepend(n); len(h) != n {
					t.Fatalf("Prepend(%d) with headroom %d: %d bytes", n, b.Headroom()+n, len(h))
				}
			}
			if b.Headroom() != 0 || b.Len() != 100+tt.want {
				t.Errorf("after the headers: headroom %d, len %d", b.Headroom(), b.Len())
			}
			if b.Prepend(1) != nil {
				t.Error("Prepend(1) succeeded with no headroom left")
			}
		})
	}
}

func TestPrepend(t *testing.T) {
	p := pbuf.NewPool(1, testSize)
	b := mustAlloc(t, p, pbuf.LayerIP, 10)
	copy(b.Bytes(), "0123456789")
	start := geom(b)
	for _, n := range []int{-1, -100, start.head + 1, 1 << 30} {
		if got := b.Prepend(n); got != nil {
			t.Errorf("Prepend(%d) = %d bytes, want nil", n, len(got))
		}
		checkGeom(t, b, start)
	}
	if got := b.Prepend(0); got == nil || len(got) != 0 {
		t.Errorf("Prepend(0) = %v, want an empty non-nil slice", got)
	}
	h := b.Prepend(20)
	copy(h, bytes.Repeat([]byte{'h'}, 20))
	checkGeom(t, b, window{start.head - 20, 30, start.tail})
	if want := append(bytes.Repeat([]byte{'h'}, 20), "0123456789"...); !bytes.Equal(b.Bytes(), want) {
		t.Errorf("Bytes = %q, want %q", b.Bytes(), want)
	}
	// All the remaining headroom, exactly.
	if h := b.Prepend(b.Headroom()); h == nil {
		t.Error("Prepend(Headroom()) = nil")
	}
	checkGeom(t, b, window{0, start.head + 10, start.tail})
}

func TestConsume(t *testing.T) {
	p := pbuf.NewPool(1, testSize)
	b := mustAlloc(t, p, pbuf.LayerRaw, 64)
	for i := range b.Bytes() {
		b.Bytes()[i] = byte(i)
	}
	for _, n := range []int{-1, 65, 1 << 30} {
		if b.Consume(n) {
			t.Errorf("Consume(%d) = true with 64 bytes", n)
		}
		checkGeom(t, b, window{0, 64, testSize - 64})
	}
	if !b.Consume(0) {
		t.Error("Consume(0) = false")
	}
	if !b.Consume(wire.EthernetHeaderLen) {
		t.Fatal("Consume(14) = false")
	}
	checkGeom(t, b, window{14, 50, testSize - 64})
	if b.Bytes()[0] != 14 {
		t.Errorf("first byte after Consume(14) = %d, want 14", b.Bytes()[0])
	}
	// Consume and Prepend are inverses.
	if h := b.Prepend(wire.EthernetHeaderLen); h == nil || h[0] != 0 {
		t.Errorf("Prepend after Consume: %v", h)
	}
	if !b.Consume(64) || b.Len() != 0 {
		t.Errorf("Consume(Len()) left %d bytes", b.Len())
	}
	if b.Consume(1) {
		t.Error("Consume(1) = true on an empty buffer")
	}
}

func TestAppend(t *testing.T) {
	p := pbuf.NewPool(2, 256) // slot 0 first, with slot 1 after it in the arena
	b := mustAlloc(t, p, pbuf.LayerLink, 0)
	start := geom(b)
	for _, n := range []int{-1, start.tail + 1} {
		if got := b.Append(n); got != nil {
			t.Errorf("Append(%d) = %d bytes, want nil", n, len(got))
		}
		checkGeom(t, b, start)
	}
	a := b.Append(5)
	copy(a, "hello")
	checkGeom(t, b, window{start.head, 5, start.tail - 5})
	if string(b.Bytes()) != "hello" {
		t.Errorf("Bytes = %q", b.Bytes())
	}
	if b.Append(b.Tailroom()) == nil || b.Tailroom() != 0 {
		t.Errorf("Append(Tailroom()) failed; tailroom %d", b.Tailroom())
	}
	if b.Append(1) != nil {
		t.Error("Append(1) succeeded with no tailroom")
	}
	// The slot's capacity ends at the slot: appending to Bytes() reallocates
	// instead of writing into the next slot.
	if c := cap(b.Bytes()); c != b.Len() {
		t.Errorf("cap(Bytes()) = %d with no tailroom, want %d", c, b.Len())
	}
}

func TestTruncate(t *testing.T) {
	p := pbuf.NewPool(1, 256)
	b := mustAlloc(t, p, pbuf.LayerIP, 100)
	start := geom(b)
	for _, n := range []int{-1, 101, 1 << 30} {
		if b.Truncate(n) {
			t.Errorf("Truncate(%d) = true with 100 bytes", n)
		}
		checkGeom(t, b, start)
	}
	if !b.Truncate(100) {
		t.Error("Truncate(Len()) = false")
	}
	checkGeom(t, b, start)
	if !b.Truncate(60) {
		t.Error("Truncate(60) = false")
	}
	checkGeom(t, b, window{start.head, 60, start.tail + 40})
	if !b.Truncate(0) {
		t.Error("Truncate(0) = false")
	}
	checkGeom(t, b, window{start.head, 0, start.tail + 100})
}

func TestSetWindow(t *testing.T) {
	p := pbuf.NewPool(1, 256)
	b := mustAlloc(t, p, pbuf.LayerRaw, 0)
	start := geom(b)
	bad := []struct{ off, end int }{
		{-1, 10}, {10, 9}, {0, 257}, {257, 257}, {-5, -1}, {300, 200},
	}
	for _, w := range bad {
		if b.SetWindow(w.off, w.end) {
			t.Errorf("SetWindow(%d, %d) = true", w.off, w.end)
		}
		checkGeom(t, b, start)
	}
	good := []struct {
		off, end int
		want     window
	}{
		{0, 256, window{0, 256, 0}},
		{256, 256, window{256, 0, 0}},
		{0, 0, window{0, 0, 256}},
		{2, 62, window{2, 60, 194}},
	}
	for _, w := range good {
		if !b.SetWindow(w.off, w.end) {
			t.Errorf("SetWindow(%d, %d) = false", w.off, w.end)
		}
		checkGeom(t, b, w.want)
	}
}

func TestReset(t *testing.T) {
	p := pbuf.NewPool(1, 256)
	b := mustAlloc(t, p, pbuf.LayerRaw, 200)
	b.Reset(pbuf.LayerTransport)
	checkGeom(t, b, window{126, 0, 130})
	b.Reset(pbuf.LayerRaw)
	checkGeom(t, b, window{0, 0, 256})

	// A slot smaller than the headroom: Reset clamps, Alloc refuses.
	small := pbuf.NewPool(1, 64)
	s := mustAlloc(t, small, pbuf.LayerRaw, 10)
	s.Reset(pbuf.LayerTransport)
	checkGeom(t, s, window{64, 0, 0})
	s.Free()
	if _, err := small.Alloc(pbuf.LayerTransport, 0); err != errs.ErrVal {
		t.Errorf("Alloc(LayerTransport) in 64-byte slots = %v, want ErrVal", err)
	}
}

// Ref then two Frees return the slot to the pool exactly once.
func TestRefAndFree(t *testing.T) {
	p := pbuf.NewPool(testSlots, testSize)
	b := mustAlloc(t, p, pbuf.LayerIP, 10)
	if got := p.Available(); got != testSlots-1 {
		t.Fatalf("Available after Alloc = %d", got)
	}
	b.Ref()
	b.Free()
	if got := p.Available(); got != testSlots-1 {
		t.Errorf("Available after Ref+Free = %d, want %d (still referenced)", got, testSlots-1)
	}
	b.Free()
	if got := p.Available(); got != testSlots {
		t.Errorf("Available after the second Free = %d, want %d", got, testSlots)
	}
	mustPanic(t, "third Free", b.Free)
	if got := p.Available(); got != testSlots {
		t.Errorf("Available after a double free = %d, want %d (slot returned twice)", got, testSlots)
	}
	mustPanic(t, "Ref of a free buffer", b.Ref)

	// Every slot can be taken once: no slot is on the free stack twice.
	seen := map[*pbuf.Buf]bool{}
	for range testSlots {
		x := mustAlloc(t, p, pbuf.LayerRaw, 0)
		if seen[x] {
			t.Fatalf("slot %p handed out twice", x)
		}
		seen[x] = true
	}
	if _, err := p.Alloc(pbuf.LayerRaw, 0); err != errs.ErrMem {
		t.Errorf("Alloc with every slot taken = %v, want ErrMem", err)
	}
}

func TestDoubleFreePanics(t *testing.T) {
	p := pbuf.NewPool(2, 256)
	b := mustAlloc(t, p, pbuf.LayerRaw, 0)
	other := mustAlloc(t, p, pbuf.LayerRaw, 0)
	b.Free()
	mustPanic(t, "double Free", b.Free)
	if p.Available() != 1 {
		t.Errorf("Available = %d, want 1", p.Available())
	}
	other.Free()
}

func TestRefSaturationPanics(t *testing.T) {
	p := pbuf.NewPool(1, 64)
	b := mustAlloc(t, p, pbuf.LayerRaw, 0)
	for range 0xffff - 1 {
		b.Ref()
	}
	mustPanic(t, "Ref at 65535 references", b.Ref)
	for range 0xffff - 1 {
		b.Free()
	}
	if p.Available() != 0 {
		t.Fatal("slot returned while one reference is left")
	}
	b.Free()
	if p.Available() != 1 {
		t.Error("slot not returned after the last Free")
	}
}

func TestPoolExhaustion(t *testing.T) {
	p := pbuf.NewPool(testSlots, testSize)
	var held []*pbuf.Buf
	for range testSlots {
		held = append(held, mustAlloc(t, p, pbuf.LayerTransport, 100))
	}
	if p.Available() != 0 || p.AllocFails != 0 {
		t.Fatalf("Available %d, AllocFails %d", p.Available(), p.AllocFails)
	}
	for i := 1; i <= 3; i++ {
		b, err := p.Alloc(pbuf.LayerRaw, 0)
		if b != nil || err != errs.ErrMem {
			t.Errorf("Alloc on an empty pool = %v, %v; want nil, ErrMem", b, err)
		}
		if p.AllocFails != uint64(i) {
			t.Errorf("AllocFails = %d, want %d", p.AllocFails, i)
		}
	}
	if c, err := held[0].Clone(); c != nil || err != errs.ErrMem || p.AllocFails != 4 {
		t.Errorf("Clone on an empty pool = %v, %v, AllocFails %d; want nil, ErrMem, 4", c, err, p.AllocFails)
	}
	held[2].Free()
	b := mustAlloc(t, p, pbuf.LayerRaw, 0)
	if b != held[2] {
		t.Errorf("Alloc after Free did not reuse the freed slot (the free list is a stack)")
	}
	if p.AllocFails != 4 {
		t.Errorf("a successful Alloc changed AllocFails to %d", p.AllocFails)
	}
}

// A request that cannot fit in a slot is ErrVal, not ErrMem, and does not
// count as an allocation failure.
func TestAllocTooLarge(t *testing.T) {
	p := pbuf.NewPool(testSlots, 256)
	tests := []struct {
		name string
		l    pbuf.Layer
		n    int
		want error
	}{
		{"Negative", pbuf.LayerRaw, -1, errs.ErrVal},
		{"RawOneOver", pbuf.LayerRaw, 257, errs.ErrVal},
		{"RawExact", pbuf.LayerRaw, 256, nil},
		{"TransportOneOver", pbuf.LayerTransport, 256 - 126 + 1, errs.ErrVal},
		{"TransportExact", pbuf.LayerTransport, 256 - 126, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := p.Alloc(tt.l, tt.n)
			if err != tt.want {
				t.Fatalf("Alloc(%v, %d) = %v, want %v", tt.l, tt.n, err, tt.want)
			}
			if err == nil {
				if b.Headroom()+b.Len() != 256 || b.Tailroom() != 0 {
					t.Errorf("exact fit: headroom %d len %d tailroom %d", b.Headroom(), b.Len(), b.Tailroom())
				}
				b.Free()
			}
			if p.Available() != testSlots || p.AllocFails != 0 {
				t.Errorf("Available %d, AllocFails %d", p.Available(), p.AllocFails)
			}
		})
	}
}

// Alloc hands out a clean buffer: one reference, no flags, no queue link.
func TestAllocResetsMetadata(t *testing.T) {
	p := pbuf.NewPool(1, 256)
	b := mustAlloc(t, p, pbuf.LayerRaw, 10)
	b.Flags = pbuf.RxIPv4ChecksumOK | pbuf.LinkBroadcast
	b.Next = b
	b.Free()
	if b.Next != nil {
		t.Error("Free left Next set")
	}
	b.Next = b // a stale owner writes after Free
	b2 := mustAlloc(t, p, pbuf.LayerIP, 20)
	if b2 != b {
		t.Fatal("single-slot pool returned a different buffer")
	}
	if b2.Flags != 0 || b2.Next != nil {
		t.Errorf("Flags %v, Next %v after Alloc; want zero", b2.Flags, b2.Next)
	}
	checkGeom(t, b2, window{66, 20, 256 - 86})
	b2.Free()
	if p.Available() != 1 {
		t.Error("one Free did not return an Alloc'd buffer: ref was not reset to 1")
	}
}

func TestClone(t *testing.T) {
	p := pbuf.NewPool(testSlots, 256)
	b := mustAlloc(t, p, pbuf.LayerIP, 5)
	copy(b.Bytes(), "hello")
	b.Flags = pbuf.RxL4ChecksumOK
	c, err := b.Clone()
	if err != nil {
		t.Fatalf("Clone: %v", err)
	}
	if c == b || c.Pool() != p {
		t.Fatalf("Clone returned %p (original %p), pool %p", c, b, c.Pool())
	}
	if geom(c) != geom(b) || !bytes.Equal(c.Bytes(), b.Bytes()) || c.Flags != b.Flags || c.Next != nil {
		t.Errorf("clone %+v %q flags %v; original %+v %q flags %v", geom(c), c.Bytes(), c.Flags, geom(b), b.Bytes(), b.Flags)
	}
	c.Bytes()[0] = 'J'
	if string(b.Bytes()) != "hello" {
		t.Errorf("writing the clone changed the original to %q", b.Bytes())
	}
	if p.Available() != testSlots-2 {
		t.Errorf("Available = %d, want %d", p.Available(), testSlots-2)
	}
	c.Free()
	b.Free()
	if p.Available() != testSlots {
		t.Errorf("Available = %d after freeing both", p.Available())
	}
}

func TestPoolAccessors(t *testing.T) {
	p := pbuf.NewPool(3, 512)
	if p.Cap() != 3 || p.SlotSize() != 512 || p.Available() != 3 {
		t.Errorf("Cap %d, SlotSize %d, Available %d", p.Cap(), p.SlotSize(), p.Available())
	}
	b := mustAlloc(t, p, pbuf.LayerRaw, 0)
	if b.Cap() != 512 || b.Pool() != p {
		t.Errorf("buf Cap %d, Pool %p", b.Cap(), b.Pool())
	}
	b.Free()
	// An arena that is not a multiple of the slot size: the tail is unused.
	q := pbuf.NewPoolArena(make([]byte, 3*512+511), 512, nil)
	if q.Cap() != 3 {
		t.Errorf("Cap of a 3.99-slot arena = %d, want 3", q.Cap())
	}
	// No slots at all.
	z := pbuf.NewPool(0, 512)
	if _, err := z.Alloc(pbuf.LayerRaw, 0); err != errs.ErrMem || z.AllocFails != 1 {
		t.Errorf("Alloc from an empty pool = %v, AllocFails %d", err, z.AllocFails)
	}
	mustPanic(t, "NewPool with slot size 0", func() { pbuf.NewPool(1, 0) })
	mustPanic(t, "NewPoolArena with slot size -1", func() { pbuf.NewPoolArena(nil, -1, nil) })
}

// Slots are carved in order from the arena and never overlap; BusAddr
// translates the arena offset of the first data byte with the pool's bus
// function.
func TestBusAddr(t *testing.T) {
	const base = 0x8000_0000
	const size = 256
	arena := make([]byte, 4*size)
	var calls int
	p := pbuf.NewPoolArena(arena, size, func(off int) uint64 { calls++; return base + uint64(off) })

	// arenaOff finds the offset in arena of the first data byte of b by
	// address, independently of BusAddr.
	arenaOff := func(b *pbuf.Buf) int {
		d := b.Bytes()
		for i := range arena {
			if &arena[i] == &d[0] {
				return i
			}
		}
		t.Fatal("buffer data not in the arena")
		return -1
	}
	var bufs []*pbuf.Buf
	for i := range 4 {
		b := mustAlloc(t, p, pbuf.LayerIP, 10)
		off := arenaOff(b)
		if want := i*size + pbuf.LayerIP.Headroom(); off != want {
			t.Errorf("slot %d: data at arena offset %d, want %d", i, off, want)
		}
		if got := b.BusAddr(); got != base+uint64(off) {
			t.Errorf("slot %d: BusAddr %#x, want %#x", i, got, base+uint64(off))
		}
		bufs = append(bufs, b)
	}
	b := bufs[2]
	b.Prepend(20)
	if got, want := b.BusAddr(), base+uint64(arenaOff(b)); got != want {
		t.Errorf("after Prepend: BusAddr %#x, want %#x", got, want)
	}
	b.Consume(25)
	if got, want := b.BusAddr(), base+uint64(arenaOff(b)); got != want {
		t.Errorf("after Consume: BusAddr %#x, want %#x", got, want)
	}
	if calls == 0 {
		t.Error("the bus function was never called")
	}

	// Without a bus function the memory is not DMA-capable.
	plain := pbuf.NewPool(1, size)
	if got := mustAlloc(t, plain, pbuf.LayerIP, 10).BusAddr(); got != 0 {
		t.Errorf("BusAddr without a bus function = %#x, want 0", got)
	}
}

func TestQueueFIFO(t *testing.T) {
	p := pbuf.NewPool(testSlots, 256)
	var q pbuf.Queue
	if q.Len() != 0 || q.Pop() != nil || q.Peek() != nil {
		t.Fatal("zero Queue is not empty")
	}
	var in []*pbuf.Buf
	for i := range testSlots {
		b := mustAlloc(t, p, pbuf.LayerRaw, 1)
		b.Bytes()[0] = byte(i)
		b.Next = b // garbage a previous owner left behind
		in = append(in, b)
		q.Push(b)
		if q.Len() != i+1 || q.Peek() != in[0] {
			t.Fatalf("after %d pushes: Len %d, Peek %p", i+1, q.Len(), q.Peek())
		}
	}
	for i := range testSlots {
		b := q.Pop()
		if b != in[i] {
			t.Fatalf("Pop %d returned buffer %d", i, b.Bytes()[0])
		}
		if b.Next != nil {
			t.Errorf("Pop left Next set on buffer %d", i)
		}
		if q.Len() != testSlots-1-i {
			t.Errorf("Len %d after %d pops", q.Len(), i+1)
		}
	}
	if q.Pop() != nil || q.Peek() != nil || q.Len() != 0 {
		t.Fatal("queue not empty after popping everything")
	}
	// The queue works again after running empty (tail was reset).
	q.Push(in[3])
	q.Push(in[1])
	if a, b := q.Pop(), q.Pop(); a != in[3] || b != in[1] {
		t.Error("wrong order after the queue ran empty")
	}
	// Interleaved pushes and pops keep FIFO order.
	q.Push(in[0])
	q.Push(in[1])
	if q.Pop() != in[0] {
		t.Error("interleaved: wrong first")
	}
	q.Push(in[2])
	if q.Pop() != in[1] || q.Pop() != in[2] || q.Pop() != nil {
		t.Error("interleaved: wrong order")
	}
	for _, b := range in {
		b.Free()
	}
	if p.Available() != testSlots {
		t.Errorf("Available = %d", p.Available())
	}
}

func TestQueueFreeAll(t *testing.T) {
	p := pbuf.NewPool(testSlots, 256)
	var q pbuf.Queue
	for range testSlots {
		q.Push(mustAlloc(t, p, pbuf.LayerRaw, 0))
	}
	// A buffer with a second reference outlives FreeAll.
	kept := q.Peek()
	kept.Ref()
	q.FreeAll()
	if q.Len() != 0 || q.Peek() != nil {
		t.Errorf("FreeAll left %d buffers", q.Len())
	}
	if p.Available() != testSlots-1 {
		t.Errorf("Available = %d, want %d", p.Available(), testSlots-1)
	}
	kept.Free()
	if p.Available() != testSlots {
		t.Errorf("Available = %d, want %d", p.Available(), testSlots)
	}
	q.FreeAll() // on an empty queue
	if q.Len() != 0 {
		t.Error("FreeAll on an empty queue")
	}
}

var (
	sinkBuf   *pbuf.Buf
	sinkBytes []byte
	sinkU64   uint64
	sinkBool  bool
)

// TestNoAllocs: rule 4 of the style guide for package pbuf.
func TestNoAllocs(t *testing.T) {
	p := pbuf.NewPoolArena(make([]byte, 8*testSize), testSize, func(off int) uint64 { return uint64(off) })
	held := mustAlloc(t, p, pbuf.LayerIP, 100)
	var q pbuf.Queue
	tests := []struct {
		name string
		f    func()
	}{
		{"AllocFree", func() {
			b, _ := p.Alloc(pbuf.LayerTransport, 1400)
			b.Free()
		}},
		{"AllocFail", func() {
			_, err := p.Alloc(pbuf.LayerRaw, testSize+1)
			sinkBool = err != nil
		}},
		{"RefFree", func() {
			held.Ref()
			held.Free()
		}},
		{"PrependConsume", func() {
			sinkBytes = held.Prepend(20)
			sinkBool = held.Consume(20)
			sinkBytes = held.Append(10)
			sinkBool = held.Truncate(100)
			sinkBool = held.SetWindow(66, 166)
			sinkBytes = held.Bytes()
		}},
		{"BusAddr", func() { sinkU64 = held.BusAddr() }},
		{"Clone", func() {
			c, _ := held.Clone()
			c.Free()
		}},
		{"Queue", func() {
			for range 4 {
				b, _ := p.Alloc(pbuf.LayerRaw, 0)
				q.Push(b)
			}
			sinkBuf = q.Peek()
			q.Pop().Free()
			q.FreeAll()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
			if p.Available() != p.Cap()-1 {
				t.Errorf("leak: Available %d, want %d", p.Available(), p.Cap()-1)
			}
		})
	}
}
