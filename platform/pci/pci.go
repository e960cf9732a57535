// Package pci is lwgo's view of a PCI function: its configuration space, its
// BARs, and mapping a memory BAR as a register window. It is OS-free: Linux
// programs use platform/pci/sysfs (enumeration through u-root's pkg/pci,
// config space and BARs through sysfs); a hypervisor or bare-metal runtime
// implements Function over ECAM or port I/O and its own page tables; tests
// implement it over a model.
package pci

import (
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/platform/mmio"
)

// Configuration-space offsets and command bits (PCI Local Bus Specification
// 3.0, §6.1–6.2).
const (
	RegVendorID  = 0x00 // 16 bits
	RegDeviceID  = 0x02 // 16 bits
	RegCommand   = 0x04 // 16 bits
	RegStatus    = 0x06 // 16 bits
	RegRevision  = 0x08 // 8 bits
	RegClass     = 0x09 // 24 bits: prog-if, subclass, class
	RegHeader    = 0x0E // 8 bits
	RegBAR0      = 0x10 // six 32-bit BARs up to 0x24
	RegSubVendor = 0x2C // 16 bits
	RegSubsystem = 0x2E // 16 bits
	RegIntLine   = 0x3C // 8 bits

	CmdIO          = 1 << 0  // I/O space decoding
	CmdMemory      = 1 << 1  // memory space decoding
	CmdBusMaster   = 1 << 2  // the device may initiate DMA
	CmdINTxDisable = 1 << 10 // legacy interrupt line disabled
)

// Config is a function's configuration space. Widths are 1, 2 or 4 bytes;
// off must be aligned to the width.
type Config interface {
	ReadConfig(off uint16, width int) (uint32, error)
	WriteConfig(off uint16, width int, v uint32) error
}

// BAR describes one base address register as the platform assigned it.
type BAR struct {
	Index    int    // 0–5
	Base     uint64 // bus address
	Size     uint64 // bytes; 0 if unimplemented
	IO       bool   // I/O space rather than memory
	Mem64    bool   // 64-bit memory BAR (occupies Index and Index+1)
	Prefetch bool   // prefetchable memory
}

// Function is one PCI function a driver can use.
type Function interface {
	Config
	// Addr is the function's address, "0000:00:02.0" (domain:bus:dev.fn).
	Addr() string
	// ID returns the vendor and device IDs.
	ID() (vendor, device uint16)
	// BAR describes BAR i, or returns errs.ErrArg if it is not implemented.
	BAR(i int) (BAR, error)
	// MapBAR maps memory BAR i as a register window. The window stays valid
	// until the Function is closed.
	MapBAR(i int) (mmio.Regs, error)
}

// ID is a vendor:device pair.
type ID struct{ Vendor, Device uint16 }

// EnableBusMaster sets the memory-decoding and bus-master bits of the
// command register (firmware often leaves bus mastering off; QEMU's e1000
// then reads descriptors as zeros and never writes back) and returns the old
// and new values. INTx is disabled too: lwgo drivers poll.
func EnableBusMaster(c Config) (old, cur uint16, err error) {
	v, err := c.ReadConfig(RegCommand, 2)
	if err != nil {
		return 0, 0, err
	}
	old = uint16(v)
	want := old | CmdMemory | CmdBusMaster | CmdINTxDisable
	if want != old {
		if err := c.WriteConfig(RegCommand, 2, uint32(want)); err != nil {
			return old, old, err
		}
	}
	v, err = c.ReadConfig(RegCommand, 2)
	if err != nil {
		return old, 0, err
	}
	cur = uint16(v)
	if cur&(CmdMemory|CmdBusMaster) != CmdMemory|CmdBusMaster {
		return old, cur, errs.ErrIf
	}
	return old, cur, nil
}

// DisableBusMaster clears the bus-master bit, stopping the device's DMA
// (done before DMA memory is freed).
func DisableBusMaster(c Config) error {
	v, err := c.ReadConfig(RegCommand, 2)
	if err != nil {
		return err
	}
	return c.WriteConfig(RegCommand, 2, v&^CmdBusMaster)
}

// ReadID reads the vendor and device IDs from configuration space.
func ReadID(c Config) (ID, error) {
	v, err := c.ReadConfig(RegVendorID, 4)
	if err != nil {
		return ID{}, err
	}
	return ID{uint16(v), uint16(v >> 16)}, nil
}

// ConfigMem is configuration space held in memory: a test double and the base
// of device models. Writes to read-only bits are not modelled.
type ConfigMem [256]byte

// ReadConfig implements Config.
func (m *ConfigMem) ReadConfig(off uint16, width int) (uint32, error) {
	if !validAccess(off, width, len(m)) {
		return 0, errs.ErrArg
	}
	var v uint32
	for i := width - 1; i >= 0; i-- {
		v = v<<8 | uint32(m[int(off)+i])
	}
	return v, nil
}

// WriteConfig implements Config.
func (m *ConfigMem) WriteConfig(off uint16, width int, v uint32) error {
	if !validAccess(off, width, len(m)) {
		return errs.ErrArg
	}
	for i := range width {
		m[int(off)+i] = byte(v >> (8 * i))
	}
	return nil
}

func validAccess(off uint16, width, size int) bool {
	return (width == 1 || width == 2 || width == 4) && int(off)%width == 0 && int(off)+width <= size
}
