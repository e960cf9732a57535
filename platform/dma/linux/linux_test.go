//go:build linux

package linux

import (
	"errors"
	"os"
	"testing"

	"github.com/lwgo/lwgo/platform/dma"
)

var _ dma.Allocator = (*Allocator)(nil)

func TestPagemapEntry(t *testing.T) {
	for _, c := range []struct {
		e    uint64
		pa   uint64
		fail bool
	}{
		{1<<63 | 0x11cb07, 0x11cb07000, false},
		{1<<63 | 1<<61 | 0x2950, 0x2950000, false}, // file/shared bit ignored
		{0x11cb07, 0, true},                        // not present
		{1 << 63, 0, true},                         // present, PFN hidden (no CAP_SYS_ADMIN)
	} {
		pa, err := PagemapEntry(c.e)
		if (err != nil) != c.fail || pa != c.pa {
			t.Errorf("PagemapEntry(%#x) = %#x, %v", c.e, pa, err)
		}
	}
}

// TestAllocTranslates allocates 4 KiB pages on the host (no hugetlb, no
// system setting changed) and checks every page has a physical address.
func TestAllocTranslates(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("pagemap frame numbers need CAP_SYS_ADMIN")
	}
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r, err := a.Alloc(5*dma.PageSize + 1)
	if errors.Is(err, ErrNoPFN) {
		t.Skipf("no PFNs here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if r.Pages() != 6 || r.Len() != 6*dma.PageSize {
		t.Fatalf("pages %d len %d", r.Pages(), r.Len())
	}
	seen := map[uint64]bool{}
	for i := range r.Pages() {
		pa := r.Bus(i * dma.PageSize)
		if pa == 0 || pa%dma.PageSize != 0 || seen[pa] {
			t.Fatalf("page %d: pa %#x", i, pa)
		}
		seen[pa] = true
	}
	t.Logf("pages: %#x … contiguous=%v", r.Bus(0), r.IsContiguous())
	r.Mem[len(r.Mem)-1] = 1
	if err := a.Free(r); err != nil {
		t.Fatal(err)
	}
}
