//go:build !amd64 && !arm64

package dma

import "sync/atomic"

var fence uint32

// WriteBarrier orders earlier stores to DMA memory before later stores. On
// architectures without a dedicated implementation it is a sequentially
// consistent atomic operation, a full fence on every Go port.
func WriteBarrier() { atomic.AddUint32(&fence, 1) }

// ReadBarrier orders an earlier status load before later data loads (full
// fence here; see WriteBarrier).
func ReadBarrier() { atomic.AddUint32(&fence, 1) }
