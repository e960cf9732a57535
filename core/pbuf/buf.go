package pbuf

import "github.com/lwgo/lwgo/core/errs"

// Layer selects the headroom a buffer keeps in front of its data for the
// headers that lower layers prepend (lwIP pbuf_layer).
type Layer int

// Layers, from the wire up.
const (
	// LayerRaw has no headroom: a driver's receive buffer.
	LayerRaw Layer = iota
	// LayerLink leaves room for a device header (DeviceHeadroom) and Ethernet.
	LayerLink
	// LayerIP leaves room for an IPv4 header without options, and below.
	LayerIP
	// LayerTransport leaves room for a TCP header with 40 bytes of options, and below.
	LayerTransport
)

// DeviceHeadroom is room reserved in front of the Ethernet header for a
// device's own header (for example virtio-net's), so that it can be prepended
// without a copy.
const DeviceHeadroom = 32

// Headroom returns the bytes reserved in front of the data for layer l.
func (l Layer) Headroom() int {
	switch l {
	case LayerLink:
		return DeviceHeadroom + 14
	case LayerIP:
		return DeviceHeadroom + 14 + 20
	case LayerTransport:
		return DeviceHeadroom + 14 + 20 + 60
	}
	return 0
}

// Flags carry per-buffer metadata between a device and the stack.
type Flags uint8

// Buffer flags.
const (
	// RxIPv4ChecksumOK: the device verified the IPv4 header checksum.
	RxIPv4ChecksumOK Flags = 1 << iota
	// RxL4ChecksumOK: the device verified the TCP or UDP checksum.
	RxL4ChecksumOK
	// LinkBroadcast: the frame arrived as a link-layer broadcast or multicast.
	LinkBroadcast
	// TxL4ChecksumPartial: the TCP checksum field of this IPv4 frame holds
	// only the pseudo-header sum (over the full TCP length, as Linux's
	// CHECKSUM_PARTIAL); the device completes it. The stack sets it only for
	// a device whose Caps offer TxChecksumOffload.
	TxL4ChecksumPartial
)

// Buf is one packet buffer: a slot of a Pool with a window [off, end) of
// valid data. The zero Buf is not usable; buffers come from Pool.Alloc.
type Buf struct {
	mem  []byte // the whole slot
	off  int    // start of valid data
	end  int    // end of valid data
	pool *Pool
	idx  uint32 // slot index in pool
	ref  uint16 // references; 0 while the slot is free

	// Flags carry device metadata; Alloc clears them.
	Flags Flags
	// GSOSize, when not 0, asks the device to cut this IPv4/TCP frame into
	// segments of GSOSize payload bytes (TSO); the frame may then exceed the
	// MTU, up to the device's Caps.TSOMax. Alloc clears it.
	GSOSize uint16
	// Next links the buffer into its current owner's queue (see Queue). It is
	// the owner's to use and is nil when the buffer is allocated.
	Next *Buf
}

// Bytes returns the valid data. The slice aliases the buffer; it is valid
// until the buffer is freed or its window changes.
func (b *Buf) Bytes() []byte { return b.mem[b.off:b.end] }

// Len returns the length of the valid data.
func (b *Buf) Len() int { return b.end - b.off }

// Headroom returns the free bytes in front of the data.
func (b *Buf) Headroom() int { return b.off }

// Tailroom returns the free bytes after the data.
func (b *Buf) Tailroom() int { return len(b.mem) - b.end }

// Prepend grows the data by n bytes at the front and returns the new front n
// bytes, which hold stale contents the caller must overwrite. It returns nil
// and changes nothing if the headroom is smaller than n. lwIP: pbuf_add_header.
func (b *Buf) Prepend(n int) []byte {
	if n < 0 || n > b.off {
		return nil
	}
	b.off -= n
	return b.mem[b.off : b.off+n]
}

// Consume removes n bytes from the front of the data and reports whether it
// could (false when n exceeds the length). lwIP: pbuf_remove_header.
func (b *Buf) Consume(n int) bool {
	if n < 0 || n > b.Len() {
		return false
	}
	b.off += n
	return true
}

// Append grows the data by n bytes at the end and returns them (stale
// contents). It returns nil and changes nothing if the tailroom is smaller.
func (b *Buf) Append(n int) []byte {
	if n < 0 || n > b.Tailroom() {
		return nil
	}
	b.end += n
	return b.mem[b.end-n : b.end]
}

// Truncate shrinks the data to n bytes. It reports false and changes nothing
// if n is negative or larger than the length. lwIP: pbuf_realloc.
func (b *Buf) Truncate(n int) bool {
	if n < 0 || n > b.Len() {
		return false
	}
	b.end = b.off + n
	return true
}

// Reset empties the buffer and sets its headroom to that of layer l.
func (b *Buf) Reset(l Layer) {
	h := min(l.Headroom(), len(b.mem))
	b.off, b.end = h, h
}

// SetWindow sets the valid data to mem[off:end] of the slot; it reports false
// and changes nothing if the window does not fit. Drivers use it after DMA.
func (b *Buf) SetWindow(off, end int) bool {
	if off < 0 || off > end || end > len(b.mem) {
		return false
	}
	b.off, b.end = off, end
	return true
}

// Cap returns the size of the slot.
func (b *Buf) Cap() int { return len(b.mem) }

