//go:build amd64 || arm64

package dma

// WriteBarrier orders earlier stores to DMA memory before later stores, in
// particular before the register write that hands descriptors to the device
// (Linux dma_wmb). amd64: a compiler barrier (the call); arm64: DMB OSHST.
//
//go:noescape
func WriteBarrier()

// ReadBarrier orders an earlier load of a device-written status word before
// later loads of the data it guards (Linux dma_rmb). amd64: a compiler
// barrier (the call); arm64: DMB OSHLD.
//
//go:noescape
func ReadBarrier()
