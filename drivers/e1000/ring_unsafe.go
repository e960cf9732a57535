package e1000

import "unsafe"

// descWords views descriptor-ring memory (from platform/dma, 4-byte aligned:
// regions are page-aligned and rings start on page boundaries) as 32-bit
// little-endian words: descriptor i is words[4i : 4i+4].
func descWords(mem []byte) []uint32 {
	if len(mem) < 4 {
		return nil
	}
	p := unsafe.SliceData(mem)
	if uintptr(unsafe.Pointer(p))&3 != 0 {
		panic("e1000: descriptor ring not 4-byte aligned")
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(p)), len(mem)/4)
}
