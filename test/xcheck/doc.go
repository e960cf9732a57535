// Package xcheck is the L1 in-memory cross-check layer: lwgo's core talks to
// gVisor's netstack in the same process over an in-memory Ethernet link, and
// gVisor serves as the independent reference implementation (ARP, IPv4 with
// fragmentation, ICMP echo, UDP).
//
// The package holds tests only. Both stacks run on virtual clocks
// (clock.Manual for lwgo, faketime.ManualClock for gVisor), advanced together
// by the harness only when the link is idle, and every call into the lwgo
// Stack is made from the test goroutine, as the core's concurrency contract
// requires. See the harness in harness_test.go.
package xcheck
