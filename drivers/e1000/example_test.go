package e1000_test

import (
	"fmt"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/drivers/e1000"
	"github.com/lwgo/lwgo/drivers/e1000/e1000model"
	"github.com/lwgo/lwgo/platform/dma/dmatest"
)

// A hypervisor that shares the NIC with a guest calls Service whenever it
// has control anyway, here on a trapped guest read of the interrupt cause
// register, before letting the read through: the driver refills its RX ring
// and reclaims TX descriptors from descriptor status bits alone, so the
// guest still sees its own interrupt causes. The stack's poll loop then
// receives what Service queued.
func ExampleDevice_Service() {
	mem := dmatest.New(1024, dmatest.Options{})
	nic := e1000model.New(mem, wire.MAC{0x52, 0x54, 0, 0x12, 0x34, 0x56})
	dev, err := e1000.New(e1000.Config{Regs: nic, PCI: nic.Config(), DMA: mem, Clock: &clock.Manual{},
		RxRing: 32, TxRing: 32})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Close()

	// Two frames arrive for us.
	f := make([]byte, 60)
	copy(f, []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56})
	nic.Inject(f)
	nic.Inject(f)

	// The guest's driver reads ICR; the hypervisor's trap handler first runs:
	rx, tx := dev.Service(64)
	fmt.Printf("service: %d frames queued, %d TX descriptors reclaimed\n", rx, tx)
	// ...then passes the guest's read through; the cause is still there:
	fmt.Printf("guest reads ICR: %#x\n", nic.Read32(e1000model.ICR))

	// Later the stack's loop polls the device as usual.
	dst := make([]*pbuf.Buf, 8)
	n := dev.Receive(nil, dst)
	fmt.Printf("stack receives %d frames\n", n)
	for _, b := range dst[:n] {
		b.Free()
	}
	// Output:
	// service: 2 frames queued, 0 TX descriptors reclaimed
	// guest reads ICR: 0x80
	// stack receives 2 frames
}
