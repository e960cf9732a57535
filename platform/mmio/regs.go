package mmio

import "sync/atomic"

// Window is a device's 32-bit register space. Offsets are in bytes and must
// be multiples of 4 inside the window; an offset outside it is a driver bug
// and panics (the offsets are the driver's constants, never device input).
type Window interface {
	// Read32 loads the register at off. It is one 32-bit read: on
	// clear-on-read registers it clears them.
	Read32(off uint32) uint32
	// Write32 stores v to the register at off: one 32-bit write, no read.
	Write32(off uint32, v uint32)
}

// Regs is a bounds-checked window of 32-bit little-endian registers over
// mapped memory. The zero Regs is an empty window.
type Regs struct{ w []uint32 }

// FromWords returns a window over w: a plain register file for tests, or a
// mapping a platform has already typed as words.
func FromWords(w []uint32) Regs { return Regs{w} }

// Len returns the size of the window in bytes.
func (r Regs) Len() int { return 4 * len(r.w) }

// Read32 loads the register at byte offset off with atomic.LoadUint32.
func (r Regs) Read32(off uint32) uint32 {
	checkAligned(off)
	return atomic.LoadUint32(&r.w[off>>2])
}

// Write32 stores v to the register at byte offset off with one plain,
// non-inlined 32-bit store.
func (r Regs) Write32(off uint32, v uint32) {
	checkAligned(off)
	store32(&r.w[off>>2], v)
}

// store32 is the single plain store behind every register write. It must not
// be inlined: the call is what keeps the compiler from merging or dropping
// back-to-back writes to the same register (a doorbell written twice is two
// doorbells), and from moving the store across other memory accesses.
//
//go:noinline
func store32(p *uint32, v uint32) { *p = v }

func checkAligned(off uint32) {
	if off&3 != 0 {
		badOffset()
	}
}

//go:noinline
func badOffset() { panic("mmio: unaligned 32-bit register offset") }

// Set sets bits in the register at off: a read followed by a write. Do not
// use it on registers with read side effects.
func Set(w Window, off, bits uint32) { w.Write32(off, w.Read32(off)|bits) }

// Clear clears bits in the register at off (read, then write).
func Clear(w Window, off, bits uint32) { w.Write32(off, w.Read32(off)&^bits) }
