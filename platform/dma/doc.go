// Package dma describes memory that a device reaches by DMA: a CPU view
// (Region.Mem) plus the bus address of every 4 KiB page, and the barriers
// that order CPU accesses to that memory against the device.
//
// It is OS-free. Allocator is implemented by platform/dma/linux (locked pages
// translated through /proc/self/pagemap, hugetlb pages when available), by
// platform/dma/dmatest (simulated physical memory for device models), and can
// be implemented by a hypervisor or a bare-metal runtime (identity-mapped or
// guest-physical memory, or IOVAs behind an IOMMU).
//
// # Page rule
//
// Pages of a Region need not be physically contiguous: on Linux, virtually
// ascending pages were observed physically descending (facts/qemu-e1000.md
// §8, gotcha 5). A descriptor ring or a buffer must therefore not cross a 4 KiB
// page boundary unless Region.Contiguous says the range is contiguous (a
// hugetlb page or an IOMMU mapping). Drivers lay out rings at page starts and
// carve buffers in sizes that divide the page (2 KiB slots, two per page).
//
// # Barriers
//
// WriteBarrier orders the CPU's earlier stores to DMA memory before later
// stores (the doorbell register write that tells the device to look): Linux
// dma_wmb(). ReadBarrier orders a load of a device-written status word before
// the loads of the data it guards: Linux dma_rmb(). On amd64 both are
// compiler barriers only (x86 keeps stores in order and loads in order); on
// arm64 they are DMB OSHST and DMB OSHLD. Every ordering point in a driver is
// a call to one of them, so they are greppable.
package dma
