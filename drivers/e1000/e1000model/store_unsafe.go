package e1000model

import (
	"sync/atomic"
	"unsafe"
)

// storeStatus writes the status word (bytes 12–15) of a 16-byte descriptor
// with an atomic store: the device's write-back that the driver polls with
// atomic loads. d comes from dmatest memory, 4-byte aligned.
func storeStatus(d []byte, v uint32) {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&d[12])), v)
}
