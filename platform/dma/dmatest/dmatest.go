// Package dmatest is simulated physical memory for device models: a
// dma.Allocator whose regions are ordinary Go memory with made-up bus
// addresses, and the device side of it (Slice), which refuses DMA that a real
// machine would scatter into unrelated pages.
//
// By default bus addresses are assigned to pages in descending order, as Linux
// was observed to hand out locked 4 KiB pages (facts/qemu-e1000.md §8,
// gotcha 5): two virtually adjacent pages are never bus-adjacent, so a driver
// that lets a descriptor or buffer cross a page boundary is caught. With
// Contiguous set, addresses ascend (a hugetlb page or an IOMMU mapping).
package dmatest

import (
	"sync"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/platform/dma"
)

// Options configure a Memory.
type Options struct {
	// Base is the bus address of the lowest page (default 0x10000000).
	Base uint64
	// Contiguous assigns ascending bus addresses, so every region is
	// bus-contiguous.
	Contiguous bool
}

// Memory is simulated physical memory of a fixed number of pages. It is safe
// for concurrent use; the bytes themselves are synchronised by the driver's
// and the model's own protocol (descriptor status words).
type Memory struct {
	arena []byte
	base  uint64
	n     int
	asc   bool

	mu   sync.Mutex
	used []bool // per page
	// Faults counts device accesses Slice refused.
	faults uint64
}

// New returns a Memory of pages 4 KiB pages.
func New(pages int, o Options) *Memory {
	if o.Base == 0 {
		o.Base = 0x10000000
	}
	return &Memory{arena: make([]byte, pages*dma.PageSize), base: o.Base, n: pages, asc: o.Contiguous,
		used: make([]bool, pages)}
}

// bus returns the bus address of arena page i.
func (m *Memory) bus(i int) uint64 {
	if m.asc {
		return m.base + uint64(i)*dma.PageSize
	}
	return m.base + uint64(m.n-1-i)*dma.PageSize
}

// page returns the arena page holding bus address a, or -1.
func (m *Memory) page(a uint64) int {
	if a < m.base {
		return -1
	}
	k := int((a - m.base) / dma.PageSize)
	if k >= m.n {
		return -1
	}
	if m.asc {
		return k
	}
	return m.n - 1 - k
}

// Alloc implements dma.Allocator: first fit over free pages.
func (m *Memory) Alloc(size int) (*dma.Region, error) {
	np := dma.RoundPages(max(size, 1)) / dma.PageSize
	m.mu.Lock()
	defer m.mu.Unlock()
	run := 0
	for i := 0; i < m.n; i++ {
		if m.used[i] {
			run = 0
			continue
		}
		run++
		if run == np {
			first := i - np + 1
			pages := make([]uint64, np)
			for j := range pages {
				m.used[first+j] = true
				pages[j] = m.bus(first + j)
			}
			mem := m.arena[first*dma.PageSize : (i+1)*dma.PageSize : (i+1)*dma.PageSize]
			clear(mem)
			return dma.NewRegion(mem, pages, first), nil
		}
	}
	return nil, errs.ErrMem
}

// Free implements dma.Allocator.
func (m *Memory) Free(r *dma.Region) error {
	first, ok := r.Priv().(int)
	if !ok {
		return errs.ErrArg
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for j := range r.Pages() {
		m.used[first+j] = false
	}
	return nil
}

// Slice is the device's view of DMA: the n bytes at bus address a, or false
// (counted in Faults) if any of them lies in a page that is not allocated, or
// if the range crosses into a page that is not the next page of the same CPU
// mapping (a real device would read or write an unrelated page there).
func (m *Memory) Slice(a uint64, n int) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n <= 0 {
		m.faults++
		return nil, false
	}
	first := m.page(a)
	last := m.page(a + uint64(n) - 1)
	if first < 0 || last < 0 || last < first || last-first != int((a%dma.PageSize+uint64(n)-1)/dma.PageSize) {
		m.faults++
		return nil, false
	}
	for p := first; p <= last; p++ {
		if !m.used[p] {
			m.faults++
			return nil, false
		}
	}
	off := first*dma.PageSize + int(a%dma.PageSize)
	return m.arena[off : off+n : off+n], true
}

// Faults returns the number of device accesses Slice refused.
func (m *Memory) Faults() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.faults
}

// InUse returns the number of allocated pages.
func (m *Memory) InUse() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := 0
	for _, u := range m.used {
		if u {
			k++
		}
	}
	return k
}
