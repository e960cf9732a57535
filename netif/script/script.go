package script

import (
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// Device is the scripted device. The zero Device is usable: MTU 1500, link
// up, no offloads.
type Device struct {
	MAC   wire.MAC
	Inbox [][]byte // frames to receive, in order
	Sent  [][]byte // copies of the frames transmitted
	Down  bool     // the link is down
	// One is a frame to receive before the inbox, without allocating.
	One []byte
	// Discard frees transmitted frames without recording them.
	Discard bool
}

// Receive implements netif.Device.
func (d *Device) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	if d.One != nil && len(dst) > 0 {
		if b := copyIn(pool, d.One); b != nil {
			dst[0] = b
			n++
		}
		d.One = nil
	}
	for n < len(dst) && len(d.Inbox) > 0 {
		f := d.Inbox[0]
		d.Inbox = d.Inbox[1:]
		if b := copyIn(pool, f); b != nil {
			dst[n] = b
			n++
		}
	}
	return n
}

// copyIn returns f in a Buf from pool, or nil when the pool is empty.
func copyIn(pool *pbuf.Pool, f []byte) *pbuf.Buf {
	b, err := pool.Alloc(pbuf.LayerRaw, len(f))
	if err != nil {
		return nil
	}
	copy(b.Bytes(), f)
	return b
}

// Transmit implements netif.Device.
func (d *Device) Transmit(frames []*pbuf.Buf) int {
	for _, b := range frames {
		if !d.Discard {
			d.Sent = append(d.Sent, append([]byte(nil), b.Bytes()...))
		}
		b.Free()
	}
	return len(frames)
}

// HardwareAddr implements netif.Device.
func (d *Device) HardwareAddr() wire.MAC { return d.MAC }

// MTU implements netif.Device.
func (d *Device) MTU() int { return 1500 }

// Caps implements netif.Device: no offloads.
func (d *Device) Caps() netif.Caps { return netif.Caps{} }

// LinkUp implements netif.Device.
func (d *Device) LinkUp() bool { return !d.Down }

var _ netif.Device = (*Device)(nil)
