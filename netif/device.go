package netif

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// Device is a polled Ethernet device. All methods are called from the
// stack's goroutine only and must not block.
type Device interface {
	// Receive moves up to len(dst) received frames into dst and returns how
	// many it stored. Each frame is an Ethernet II frame without FCS, in a Buf
	// whose Bytes() are exactly the frame; the caller owns the Bufs. A device
	// that receives into memory of its own hands over its own Bufs (they
	// return to its pool on Free); one that does not copies into Bufs
	// allocated from pool, and counts a drop when pool is empty.
	Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int

	// Transmit queues frames for sending. It takes ownership of frames[:n]
	// and returns n; the caller keeps frames[n:] (the device is full) and
	// decides whether to retry or drop them. Each frame is a complete Ethernet
	// II frame without FCS; the device pads short frames if the medium needs it.
	Transmit(frames []*pbuf.Buf) int

	// HardwareAddr returns the device's MAC address.
	HardwareAddr() wire.MAC

	// MTU returns the largest IP datagram the device carries (1500 for
	// Ethernet), not the frame size.
	MTU() int

	// Caps returns the device's capabilities. They do not change while the
	// device is attached.
	Caps() Caps

	// LinkUp reports whether the link is up. The stack polls it.
	LinkUp() bool
}

// Caps describes what a device does for the stack.
type Caps struct {
	// RxChecksum: the device marks verified checksums on received Bufs
	// (pbuf.RxIPv4ChecksumOK, pbuf.RxL4ChecksumOK); unmarked ones are
	// verified in software.
	RxChecksum bool
	// TxChecksumOffload: the device completes the TCP checksum of frames
	// flagged pbuf.TxL4ChecksumPartial (the stack leaves the pseudo-header
	// sum in the field). IPv4 header checksums are always the stack's.
	TxChecksumOffload bool
	// TSOMax, when not 0, is the largest IPv4 datagram (at most 65535 bytes)
	// the device accepts with pbuf.Buf.GSOSize set and cuts into MTU-sized
	// TCP segments itself (TCP segmentation offload). It needs
	// TxChecksumOffload: such frames are always checksum-partial.
	TSOMax int
	// NoARP: the device has no link neighbours to resolve (loopback); frames
	// go out addressed to the device's own MAC.
	NoARP bool
}

// Counters are the per-interface counters (lwIP's MIB-2 netif counters).
type Counters struct {
	RxFrames, RxBytes uint64 // frames and bytes received from the device
	TxFrames, TxBytes uint64 // frames and bytes accepted by the device
	RxDrops           uint64 // received frames dropped before any protocol saw them
	TxDrops           uint64 // frames the device refused (full) or that could not be built
	RxBroadcast       uint64 // link-layer broadcast or multicast frames received
}

// Deadliner is implemented by devices that hold frames until a time (delay
// emulation, pacing). The stack includes NextDeadline in the deadline Poll
// returns, so a sleeping loop wakes to release them.
type Deadliner interface {
	NextDeadline() clock.Time
}
