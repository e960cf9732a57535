// Package netsim is lwgo's two-stack network simulation: two lwgo stacks
// joined by an in-memory wire (netif/pipe), each direction optionally
// impaired by its own seeded netif/fault wrapper, both polled from the test
// goroutine on one manual clock (smoltcp's tests/netsim.rs, lwIP's
// two-netif unit tests).
//
// The package holds tests only. What they check:
//
//   - bulk transfers of 64 MiB, client to server, server to client, and both
//     ways at once on one connection, with SHA-256 computed at both ends;
//   - 1,000 connections open in parallel, each moving 16 to 64 KiB each way
//     and closing in both directions;
//   - a fault matrix (loss of 0, 1 and 5 %, reordering, duplication,
//     corruption, delay with jitter, a rate limit, and all of them mixed),
//     each direction impaired independently with fixed seeds: every byte
//     arrives exactly once and unaltered, every connection finishes within
//     a virtual-time bound stated per case, and once TIME-WAIT has passed
//     both stacks have every packet buffer and every connection slot back.
//
// Time is virtual: while frames are on the wire the clock moves by one tick
// (10 µs, the one-way latency of the bare wire) per round of polls; when the
// wire is idle it jumps to the earliest deadline either stack or fault
// wrapper reports. The runs are deterministic: the same seeds give the same
// packets and the same virtual times.
//
// Regression tests for bugs this package found in core/tcp (TestRFC…) sit
// beside them, each a deterministic scenario built with segment filters.
// A failing run can be replayed with a segment trace:
//
//	go test ./test/netsim -run TestX -v -netsim.trace=<client port>
//
// Cost: `go test ./test/netsim` moves about 1.7 GiB through the stacks,
// 10–40 s of wall time on 2 cores. With -short, or under the race
// detector, the 64 MiB transfers shrink to 4 MiB and the 1,000 connections
// to 200; the tests that shrink have "Heavy" in their names.
package netsim
