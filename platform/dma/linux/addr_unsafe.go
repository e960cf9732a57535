//go:build linux

package linux

import "unsafe"

// sliceAddr returns the virtual address of b's first byte (b is an mmap'd
// region outside the Go heap, so the address is stable).
func sliceAddr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
