// Package tcp is lwgo's TCP engine: the RFC 9293 state machine with window
// scaling, timestamps and PAWS (RFC 7323), SACK (RFC 2018) and D-SACK
// (RFC 2883) with SACK-based loss recovery (RFC 6675) and tail loss probes
// (RFC 8985 §7), NewReno for peers without SACK (RFC 5681, RFC 6582), undo
// of spurious recoveries (RFC 3522, RFC 4015) with a DupThresh that adapts
// to reordering, RTO estimation (RFC 6298), Reno and CUBIC (RFC 9438)
// behind a congestion-control interface, silly-window avoidance, Nagle,
// delayed ACKs, zero-window probing, keepalive, RFC 6528 initial sequence
// numbers, RFC 5961 challenge ACKs and SYN cookies, ICMP errors (Path MTU
// discovery, RFC 1191, validated per RFC 5927; hard errors end connection
// attempts), TCP segmentation offload (super-segments for devices that cut
// them), receive batches (one ACK per burst read from a device), urgent
// data (inline, RFC 6093, with an UrgentHandler signal), and lwIP's raw
// callback API on top.
//
// Files follow lwIP's split: input.go (tcp_in.c), output.go (tcp_out.c),
// timer.go (the timers of tcp.c), api.go (the raw API of tcp.c), listen.go,
// timewait.go, sndq.go (send and receive queues), rtt.go, cc.go, sack.go
// (the sender's scoreboard and RFC 6675 recovery), tlp.go, icmp.go,
// cubic.go, urgent.go.
//
// The package never imports the IP layer: segments leave through the Output
// interface, which core.Stack implements, and arrive through Layer.Input.
//
// # Memory
//
// Every table is sized once by Config: connections in a fixed array reached
// by generation-checked handles, listeners, compact TIME-WAIT records (no
// connection state, no buffers), a demultiplexing hash, and queue nodes.
// Data lives in packet buffers from the stack's pool: the send queue copies
// written bytes into buffers (or references the caller's memory with
// WriteNoCopy); received segments stay in the buffers they arrived in and are
// handed to the application without a copy. Nothing allocates on a packet
// path.
//
// # Concurrency
//
// As for the rest of the core: one goroutine, the one that polls the stack.
// Callbacks run inside Layer.Input and Layer.Timer, at points where the
// connection's state is consistent; the application may call any method from
// them, Abort included.
package tcp
