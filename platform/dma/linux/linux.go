//go:build linux

// Package linux allocates DMA memory for userspace drivers on Linux without
// an IOMMU: anonymous memory locked with mlock, its pages translated to
// physical (bus) addresses through /proc/self/pagemap. With Options.Huge it
// first tries hugetlb pages (MAP_HUGETLB, 2 MiB on x86-64), which are
// physically contiguous and never migrate; otherwise, or when none are
// reserved (/proc/sys/vm/nr_hugepages), it uses 4 KiB pages with
// transparent huge pages disabled (MADV_NOHUGEPAGE) and translates each page,
// so a Region is usually not contiguous (see platform/dma's page rule).
//
// Requirements: CAP_SYS_ADMIN to read physical frame numbers from pagemap
// (without it the kernel reports frame 0 and Alloc fails), and a memory lock
// limit large enough (root has none). Physical addresses equal bus addresses
// only without an IOMMU (or with it in passthrough): a QEMU guest without
// intel-iommu, or bare metal with iommu=off/pt.
//
// Caveat: mlock keeps pages resident but does not stop the kernel from
// migrating them during compaction; for long runs set
// vm.compact_unevictable_allowed=0 or use hugetlb pages (facts/qemu-e1000.md
// §8, gotcha 6).
package linux

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/lwgo/lwgo/platform/dma"
)

// HugePageSize is the hugetlb page size used with Options.Huge (x86-64 and
// arm64 with 4 KiB base pages).
const HugePageSize = 2 << 20

// Options configure an Allocator.
type Options struct {
	// Huge tries hugetlb pages first for every allocation; allocations fall
	// back to 4 KiB pages when the kernel has none free.
	Huge bool
}

// Allocator is a dma.Allocator over locked, pagemap-translated memory. It is
// safe for concurrent use.
type Allocator struct {
	opt     Options
	mu      sync.Mutex
	pagemap *os.File
	// HugeUsed counts allocations served by hugetlb pages.
	hugeUsed int
}

// mapping is the Region's private handle.
type mapping struct {
	mem  []byte
	huge bool
}

// New opens /proc/self/pagemap and returns an allocator.
func New(o Options) (*Allocator, error) {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil, err
	}
	return &Allocator{opt: o, pagemap: f}, nil
}

// Close closes the pagemap file. Regions already allocated stay valid until
// freed.
func (a *Allocator) Close() error { return a.pagemap.Close() }

// HugeAllocs returns how many allocations were served by hugetlb pages.
func (a *Allocator) HugeAllocs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hugeUsed
}

// ErrNoPFN is returned when pagemap reports no physical frame: the process
// lacks CAP_SYS_ADMIN, or the page is not present.
var ErrNoPFN = errors.New("dma/linux: pagemap gives no physical frame (needs CAP_SYS_ADMIN)")

// Alloc implements dma.Allocator.
func (a *Allocator) Alloc(size int) (*dma.Region, error) {
	if size <= 0 {
		return nil, syscall.EINVAL
	}
	var mem []byte
	huge := false
	if a.opt.Huge {
		n := (size + HugePageSize - 1) &^ (HugePageSize - 1)
		m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_HUGETLB|syscall.MAP_POPULATE)
		if err == nil {
			mem, huge = m, true
		}
	}
	if mem == nil {
		n := dma.RoundPages(size)
		m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
		if err != nil {
			return nil, err
		}
		// Transparent huge pages could be split or collapsed (moving the
		// data) behind the driver's back: keep them away.
		_ = syscall.Madvise(m, syscall.MADV_NOHUGEPAGE)
		mem = m
	}
	if err := syscall.Mlock(mem); err != nil {
		_ = syscall.Munmap(mem)
		return nil, err
	}
	// Touch every page so each has a frame (mlock already faults them in;
	// writing also breaks any shared zero page).
	for off := 0; off < len(mem); off += dma.PageSize {
		mem[off] = 0
	}
	pages := make([]uint64, len(mem)/dma.PageSize)
	if err := a.translate(mem, pages); err != nil {
		_ = syscall.Munmap(mem)
		return nil, err
	}
	if huge {
		a.mu.Lock()
		a.hugeUsed++
		a.mu.Unlock()
	}
	return dma.NewRegion(mem, pages, &mapping{mem: mem, huge: huge}), nil
}

// translate fills pages with the physical address of each 4 KiB page of mem.
func (a *Allocator) translate(mem []byte, pages []uint64) error {
	va := sliceAddr(mem)
	buf := make([]byte, 8*len(pages))
	a.mu.Lock()
	_, err := a.pagemap.ReadAt(buf, int64(va/dma.PageSize)*8)
	a.mu.Unlock()
	if err != nil {
		return err
	}
	for i := range pages {
		pa, err := PagemapEntry(binary.LittleEndian.Uint64(buf[8*i:]))
		if err != nil {
			return err
		}
		pages[i] = pa
	}
	return nil
}

// PagemapEntry decodes one /proc/self/pagemap entry
// (Documentation/admin-guide/mm/pagemap.rst): bit 63 present, bits 0–54 the
// page frame number. It returns the physical address of the page.
func PagemapEntry(e uint64) (uint64, error) {
	const present = 1 << 63
	pfn := e & (1<<55 - 1)
	if e&present == 0 || pfn == 0 {
		return 0, ErrNoPFN
	}
	return pfn * dma.PageSize, nil
}

// Free implements dma.Allocator: unlocks and unmaps the region.
func (a *Allocator) Free(r *dma.Region) error {
	m, ok := r.Priv().(*mapping)
	if !ok {
		return syscall.EINVAL
	}
	_ = syscall.Munlock(m.mem)
	return syscall.Munmap(m.mem)
}

// ReserveHugePages makes sure at least n hugetlb pages are reserved, by
// writing /proc/sys/vm/nr_hugepages when fewer are. It changes a system-wide
// setting: call it only where the program owns the machine (a test guest,
// an appliance), never from a library on a shared host.
func ReserveHugePages(n int) (int, error) {
	const path = "/proc/sys/vm/nr_hugepages"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	cur, err := strconv.Atoi(string(trimSpace(b)))
	if err != nil {
		return 0, err
	}
	if cur >= n {
		return cur, nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(n)), 0); err != nil {
		return cur, err
	}
	b, err = os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(trimSpace(b)))
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
