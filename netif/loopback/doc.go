// Package loopback is a Device that delivers every frame transmitted on it
// back to its own Receive: lwIP's loopif (netif_loop_output and
// netif_poll, loopif.c), as a polled Device.
//
// Contract:
//
//   - Transmit accepts every frame it is given and returns len(frames), as a
//     wire does: a frame that finds the queue full (Config.QueueLen frames),
//     or that is longer than MTU plus the 14-byte Ethernet header, is freed
//     and counted (Stats.DroppedFull, Stats.DroppedOversize); it never pushes
//     back.
//   - Receive hands back queued frames in transmit order, at most len(dst)
//     per call. By default it is copy-free: it returns the very Buf that was
//     transmitted, from the pool it was allocated in, and ignores the pool
//     argument. Because the receiving stack then owns and may rewrite that
//     Buf (its window and its bytes), the sender must not keep a reference
//     to a Buf it transmits (Buf.Ref before Transmit, as a retransmission
//     queue might); a stack that does sets Config.Copy, and Receive then
//     copies each frame into a Buf from the pool argument and frees the
//     original (lwIP's loopif copies, for this reason).
//   - Received Bufs carry no checksum flags (the stack verifies in
//     software); LinkBroadcast is set when the destination MAC is a group
//     address.
//   - Caps().NoARP is true: the stack addresses frames to HardwareAddr()
//     (zero unless Config.MAC sets one). LinkUp is always true.
//   - Nothing allocates after New (proved by TestTransmitReceiveDoNotAllocate).
//
// Concurrency: a Device belongs to the goroutine that polls its stack, as
// every netif.Device does; it has no locks.
//
// Not implemented: lwIP's LWIP_LOOPBACK_MAX_PBUFS counts buffers, here the
// bound is in frames; there is no loopback of frames sent on other
// interfaces to the stack's own address (that is the stack's business).
package loopback
