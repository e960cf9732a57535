package mmio

import (
	"encoding/binary"
	"unsafe"
)

// Device registers are little-endian; lwgo reads them as native uint32, so it
// runs only on little-endian hosts (amd64, arm64, riscv64 in practice).
func init() {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		panic("mmio: big-endian hosts are not supported")
	}
}

// FromBytes returns a window over a mapped register region (for example an
// mmap of a PCI BAR). b must be 4-byte aligned; its length is rounded down to
// whole registers. The memory must stay mapped while the window is in use.
func FromBytes(b []byte) Regs {
	if len(b) < 4 {
		return Regs{}
	}
	p := unsafe.SliceData(b)
	if uintptr(unsafe.Pointer(p))&3 != 0 {
		panic("mmio: register window not 4-byte aligned")
	}
	return Regs{unsafe.Slice((*uint32)(unsafe.Pointer(p)), len(b)/4)}
}
