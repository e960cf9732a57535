// Package hosted runs an lwgo stack as an ordinary program on an operating
// system: it supplies a real monotonic clock and the loop that drives the
// stack's Poll. It is the only place, besides other platform packages, where
// lwgo reads a clock or sleeps; the core never does (see core/clock).
//
// # The loop contract
//
// Run owns one goroutine, the one that calls it, and everything the Poller
// reaches belongs to that goroutine. Each iteration Run
//
//  1. runs the functions queued in its Inbox (at most as many as were queued
//     when the iteration began, so a function that posts again cannot starve
//     Poll),
//  2. calls Poll(now) with now read from the clock, and
//  3. waits until the deadline Poll returned, or until a Waker is woken, or
//     until a function is posted to the Inbox, or until the context is done,
//     whichever comes first. A deadline that has already passed means poll
//     again at once; clock.Never means no timer: only a wake, a post or the
//     end of the context ends the wait.
//
// Poll processes received frames and due timers and returns its next
// deadline; it must not block. A Waker is the device's interrupt line: a
// driver or a receive goroutine calls Wake (from any goroutine; it never
// blocks, and wakes coalesce) when frames arrive, so the loop sleeps between
// events instead of polling the device. Drivers without interrupts use Spin:
// the loop never sleeps and yields the processor (runtime.Gosched) between
// polls instead.
//
// The Inbox is lwIP's tcpip_callback mailbox: other goroutines never call the
// stack; they Post a func() that the loop runs on its own goroutine between
// Poll calls. Post never blocks and reports false when the Inbox is full.
// Functions still queued when Run returns stay in the Inbox.
//
// In steady state an iteration does not allocate: the sleep reuses one
// time.Timer.
//
// # Clocks
//
// Clock reads the operating system's monotonic clock as a clock.Time:
// nanoseconds since the Clock was created. Tests and simulations that must
// not depend on real time drive the stack with clock.Manual instead and call
// Poll themselves; Run works with any clock.Source, but sleeps in real time
// for the span between the Source's now and the deadline.
package hosted
