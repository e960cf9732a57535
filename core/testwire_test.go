package core

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

type netifCaps = netif.Caps

// testDev is a minimal in-package device for white-box tests: frames
// transmitted on one end are copied into the peer's inbox.
type testDev struct {
	mac   wire.MAC
	mtu   int
	peer  *testDev
	inbox [][]byte
	sent  [][]byte // every frame transmitted, for inspection
	keep  bool     // record sent frames
	down  bool
}

func newTestPair(mtu int) (*testDev, *testDev) {
	a := &testDev{mac: wire.MAC{2, 0, 0, 0, 0, 1}, mtu: mtu}
	b := &testDev{mac: wire.MAC{2, 0, 0, 0, 0, 2}, mtu: mtu}
	a.peer, b.peer = b, a
	return a, b
}

func (d *testDev) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	for n < len(dst) && len(d.inbox) > 0 {
		f := d.inbox[0]
		d.inbox = d.inbox[1:]
		b, err := pool.Alloc(pbuf.LayerRaw, len(f))
		if err != nil {
			continue
		}
		copy(b.Bytes(), f)
		dst[n] = b
		n++
	}
	return n
}

func (d *testDev) Transmit(frames []*pbuf.Buf) int {
	for _, b := range frames {
		f := append([]byte(nil), b.Bytes()...)
		if d.keep {
			d.sent = append(d.sent, f)
		}
		if d.peer != nil && !d.down {
			d.peer.inbox = append(d.peer.inbox, f)
		}
		b.Free()
	}
	return len(frames)
}

func (d *testDev) HardwareAddr() wire.MAC { return d.mac }
func (d *testDev) MTU() int               { return d.mtu }
func (d *testDev) Caps() netifCaps        { return netifCaps{} }
func (d *testDev) LinkUp() bool           { return !d.down }

// runPair polls both stacks, advancing the clock by step, until neither has
// frames in flight or rounds run out.
func runPair(clk *clock.Manual, a, b *Stack, da, db *testDev, rounds int, step clock.Duration) {
	for range rounds {
		a.Poll(clk.Now())
		b.Poll(clk.Now())
		if len(da.inbox) == 0 && len(db.inbox) == 0 {
			return
		}
		clk.Advance(step)
	}
}
