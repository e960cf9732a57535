// Package interop is lwgo's first real-peer tier: lwgo on a TAP device, the
// Linux kernel in a network namespace on the other side, and the kernel's own
// tools (ping, socat, curl, python3 -m http.server, tcpdump, tshark) as
// clients and servers (STYLE.md §14, facts/conformance.md §4–§7).
//
// Every test builds its own network with platform/netns: the kernel gets
// 198.18.x.1/24 on the TAP inside a fresh namespace, lwgo takes 198.18.x.2 on
// the TAP's other end and is polled by platform/hosted's Run on its own
// goroutine, woken by the TAP's notifier; the tests reach the stack only
// through hosted's Inbox. Nothing leaves the namespaces, and everything is
// removed at the end of each test, on SIGINT/SIGTERM, and (by name, for dead
// processes) at the start of the next run.
//
// The tests need root, /dev/net/tun and the tools above. Without them they
// skip, except under CI=true, where they fail with the reason: the Makefile's
// PREREQS installs the tools.
//
//	go test ./test/interop/                         the tier (about a minute)
//	go test -run '^$' -bench . ./test/interop/      throughput over the TAP
//
// The benchmarks measure TCP bulk transfer both ways between lwgo and the
// kernel over the TAP in each device mode (plain, vnet-header with checksum
// offload, vnet-header with TSO), next to kernel-to-kernel over a veth pair
// as the reference.
package interop
