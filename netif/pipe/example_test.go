package pipe_test

import (
	"fmt"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pipe"
)

func ethFrame(p *pbuf.Pool, src, dst wire.MAC) *pbuf.Buf {
	f, err := p.Alloc(pbuf.LayerLink, 60)
	if err != nil {
		panic(err)
	}
	h := wire.EthernetHeader{Dst: dst, Src: src, Type: wire.EtherTypeIPv4}
	h.Encode(wire.Ethernet(f.Bytes()))
	return f
}

// Two stacks joined by a pipe, each direction impaired on its own: frames
// from A lose 1%, frames from B arrive 5 ms late. One goroutine polls both
// sides, sleeping (here: moving the clock) until the earliest deadline.
func Example_impairedDirections() {
	var clk clock.Manual
	a, b := pipe.New(pipe.Config{})
	devA := fault.New(a, &clk, fault.Config{Seed: 1, DropRate: 0.01})
	devB := fault.New(b, &clk, fault.Config{Seed: 2, Delay: 5 * clock.Millisecond})
	poolA, poolB := pbuf.NewPool(64, 2048), pbuf.NewPool(64, 2048)

	devB.Transmit([]*pbuf.Buf{ethFrame(poolB, devB.HardwareAddr(), devA.HardwareAddr())})

	var rx [8]*pbuf.Buf
	for {
		devB.Receive(poolB, rx[:]) // B's poll releases B's delayed frames when due
		if n := devA.Receive(poolA, rx[:]); n > 0 {
			fmt.Println("A received", rx[0].Len(), "bytes after", clk.Now().Sub(0).Milliseconds(), "ms")
			rx[0].Free()
			break
		}
		clk.Set(min(devA.NextDeadline(), devB.NextDeadline()))
	}
	// Output: A received 60 bytes after 5 ms
}

func TestEachDirectionCanBeImpairedIndependently(t *testing.T) {
	a, b := pipe.New(pipe.Config{})
	devA := fault.New(a, nil, fault.Config{DropRate: 1})      // A→B: everything lost
	devB := fault.New(b, nil, fault.Config{DuplicateRate: 1}) // B→A: everything twice
	poolA, poolB := pbuf.NewPool(8, 2048), pbuf.NewPool(8, 2048)
	for range 3 {
		devA.Transmit([]*pbuf.Buf{ethFrame(poolA, a.HardwareAddr(), b.HardwareAddr())})
		devB.Transmit([]*pbuf.Buf{ethFrame(poolB, b.HardwareAddr(), a.HardwareAddr())})
	}
	var rx [8]*pbuf.Buf
	if n := devB.Receive(poolB, rx[:]); n != 0 {
		t.Errorf("B received %d frames through a dropping A→B direction", n)
	}
	n := devA.Receive(poolA, rx[:])
	if n != 6 {
		t.Errorf("A received %d frames, want 3 duplicated", n)
	}
	for _, f := range rx[:n] {
		f.Free()
	}
	if sa, sb := devA.Stats(), devB.Stats(); sa.Dropped != 3 || sb.Duplicated != 3 || sa.Duplicated != 0 || sb.Dropped != 0 {
		t.Errorf("fault stats A %+v B %+v", sa, sb)
	}
	if a.Stats().Sent != 0 || b.Stats().Sent != 6 || a.Stats().Delivered != 6 {
		t.Errorf("pipe stats A %+v B %+v", a.Stats(), b.Stats())
	}
	if poolA.Available() != poolA.Cap() || poolB.Available() != poolB.Cap() {
		t.Error("buffers leaked")
	}
}
