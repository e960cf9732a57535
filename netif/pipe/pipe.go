package pipe

import (
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// Defaults for the zero fields of Config.
const (
	DefaultQueueLen = 64
	DefaultMTU      = 1500
)

// Default addresses of the two ends: locally administered unicast MACs.
var (
	DefaultMACA = wire.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	DefaultMACB = wire.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

// Config sets up a pipe. The zero Config is valid.
type Config struct {
	// A and B configure the two ends.
	A, B EndConfig
	// QueueLen is the number of frames in flight per direction (default
	// DefaultQueueLen).
	QueueLen int
	// MaxFrame is the largest frame, in bytes without FCS, the wire carries
	// (default: the larger MTU plus 14; at least 60).
	MaxFrame int
}

// EndConfig configures one end of a pipe.
type EndConfig struct {
	// MAC is the end's address (default DefaultMACA or DefaultMACB).
	MAC wire.MAC
	// MTU is the IP MTU the end reports and accepts (default DefaultMTU).
	MTU int
}

// Stats counts one end's traffic. Transmit-side counters are kept by the
// sending end, receive-side ones by the receiving end.
type Stats struct {
	Sent            uint64 // frames Transmit put on the wire toward the peer
	SentBytes       uint64 // bytes of those frames, before padding
	Delivered       uint64 // frames Receive handed to this end's stack
	DeliveredBytes  uint64 // bytes of those frames, padding included
	DroppedFull     uint64 // frames Transmit freed: the ring toward the peer was full
	DroppedOversize uint64 // frames Transmit freed: longer than MaxFrame or the peer's MTU+14
	DroppedLinkDown uint64 // frames lost because the link was (or went) down
	DroppedNoBuf    uint64 // frames Receive dropped: the pool was empty or its slots too small
}

// ring is one direction's FIFO of frame slots.
type ring struct {
	data []byte  // len(lens) slots of stride bytes
	lens []int32 // frame length in each slot
	head int     // oldest slot
	n    int     // slots in use
}

// cable is what the two ends share.
type cable struct {
	up       bool
	maxFrame int
	rings    [2]ring // [0]: A→B, [1]: B→A
}

// End is one end of a pipe; it implements netif.Device.
type End struct {
	c     *cable
	tx    *ring // toward the peer
	rx    *ring // from the peer
	peer  *End
	mac   wire.MAC
	mtu   int
	stats Stats
}

var _ netif.Device = (*End)(nil)

// New returns the two ends of a new pipe, with the link up. It panics if a
// size in cfg is negative or MaxFrame is smaller than 60 bytes.
func New(cfg Config) (a, b *End) {
	if cfg.QueueLen < 0 || cfg.MaxFrame < 0 || cfg.A.MTU < 0 || cfg.B.MTU < 0 {
		panic("pipe: negative size in Config")
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.A.MTU == 0 {
		cfg.A.MTU = DefaultMTU
	}
	if cfg.B.MTU == 0 {
		cfg.B.MTU = DefaultMTU
	}
	if cfg.A.MAC.IsZero() {
		cfg.A.MAC = DefaultMACA
	}
	if cfg.B.MAC.IsZero() {
		cfg.B.MAC = DefaultMACB
	}
	if cfg.MaxFrame == 0 {
		cfg.MaxFrame = max(cfg.A.MTU, cfg.B.MTU, wire.EthernetMinFrame-wire.EthernetHeaderLen) + wire.EthernetHeaderLen
	}
	if cfg.MaxFrame < wire.EthernetMinFrame {
		panic("pipe: MaxFrame below the Ethernet minimum of 60 bytes")
	}
	c := &cable{up: true, maxFrame: cfg.MaxFrame}
	arena := make([]byte, 2*cfg.QueueLen*cfg.MaxFrame)
	lens := make([]int32, 2*cfg.QueueLen)
	for i := range c.rings {
		n := cfg.QueueLen
		c.rings[i].data = arena[i*n*cfg.MaxFrame : (i+1)*n*cfg.MaxFrame]
		c.rings[i].lens = lens[i*n : (i+1)*n]
	}
	a = &End{c: c, tx: &c.rings[0], rx: &c.rings[1], mac: cfg.A.MAC, mtu: cfg.A.MTU}
	b = &End{c: c, tx: &c.rings[1], rx: &c.rings[0], mac: cfg.B.MAC, mtu: cfg.B.MTU}
	a.peer, b.peer = b, a
	return a, b
}

// Transmit copies each frame onto the wire toward the peer and frees it. It
// takes ownership of every frame and returns len(frames); frames the wire
// cannot carry are counted in Stats.
func (e *End) Transmit(frames []*pbuf.Buf) int {
	r, maxLen := e.tx, min(e.c.maxFrame, e.peer.mtu+wire.EthernetHeaderLen)
	for _, b := range frames {
		n := b.Len()
		switch {
		case !e.c.up:
			e.stats.DroppedLinkDown++
		case n > maxLen:
			e.stats.DroppedOversize++
		case r.n == len(r.lens):
			e.stats.DroppedFull++
		default:
			i := (r.head + r.n) % len(r.lens)
			slot := r.data[i*e.c.maxFrame : (i+1)*e.c.maxFrame]
			copy(slot, b.Bytes())
			if n < wire.EthernetMinFrame {
				clear(slot[n:wire.EthernetMinFrame])
				r.lens[i] = wire.EthernetMinFrame
			} else {
				r.lens[i] = int32(n)
			}
			r.n++
			e.stats.Sent++
			e.stats.SentBytes += uint64(n)
		}
		b.Free()
	}
	return len(frames)
}

// Receive copies up to len(dst) frames from the wire into Bufs from pool,
// oldest first, and returns how many it stored; the caller owns them.
func (e *End) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	r, got := e.rx, 0
	for got < len(dst) && r.n > 0 {
		i := r.head
		n := int(r.lens[i])
		r.head = (r.head + 1) % len(r.lens)
		r.n--
		b, err := pool.Alloc(pbuf.LayerRaw, n)
		if err != nil {
			e.stats.DroppedNoBuf++
			break
		}
		f := b.Bytes()
		copy(f, r.data[i*e.c.maxFrame:i*e.c.maxFrame+n])
		if wire.Ethernet(f).Dst().IsMulticast() {
			b.Flags = pbuf.LinkBroadcast
		}
		dst[got] = b
		got++
		e.stats.Delivered++
		e.stats.DeliveredBytes += uint64(n)
	}
	return got
}

// HardwareAddr returns the end's MAC address.
func (e *End) HardwareAddr() wire.MAC { return e.mac }

// MTU returns the end's IP MTU.
func (e *End) MTU() int { return e.mtu }

// Caps reports no offloads.
func (e *End) Caps() netif.Caps { return netif.Caps{} }

// LinkUp reports whether the cable is connected.
func (e *End) LinkUp() bool { return e.c.up }

// SetLinkUp connects or disconnects the cable, for both ends. Disconnecting
// loses the frames in flight in both directions.
func (e *End) SetLinkUp(up bool) {
	if !up {
		for _, x := range [2]*End{e, e.peer} {
			x.stats.DroppedLinkDown += uint64(x.tx.n)
			x.tx.head, x.tx.n = 0, 0
		}
	}
	e.c.up = up
}

// Peer returns the other end of the pipe.
func (e *End) Peer() *End { return e.peer }

// Stats returns the end's counters.
func (e *End) Stats() Stats { return e.stats }

// Pending returns the number of frames on the wire waiting for this end's
// Receive.
func (e *End) Pending() int { return e.rx.n }
