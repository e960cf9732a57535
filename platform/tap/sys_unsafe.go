//go:build linux

package tap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw read, write, readv and writev on the TAP descriptor. They return the
// errno itself rather than an error, so that no error value is boxed on the
// per-frame path, and take a caller-owned iovec array, so that nothing is
// allocated (unix.Readv and unix.Writev build a new iovec slice per call).

// sysRead reads one frame into p, which must not be empty.
func sysRead(fd int, p []byte) (int, unix.Errno) {
	n, _, e := unix.Syscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), e
}

// sysWrite writes one frame, p, which must not be empty.
func sysWrite(fd int, p []byte) (int, unix.Errno) {
	n, _, e := unix.Syscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), e
}

// setIovec points iov at p, which must not be empty.
func setIovec(iov *unix.Iovec, p []byte) {
	iov.Base = unsafe.SliceData(p)
	iov.SetLen(len(p))
}

// sysReadv2 reads one frame scattered over the two buffers of iov.
func sysReadv2(fd int, iov *[2]unix.Iovec) (int, unix.Errno) {
	n, _, e := unix.Syscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(iov)), 2)
	return int(n), e
}

// sysWritev2 writes one frame gathered from the two buffers of iov.
func sysWritev2(fd int, iov *[2]unix.Iovec) (int, unix.Errno) {
	n, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(iov)), 2)
	return int(n), e
}
