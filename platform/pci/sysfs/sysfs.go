//go:build linux

// Package sysfs reaches PCI functions from Linux userspace: enumeration and
// BAR descriptions through u-root's pkg/pci (which reads
// /sys/bus/pci/devices), configuration space through the function's sysfs
// config file (pread/pwrite, one file descriptor kept open), BAR mapping
// through sysfs resourceN (mmap), and, what pkg/pci lacks, bus mastering
// (pci.EnableBusMaster over this package's Config) and unbinding a kernel
// driver.
//
// It needs root. A memory BAR cannot be mapped while a kernel driver owns the
// device on kernels with CONFIG_IO_STRICT_DEVMEM (mmap fails with EINVAL):
// unbind it first, or keep the driver from loading (facts/qemu-e1000.md §4).
// The reverse holds too: when a kernel driver claims the device later, the
// kernel revokes existing mappings and the next register access faults
// (observed in the QEMU tier when e1000.ko was loaded under a running lwgo
// driver).
//
// Enumeration and BAR descriptions come from u-root's pkg/pci; configuration
// reads and writes use this package's own pread/pwrite on the same sysfs
// file, kept open (pkg/pci's ReadConfigRegister reopens the file on every
// access).
package sysfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	upci "github.com/u-root/u-root/pkg/pci"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/platform/mmio"
	"github.com/lwgo/lwgo/platform/pci"
)

// Root is the sysfs directory of PCI functions.
const Root = "/sys/bus/pci/devices"

// Linux IORESOURCE_* flags in the third column of sysfs "resource"
// (include/linux/ioport.h).
const (
	ioresourceIO       = 0x100
	ioresourceMem      = 0x200
	ioresourcePrefetch = 0x2000
	ioresourceMem64    = 0x100000
)

// Device is one PCI function opened through sysfs. It implements
// pci.Function. Close it to unmap its BARs and close its config file.
type Device struct {
	dir    string
	addr   string
	id     pci.ID
	bars   [6]pci.BAR
	config *os.File

	mu   sync.Mutex
	maps [][]byte
}

