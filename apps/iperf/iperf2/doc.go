// Package iperf2 is lwgo's iperf 2 compatible TCP throughput tester on the
// raw API, like lwIP's lwiperf: Server counts what clients send and reports
// it as iperf 2 does; Client sends iperf 2.1's test header, then data for a
// time or an amount. Both run on the stack's goroutine, event-driven (the
// client also needs Tick). apps/iperf is the command; apps/visor runs the
// server beside its other services on one stack.
package iperf2
