package loopback

import (
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// Defaults for the zero fields of Config.
const (
	DefaultQueueLen = 32
	DefaultMTU      = 1500
)

// Config sets up a loopback Device. The zero Config is valid.
type Config struct {
	// QueueLen is the number of frames held between Transmit and Receive
	// (default DefaultQueueLen). lwIP: LWIP_LOOPBACK_MAX_PBUFS.
	QueueLen int
	// MTU is the IP MTU the device reports (default DefaultMTU). Frames
	// longer than MTU+14 bytes are dropped.
	MTU int
	// MAC is the address the device reports; frames are addressed to it
	// (zero by default: lwIP's loopif has no hardware address).
	MAC wire.MAC
	// Copy makes Receive copy each frame into a Buf from its pool argument
	// instead of handing back the transmitted Buf (see the package doc).
	Copy bool
}

// Stats counts what the device did with the frames it was given.
type Stats struct {
	Sent            uint64 // frames Transmit queued
	Delivered       uint64 // frames Receive handed to the caller
	DroppedFull     uint64 // frames Transmit freed because the queue was full
	DroppedOversize uint64 // frames Transmit freed because they exceeded MTU+14 bytes
	DroppedNoBuf    uint64 // Copy mode: frames Receive freed because pool had no fitting Buf
}

// Device is a loopback interface. Create it with New.
type Device struct {
	q     []*pbuf.Buf // ring of queued frames
	head  int         // index of the oldest queued frame
	n     int         // frames queued
	mtu   int
	mac   wire.MAC
	copy  bool
	stats Stats
}

var _ netif.Device = (*Device)(nil)

// New returns a loopback device. It panics if QueueLen or MTU is negative.
func New(cfg Config) *Device {
	if cfg.QueueLen < 0 || cfg.MTU < 0 {
		panic("loopback: negative QueueLen or MTU")
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	return &Device{q: make([]*pbuf.Buf, cfg.QueueLen), mtu: cfg.MTU, mac: cfg.MAC, copy: cfg.Copy}
}

// Transmit queues frames for Receive. It takes ownership of every frame and
// returns len(frames); frames that do not fit are freed and counted.
func (d *Device) Transmit(frames []*pbuf.Buf) int {
	for _, b := range frames {
		switch {
		case b.Len() > d.mtu+wire.EthernetHeaderLen:
			d.stats.DroppedOversize++
			b.Free()
		case d.n == len(d.q):
			d.stats.DroppedFull++
			b.Free()
		default:
			d.q[(d.head+d.n)%len(d.q)] = b
			d.n++
			d.stats.Sent++
		}
	}
	return len(frames)
}

// Receive moves up to len(dst) queued frames into dst, oldest first, and
// returns how many. The caller owns them. pool is used only in Copy mode.
func (d *Device) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	got := 0
	for got < len(dst) && d.n > 0 {
		b := d.q[d.head]
		d.q[d.head] = nil
		d.head = (d.head + 1) % len(d.q)
		d.n--
		if d.copy {
			c, err := pool.Alloc(pbuf.LayerRaw, b.Len())
			if err != nil {
				b.Free()
				d.stats.DroppedNoBuf++
				continue
			}
			copy(c.Bytes(), b.Bytes())
			b.Free()
			b = c
		}
		b.Flags = 0
		b.Next = nil
		if f := b.Bytes(); len(f) >= wire.EthernetHeaderLen && wire.Ethernet(f).Dst().IsMulticast() {
			b.Flags = pbuf.LinkBroadcast
		}
		dst[got] = b
		got++
		d.stats.Delivered++
	}
	return got
}

// HardwareAddr returns Config.MAC.
func (d *Device) HardwareAddr() wire.MAC { return d.mac }

// MTU returns the configured IP MTU.
func (d *Device) MTU() int { return d.mtu }

// Caps reports NoARP: frames need no neighbour resolution.
func (d *Device) Caps() netif.Caps { return netif.Caps{NoARP: true} }

// LinkUp reports true: a loopback has no cable.
func (d *Device) LinkUp() bool { return true }

// Stats returns the device's counters.
func (d *Device) Stats() Stats { return d.stats }

// Queued returns the number of frames waiting for Receive.
func (d *Device) Queued() int { return d.n }

// Discard frees every queued frame, for tearing a device down.
func (d *Device) Discard() {
	for d.n > 0 {
		d.q[d.head].Free()
		d.q[d.head] = nil
		d.head = (d.head + 1) % len(d.q)
		d.n--
	}
}