// Find lists the functions whose vendor:device pair is in ids (all functions
// if ids is empty), sorted by address, without opening them.
func Find(ids ...pci.ID) ([]Info, error) {
	r, err := upci.NewBusReader()
	if err != nil {
		return nil, err
	}
	devs, err := r.Read(func(p *upci.PCI) bool {
		if len(ids) == 0 {
			return true
		}
		for _, id := range ids {
			if p.Vendor == id.Vendor && p.Device == id.Device {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(devs))
	for _, p := range devs {
		in := Info{Addr: p.Addr, ID: pci.ID{Vendor: p.Vendor, Device: p.Device}, Class: p.Class,
			Driver: driverOf(p.FullPath)}
		for _, b := range p.BARS {
			if b.Index < 6 {
				in.BARs[b.Index] = barFrom(b)
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// Info describes a function found by Find.
type Info struct {
	Addr   string     // "0000:00:02.0"
	ID     pci.ID     // vendor and device
	Class  uint32     // class code, 24 bits
	Driver string     // bound kernel driver, "" if none
	BARs   [6]pci.BAR // as assigned by firmware; Size 0 if unimplemented
}

func barFrom(b upci.BAR) pci.BAR {
	out := pci.BAR{Index: b.Index, Base: b.Base}
	if b.Lim >= b.Base && b.Base != 0 {
		out.Size = b.Lim - b.Base + 1
	}
	out.IO = b.Attr&ioresourceIO != 0
	out.Mem64 = b.Attr&ioresourceMem64 != 0
	out.Prefetch = b.Attr&ioresourcePrefetch != 0
	return out
}

// driverOf returns the name of the kernel driver bound to the function in
// dir, or "".
func driverOf(dir string) string {
	l, err := os.Readlink(filepath.Join(dir, "driver"))
	if err != nil {
		return ""
	}
	return filepath.Base(l)
}

// Open opens the function at addr ("0000:00:02.0").
func Open(addr string) (*Device, error) {
	if strings.ContainsAny(addr, "/") || addr == "" {
		return nil, errs.ErrArg
	}
	dir := filepath.Join(Root, addr)
	p, err := upci.OnePCI(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "config"), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	d := &Device{dir: dir, addr: addr, id: pci.ID{Vendor: p.Vendor, Device: p.Device}, config: f}
	for _, b := range p.BARS {
		if b.Index < 6 {
			d.bars[b.Index] = barFrom(b)
		}
	}
	return d, nil
}

// Addr implements pci.Function.
func (d *Device) Addr() string { return d.addr }

// ID implements pci.Function.
func (d *Device) ID() (vendor, device uint16) { return d.id.Vendor, d.id.Device }

// Driver returns the kernel driver bound to the function, or "".
func (d *Device) Driver() string { return driverOf(d.dir) }

// Unbind detaches the bound kernel driver, if any. The Linux e1000 driver
// clears bus mastering and takes the link down on unbind; the lwgo driver
// re-initialises both.
func (d *Device) Unbind() error {
	if d.Driver() == "" {
		return nil
	}
	return os.WriteFile(filepath.Join(d.dir, "driver", "unbind"), []byte(d.addr), 0)
}

// ReadConfig implements pci.Config with one pread of width bytes.
func (d *Device) ReadConfig(off uint16, width int) (uint32, error) {
	if !valid(off, width) {
		return 0, errs.ErrArg
	}
	var b [4]byte
	n, err := d.config.ReadAt(b[:width], int64(off))
	if err != nil {
		return 0, err
	}
	if n != width {
		return 0, errs.ErrIf
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
}

// WriteConfig implements pci.Config with one pwrite of width bytes.
func (d *Device) WriteConfig(off uint16, width int, v uint32) error {
	if !valid(off, width) {
		return errs.ErrArg
	}
	b := [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	_, err := d.config.WriteAt(b[:width], int64(off))
	return err
}

func valid(off uint16, width int) bool {
	return (width == 1 || width == 2 || width == 4) && int(off)%width == 0 && int(off)+width <= 4096
}

// BAR implements pci.Function.
func (d *Device) BAR(i int) (pci.BAR, error) {
	if i < 0 || i >= 6 || d.bars[i].Size == 0 {
		return pci.BAR{}, errs.ErrArg
	}
	return d.bars[i], nil
}

// ErrBound is returned by MapBAR when a kernel driver owns the device.
var ErrBound = errors.New("pci/sysfs: a kernel driver is bound to the device; unbind it first")

// MapBAR implements pci.Function: it maps memory BAR i through
// sysfs resourceN (O_RDWR|O_SYNC, MAP_SHARED; uncached on x86 because the
// kernel maps resource files UC-).
func (d *Device) MapBAR(i int) (mmio.Regs, error) {
	b, err := d.BAR(i)
	if err != nil {
		return mmio.Regs{}, err
	}
	if b.IO {
		return mmio.Regs{}, errs.ErrArg
	}
	f, err := os.OpenFile(filepath.Join(d.dir, "resource"+string(rune('0'+i))), os.O_RDWR|syscall.O_SYNC, 0)
	if err != nil {
		return mmio.Regs{}, err
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, int(b.Size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		if errors.Is(err, syscall.EINVAL) && d.Driver() != "" {
			return mmio.Regs{}, ErrBound
		}
		return mmio.Regs{}, err
	}
	d.mu.Lock()
	d.maps = append(d.maps, m)
	d.mu.Unlock()
	return mmio.FromBytes(m), nil
}

// Close unmaps every BAR mapped through d and closes its config file. Windows
// from MapBAR must not be used afterwards.
func (d *Device) Close() error {
	d.mu.Lock()
	maps := d.maps
	d.maps = nil
	d.mu.Unlock()
	var first error
	for _, m := range maps {
		if err := syscall.Munmap(m); err != nil && first == nil {
			first = err
		}
	}
	if err := d.config.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

var _ pci.Function = (*Device)(nil)
