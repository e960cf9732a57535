// Package mmio is lwgo's access to device registers: a window of 32-bit
// little-endian registers mapped from a PCI BAR (or, in tests, a register
// model). It is OS-free: a hypervisor or bare-metal runtime builds a Regs over
// memory it maps itself, a Linux program gets one from platform/pci/sysfs.
//
// # Access rules (STYLE.md §11.2, facts/qemu-e1000.md §9)
//
//   - Reads are atomic.LoadUint32: one aligned 32-bit load (MOVL on amd64,
//     LDARW on arm64) that the compiler never elides, merges or splits. Safe on
//     clear-on-read registers (e1000 ICR, statistics), where the read is the
//     point.
//   - Writes are one plain 32-bit store inside a //go:noinline function, so
//     the call boundary keeps the compiler from merging, eliminating or
//     reordering it against other memory accesses. There is no hidden read:
//     atomic.StoreUint32 is XCHG on amd64, a locked read-modify-write that may
//     reach a device as a read, and e1000 ICR and statistics clear on read.
//     TestWriteIsOnePlainStore checks the instruction in the compiler's
//     listing (amd64: exactly one MOVL to memory; arm64: one 32-bit MOVW
//     store; no XCHG or exclusive/acquire-release form; not inlined).
//     Verified on QEMU 7.2's e1000 under TCG (test/qemu TestMMIOAccessRule):
//     with an LSC cause pending, a Write32 of 0 to ICR kept it, while an
//     atomic.StoreUint32 of 0 to ICR lost it (the XCHG's read cleared ICR).
//   - Ordering against DMA memory comes from platform/dma's WriteBarrier and
//     ReadBarrier, never from the register access itself.
//
// Window is the interface drivers use, so a register-level device model
// (drivers/e1000's test model) can give register accesses side effects; Regs
// is the implementation over mapped memory.
package mmio
