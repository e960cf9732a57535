package dmatest

import (
	"testing"

	"github.com/lwgo/lwgo/platform/dma"
)

var _ dma.Allocator = (*Memory)(nil)

func TestScatteredPagesRefuseCrossing(t *testing.T) {
	m := New(8, Options{})
	r, err := m.Alloc(3 * dma.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	if r.IsContiguous() || r.Contiguous(dma.PageSize-8, 16) {
		t.Fatal("descending pages reported contiguous")
	}
	if !r.Contiguous(dma.PageSize, dma.PageSize) {
		t.Fatal("one whole page not contiguous")
	}
	// The device sees exactly the CPU's bytes within a page.
	r.Mem[dma.PageSize+10] = 0xAB
	b, ok := m.Slice(r.Bus(dma.PageSize+10), 1)
	if !ok || b[0] != 0xAB {
		t.Fatalf("Slice: ok=%v", ok)
	}
	// Crossing from page 1 into what the device thinks is the next page.
	if _, ok := m.Slice(r.Bus(dma.PageSize+dma.PageSize-8), 16); ok {
		t.Fatal("crossing accepted")
	}
	if _, ok := m.Slice(0x1000, 4); ok {
		t.Fatal("address outside memory accepted")
	}
	if m.Faults() != 2 {
		t.Fatalf("Faults = %d", m.Faults())
	}
	if err := m.Free(r); err != nil || m.InUse() != 0 {
		t.Fatalf("Free: %v, in use %d", err, m.InUse())
	}
	if _, ok := m.Slice(r.Bus(0), 4); ok {
		t.Fatal("freed page accepted")
	}
}

func TestContiguousMemory(t *testing.T) {
	m := New(4, Options{Contiguous: true})
	r, err := m.Alloc(2 * dma.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsContiguous() {
		t.Fatal("not contiguous")
	}
	if _, ok := m.Slice(r.Bus(dma.PageSize-8), 16); !ok {
		t.Fatal("crossing in contiguous memory refused")
	}
	if _, err := m.Alloc(3 * dma.PageSize); err == nil {
		t.Fatal("over-allocation succeeded")
	}
}
