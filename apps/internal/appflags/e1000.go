//go:build linux

package appflags

import (
	"errors"
	"fmt"
	"time"

	"github.com/lwgo/lwgo/drivers/e1000"
	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/platform/dma/linux"
	"github.com/lwgo/lwgo/platform/pci"
	"github.com/lwgo/lwgo/platform/pci/sysfs"
	"github.com/lwgo/lwgo/rawapi"
)

// openE1000 drives the Intel 8254x function at PCI address addr ("auto": the
// first supported one) with lwgo's userspace driver: the function is found
// and opened through sysfs (a bound kernel driver is unbound first), BAR0 is
// mapped, and the rings and buffers come from locked, pagemap-translated
// memory (platform/dma/linux). It needs root. cfg.PoolBufs sizes the
// driver's DMA pool, which becomes the stack's packet pool (cfg.Pool, unless
// set), so frames the stack builds are transmitted without a copy.
func (n *Net) openE1000(addr string, cfg *rawapi.Config) (netif.Device, error) {
	if addr == "auto" {
		found, err := sysfs.Find(e1000.Supported...)
		if err != nil {
			return nil, fmt.Errorf("-e1000: %w", err)
		}
		if len(found) == 0 {
			return nil, errors.New("-e1000 auto: no supported Intel e1000 (8086:100e/100f/100c) on the PCI bus")
		}
		addr = found[0].Addr
	}
	pdev, err := sysfs.Open(addr)
	if err != nil {
		return nil, fmt.Errorf("-e1000: %w", err)
	}
	n.closers = append(n.closers, pdev.Close)
	if v, d := pdev.ID(); !e1000.IsSupported(pci.ID{Vendor: v, Device: d}) {
		return nil, fmt.Errorf("-e1000 %s: %04x:%04x is not a supported e1000", addr, v, d)
	}
	if pdev.Driver() != "" {
		if err := pdev.Unbind(); err != nil {
			return nil, fmt.Errorf("-e1000 %s: unbinding the kernel driver %s: %w", addr, pdev.Driver(), err)
		}
	}
	regs, err := pdev.MapBAR(0)
	if err != nil {
		return nil, fmt.Errorf("-e1000 %s: mapping BAR0: %w", addr, err)
	}
	alloc, err := linux.New(linux.Options{})
	if err != nil {
		return nil, fmt.Errorf("-e1000: DMA memory: %w", err)
	}
	n.closers = append(n.closers, alloc.Close)
	c := e1000.Config{Regs: regs, PCI: pdev, DMA: alloc, Clock: n.Clock,
		Sleep: func(d rawapi.Duration) { time.Sleep(time.Duration(d)) }}
	if cfg.PoolBufs > 4*256 {
		c.PoolBufs = cfg.PoolBufs
	}
	dev, err := e1000.New(c)
	if err != nil {
		return nil, fmt.Errorf("-e1000 %s: %w", addr, err)
	}
	n.closers = append(n.closers, dev.Close)
	n.polled = true
	if cfg.Pool == nil {
		cfg.Pool = dev.Pool() // zero-copy transmit from the driver's DMA pool
	}
	return dev, nil
}
