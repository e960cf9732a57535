// Package e1000 is a polled driver for the Intel PRO/1000 8254x family with
// legacy descriptors: the 82540EM (8086:100e) that QEMU's "e1000" device
// emulates, and the 82545EM (8086:100f) and 82544GC (8086:100c) that QEMU
// also models with the same register set (facts/nics.md §1–§2). It
// implements netif.Device over platform interfaces only: registers through
// mmio.Window, DMA memory through dma.Allocator, configuration space through
// pci.Config, time through clock.Source. A Linux program gets those from
// platform/pci/sysfs and platform/dma/linux; a hypervisor or bare-metal
// runtime supplies its own; the tests use a register-level model.
//
// # Data path
//
// One DMA region holds the RX ring, the TX ring (each at most 256
// descriptors, one page), one 2 KiB TX bounce buffer per TX descriptor and a
// pbuf.Pool of 2 KiB slots, two per page, so that no descriptor ring or
// buffer crosses a 4 KiB page (pages need not be physically contiguous).
//
//   - Receive hands up the pool Bufs the device wrote (zero copy) and refills
//     each descriptor from the pool; when the pool is empty it recycles the
//     received buffer into its descriptor and counts a drop (RxNoBuf). The
//     tail register is written once per batch, one behind the next slot to
//     read: RDT == RDH means "ring empty" to the device, so one descriptor is
//     always left as the gap.
//   - Transmit takes frames from the stack. A frame in a Buf of this
//     driver's pool (Pool()) is sent in place; any other frame is copied into
//     its descriptor's bounce buffer and freed at once. Frames are padded to
//     60 bytes. Descriptors carry EOP|IFCS|RS; TDT is written once per batch
//     after dma.WriteBarrier. Completed descriptors (DD) are reclaimed, and
//     their Bufs freed, before each batch and by Service: never while the
//     device still owns them.
//   - Service(budget) is the piggyback entry point for hypervisors: bounded
//     work found from descriptor status bits only (TX reclaim, RX harvest
//     into a queue that Receive drains). It never reads ICR or any other
//     register with read side effects, so interrupt causes stay with whoever
//     owns them (a guest's driver).
//
// Interrupts are masked (IMC = all ones); the driver is polled. ICR is never
// read. Statistics registers, which clear on read, are read only by
// UpdateStats, which accumulates them.
//
// # Untrusted device
//
// The device is treated as untrusted input: a length beyond the 2 KiB buffer
// or below an Ethernet header, a frame without EOP, error bits, or DD on a
// descriptor the device does not own are each counted and the descriptor
// recycled; a reset that never completes, an EEPROM read that never
// finishes and a transmit that never completes are bounded by timeouts and
// counted (a stalled TX ring is stopped and reset before its buffers are
// freed). None of these panics or writes outside a buffer. (Without an IOMMU
// a malicious device can still DMA anywhere; these checks keep the driver's
// own state sound.)
//
// # Concurrency
//
// A Device belongs to one goroutine at a time: the stack's loop, or the
// hypervisor context that calls Service, serialised by the caller.
//
// Not implemented: interrupts, checksum offload, TSO, multicast filters other
// than broadcast (MTA is cleared; Promiscuous enables UPE|MPE), VLANs, jumbo
// frames, the 8257x/e1000e families.
package e1000
