//go:build linux

package main

import (
	"syscall"
	"unsafe"
)

// ifreq is struct ifreq with a sockaddr_in or flags union (40 bytes).
type ifreq struct {
	name [16]byte
	data [24]byte
}

func ioctl(fd int, req uintptr, ifr *ifreq) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(ifr))); e != 0 {
		return e
	}
	return nil
}

// finitModule loads a kernel module from an open file (finit_module(2)).
func finitModule(fd int) error {
	params := []byte{0}
	if _, _, e := syscall.Syscall(sysFinitModule, uintptr(fd),
		uintptr(unsafe.Pointer(&params[0])), 0); e != 0 {
		return e
	}
	return nil
}

// sysFinitModule is finit_module's number on x86-64 (the guest's only
// architecture); package syscall does not define it.
const sysFinitModule = 313
