//go:build linux

package main

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// xchgWindow maps BAR0 a second time as raw words, for the one experiment
// the driver's mmio.Regs deliberately cannot do: an atomic.StoreUint32
// (XCHG on amd64) to a register.
type xchgWindow struct {
	mem []byte
	w   []uint32
}

func mapRaw(resource string, size int) (*xchgWindow, error) {
	f, err := os.OpenFile(resource, os.O_RDWR|syscall.O_SYNC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &xchgWindow{mem: m, w: unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(m))), size/4)}, nil
}

// xchg stores v at byte offset off with atomic.StoreUint32.
func (x *xchgWindow) xchg(off uint32, v uint32) { atomic.StoreUint32(&x.w[off/4], v) }

func (x *xchgWindow) close() { syscall.Munmap(x.mem) }
