package dma

import "github.com/lwgo/lwgo/core/errs"

// PageSize is the granularity of bus-address translation: 4 KiB, the smallest
// page on the platforms lwgo targets.
const PageSize = 4096

// Region is one allocation of DMA memory. Mem is the CPU view; the bus
// address of byte off is Bus(off). Regions come from an Allocator.
type Region struct {
	// Mem is the CPU view of the memory, PageSize-aligned, a whole number of
	// pages long, zeroed by Alloc.
	Mem []byte

	pages  []uint64 // bus address of each PageSize page of Mem
	contig bool     // all pages bus-contiguous
	priv   any      // allocator's handle (mapping, pool index)
}

// NewRegion builds a Region over mem (a whole number of pages) whose page i
// has bus address pages[i]. Allocators call it; priv is returned by Priv for
// their Free. It panics if the lengths disagree (an allocator bug).
func NewRegion(mem []byte, pages []uint64, priv any) *Region {
	if len(mem) != len(pages)*PageSize {
		panic("dma: NewRegion: len(mem) != len(pages)*PageSize")
	}
	r := &Region{Mem: mem, pages: pages, priv: priv, contig: true}
	for i := 1; i < len(pages); i++ {
		if pages[i] != pages[i-1]+PageSize {
			r.contig = false
			break
		}
	}
	return r
}

// Priv returns the allocator's handle given to NewRegion.
func (r *Region) Priv() any { return r.priv }

// Len returns the size of the region in bytes.
func (r *Region) Len() int { return len(r.Mem) }

// Pages returns the number of PageSize pages.
func (r *Region) Pages() int { return len(r.pages) }

// Bus returns the bus address of byte off of the region, or 0 if off is
// outside it.
func (r *Region) Bus(off int) uint64 {
	if off < 0 || off >= len(r.Mem) {
		return 0
	}
	return r.pages[off/PageSize] + uint64(off%PageSize)
}

// Contiguous reports whether bytes [off, off+n) are bus-contiguous, so that a
// device may read or write them as one range.
func (r *Region) Contiguous(off, n int) bool {
	if off < 0 || n <= 0 || off+n > len(r.Mem) {
		return false
	}
	if r.contig {
		return true
	}
	first, last := off/PageSize, (off+n-1)/PageSize
	for p := first + 1; p <= last; p++ {
		if r.pages[p] != r.pages[p-1]+PageSize {
			return false
		}
	}
	return true
}

// IsContiguous reports whether the whole region is bus-contiguous.
func (r *Region) IsContiguous() bool { return r.contig }

// Allocator hands out DMA memory. Implementations document whether they are
// safe for concurrent use; drivers call them only while opening and closing.
type Allocator interface {
	// Alloc returns a zeroed region of at least size bytes (rounded up to
	// whole pages), locked in memory, with bus addresses. It returns
	// errs.ErrMem when no memory is left.
	Alloc(size int) (*Region, error)
	// Free releases a region. The device must no longer use it.
	Free(r *Region) error
}

// ErrMem is returned by allocators that have no memory left.
var ErrMem error = errs.ErrMem

// RoundPages rounds n up to a whole number of pages.
func RoundPages(n int) int { return (n + PageSize - 1) &^ (PageSize - 1) }
