// Package pipe is an in-memory Ethernet wire joining two stacks: the test
// double for two-stack tests (lwIP's test netif, gVisor's link/channel).
//
//	a, b := pipe.New(pipe.Config{})
//	// stack A attaches a, stack B attaches b; frames a transmits are
//	// received on b, and the other way round.
//
// Contract:
//
//   - New allocates everything: per direction a ring of Config.QueueLen
//     slots of Config.MaxFrame bytes. Transmit and Receive never allocate
//     (TestTransmitReceiveDoNotAllocate).
//   - Transmit copies each frame into the ring toward the peer and frees the
//     Buf at once, so the two stacks never share a buffer and each keeps its
//     own pool. It accepts every frame and returns len(frames), as a wire
//     does: frames it cannot carry are freed and counted in the sender's
//     Stats (DroppedFull: the ring is full; DroppedOversize: longer than
//     MaxFrame or than the peer's MTU+14, which a real NIC would not accept;
//     DroppedLinkDown: the link is down). Frames shorter than 60 bytes are
//     zero-padded to 60, as an Ethernet NIC pads them on transmit, so
//     receivers see realistic padding.
//   - Receive copies frames, oldest first, into Bufs allocated from its pool
//     argument (LayerRaw, data exactly the frame) and hands them over. When
//     the pool is empty, or its slots are too small, the frame at the head
//     of the ring is dropped and counted (the receiver's
//     Stats.DroppedNoBuf), and Receive returns what it has so far.
//   - The link state is the cable's: End.SetLinkUp changes it for both ends.
//     Taking it down loses the frames in flight (counted as DroppedLinkDown
//     on their sender).
//   - Received Bufs carry no checksum flags; LinkBroadcast is set for group
//     destination addresses. Caps are all false: the stacks compute and
//     verify checksums in software.
//
// Concurrency: a pipe is single-goroutine. Both stacks joined by it must be
// polled from one goroutine (a test or netsim loop); it has no locks, and
// the race detector reports any other use.
//
// Impairments: wrap an End with netif/fault to impair the direction leaving
// it; wrap both ends with their own fault.Config (and seeds) to impair each
// direction independently:
//
//	a, b := pipe.New(pipe.Config{})
//	fa := fault.New(a, clk, fault.Config{Seed: 1, DropRate: 0.01}) // A→B loses 1%
//	fb := fault.New(b, clk, fault.Config{Seed: 2, Delay: 5 * clock.Millisecond}) // B→A is late
//	// attach fa to stack A and fb to stack B
//
// The fault counters live in each wrapper's Stats; the pipe's own counters
// see only what the wrappers let through.
//
// Not implemented: a bandwidth or latency model of its own (use
// netif/fault); frames on the wire are delivered as soon as the peer polls.
package pipe
