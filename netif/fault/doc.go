// Package fault wraps a Device and impairs the frames transmitted through it
// (the egress direction): seeded random loss, single-bit corruption,
// duplication, reordering, fixed delay with jitter, a token-bucket rate
// limit and an MTU clamp. It is smoltcp's FaultInjector (phy/fault_injector.rs)
// plus netem-style delay, as a polled netif.Device. Received frames pass
// through untouched; wrap the other end of a link to impair the other
// direction (see netif/pipe).
//
// Determinism: all randomness comes from one SplitMix64 generator seeded by
// Config.Seed, drawn only for the faults that are enabled, in a fixed order
// per frame. The same Config, the same clock readings and the same calls
// give the same faults, frame for frame (TestSameSeedGivesSameFaultSequence).
//
// Per frame, in this order (each counted in Stats):
//
//  1. MTUClamp: frames whose IP payload, len(frame)-14, exceeds it are
//     dropped (a path-MTU black hole; MTU() still reports the inner MTU).
//  2. RateLimit: a token bucket of Burst bytes refilled at RateLimit bytes
//     per second of the clock; a frame costs its length and is dropped when
//     the bucket holds less.
//  3. DropRate: the frame is dropped.
//  4. CorruptRate: one bit, chosen uniformly from byte CorruptOffset to the
//     end of the frame, is flipped. Header bytes are hit as often as any
//     other (CorruptOffset 0: Ethernet included; 14: IP and up; 34: past an
//     option-less IPv4 header). The flip is made in a Clone, never in the
//     caller's Buf, which a retransmission queue may still reference; if the
//     pool has no free slot for the clone the frame is dropped instead
//     (Stats.CorruptNoBuf).
//  5. DuplicateRate: a Clone (same pool) follows the frame, with the same
//     delay; if the pool is empty the duplicate is skipped (DuplicateNoBuf).
//  6. Delay + Jitter: the frame is due Delay plus a uniform draw in
//     [0, Jitter] after Transmit. With jitter, frames can overtake one
//     another, as on a real path.
//  7. ReorderRate: the frame is held until the next frame leaving the
//     wrapper has gone out, then released right after it; if none follows
//     within ReorderTimeout of its due time, it is released alone.
//
// Rates are probabilities in [0, 1] (0 disables, 1 always), drawn
// independently per frame. Rates converge on the configured value over many
// frames (TestFaultRatesConvergeToConfiguredProbabilities).
//
// Holding and polling: frames waiting for their due time, for a successor
// (reorder) or for room in the inner device are held, at most MaxHeld of
// them; more are dropped (Stats.HeldOverflow). Held frames go out, in due
// order, from the wrapper's own Transmit and Receive calls; a stack calls
// Receive on every poll, so a held frame leaves at the first poll at or
// after its due time. NextDeadline returns the earliest such time, or
// clock.Never when nothing is held: a stack (or test loop) that must not
// sleep through a release type-asserts its device for
//
//	interface{ NextDeadline() clock.Time }
//
// and polls no later than the earliest of its own deadline and its devices'.
// Wrappers that forward it (netif/pcap, fault itself) keep that working
// through a chain. Flush sends everything held at once; Discard frees it.
//
// Backpressure: with the zero Config (no fault enabled) the wrapper is
// transparent: Transmit returns what the inner device returns. With any
// fault enabled, Transmit takes every frame and returns len(frames); frames
// the inner device refuses are held and retried, without being overtaken.
//
// Time: Delay, Jitter and RateLimit need the clock.Source given to New
// (which panics without one). Without a clock, time stands still at 0, so
// reordered frames wait for a successor or Flush.
//
// Allocation: none after New, on any path (TestTransmitDoesNotAllocate).
// Duplicates and corrupted copies are pool Bufs, not heap memory.
//
// Concurrency: like every netif.Device, the wrapper belongs to the
// goroutine polling its stack.
package fault