// Pool returns the pool the buffer belongs to.
func (b *Buf) Pool() *Pool { return b.pool }

// BusAddr returns the device (bus) address of the first data byte, or 0 if
// the pool's memory is not DMA-capable.
func (b *Buf) BusAddr() uint64 {
	if b.pool.bus == nil {
		return 0
	}
	return b.pool.bus(int(b.idx)*b.pool.size + b.off)
}

// Ref adds a reference; each reference needs its own Free. lwIP: pbuf_ref.
func (b *Buf) Ref() {
	if b.ref == 0 || b.ref == ^uint16(0) {
		panic("pbuf: Ref of a free or saturated buffer")
	}
	b.ref++
}

// Free drops a reference and returns the slot to its pool when none is left.
// Freeing a free buffer is a program error and panics. lwIP: pbuf_free.
func (b *Buf) Free() {
	if b.ref == 0 {
		panic("pbuf: double free")
	}
	b.ref--
	if b.ref == 0 {
		b.Next = nil
		b.pool.put(b)
	}
}

// Clone returns a copy of b's data (with the same headroom) in a new buffer
// from b's pool, or ErrMem.
func (b *Buf) Clone() (*Buf, error) {
	c, err := b.pool.get()
	if err != nil {
		return nil, err
	}
	c.off, c.end = b.off, b.end
	copy(c.mem[c.off:c.end], b.mem[b.off:b.end])
	c.Flags, c.GSOSize = b.Flags, b.GSOSize
	return c, nil
}

// Pool is a fixed set of equal slots carved from one arena. It is not safe
// for concurrent use.
type Pool struct {
	arena []byte
	size  int
	bufs  []Buf
	free  []uint32 // stack of free slot indices
	bus   func(off int) uint64

	// AllocFails counts allocations refused because the pool was empty.
	AllocFails uint64
}

// NewPool allocates an arena for count slots of size bytes each.
func NewPool(count, size int) *Pool {
	return NewPoolArena(make([]byte, count*size), size, nil)
}

// NewPoolArena carves arena into slots of size bytes. bus, if not nil,
// translates an arena offset into a device (bus) address for DMA; drivers pass
// one from platform/dma. Slots never straddle the arena's end.
func NewPoolArena(arena []byte, size int, bus func(off int) uint64) *Pool {
	if size <= 0 {
		panic("pbuf: slot size must be positive")
	}
	n := len(arena) / size
	p := &Pool{arena: arena, size: size, bufs: make([]Buf, n), free: make([]uint32, n), bus: bus}
	for i := range p.bufs {
		p.bufs[i] = Buf{mem: arena[i*size : (i+1)*size : (i+1)*size], pool: p, idx: uint32(i)}
		p.free[i] = uint32(n - 1 - i) // hand out slot 0 first
	}
	return p
}

// SlotSize returns the size of each slot.
func (p *Pool) SlotSize() int { return p.size }

// Cap returns the number of slots.
func (p *Pool) Cap() int { return len(p.bufs) }

// Available returns the number of free slots.
func (p *Pool) Available() int { return len(p.free) }

func (p *Pool) get() (*Buf, error) {
	n := len(p.free)
	if n == 0 {
		p.AllocFails++
		return nil, errs.ErrMem
	}
	b := &p.bufs[p.free[n-1]]
	p.free = p.free[:n-1]
	b.ref = 1
	b.Flags = 0
	b.GSOSize = 0
	b.Next = nil
	return b, nil
}

func (p *Pool) put(b *Buf) { p.free = append(p.free, b.idx) }

// Alloc returns a buffer with headroom for layer l and n bytes of data (stale
// contents), or ErrMem if the pool is empty, or ErrVal if it cannot fit in a
// slot. lwIP: pbuf_alloc.
func (p *Pool) Alloc(l Layer, n int) (*Buf, error) {
	h := l.Headroom()
	if n < 0 || h+n > p.size {
		return nil, errs.ErrVal
	}
	b, err := p.get()
	if err != nil {
		return nil, err
	}
	b.off, b.end = h, h+n
	return b, nil
}

// Queue is a FIFO of buffers linked through Buf.Next. The zero Queue is empty.
type Queue struct {
	head, tail *Buf
	n          int
}

// Len returns the number of buffers queued.
func (q *Queue) Len() int { return q.n }

// Push appends b; the queue takes ownership of b.
func (q *Queue) Push(b *Buf) {
	b.Next = nil
	if q.tail == nil {
		q.head = b
	} else {
		q.tail.Next = b
	}
	q.tail = b
	q.n++
}

// Pop removes and returns the first buffer, or nil; the caller owns it.
func (q *Queue) Pop() *Buf {
	b := q.head
	if b == nil {
		return nil
	}
	q.head = b.Next
	if q.head == nil {
		q.tail = nil
	}
	b.Next = nil
	q.n--
	return b
}

// Peek returns the first buffer without removing it, or nil.
func (q *Queue) Peek() *Buf { return q.head }

// Tail returns the last buffer without removing it, or nil: a receiver
// packs small data into it.
func (q *Queue) Tail() *Buf { return q.tail }

// FreeAll frees every queued buffer and empties the queue.
func (q *Queue) FreeAll() {
	for b := q.Pop(); b != nil; b = q.Pop() {
		b.Free()
	}
}
