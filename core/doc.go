// Package core is lwgo's protocol engine: Ethernet input and output, ARP,
// IPv4 with fragmentation and reassembly, ICMP, UDP and TCP (core/tcp),
// driven by one Stack; DHCP (core/dhcp) and DNS (core/dns) run on top of it
// as pollers.
// It mirrors lwIP's core (etharp.c, ip4.c, ip4_frag.c, icmp.c, udp.c,
// timeouts.c) without lwIP's globals: all state hangs off *Stack, and all
// memory is allocated by New from the sizes in Config.
//
// # Concurrency
//
// A Stack and everything reachable from it (handles, buffers from its pools,
// netifs, devices) are owned by the goroutine that calls Stack.Poll. Every
// other call must come from that goroutine, between Poll calls or from the
// callbacks that Poll invokes. The package has no locks, goroutines, channels
// or timers and never reads a clock: Poll takes the current time and returns
// the next deadline; calls between Polls use the time of the last Poll.
// Programs on a hosted OS drive it with platform/hosted; hand work over from
// other goroutines through hosted.Inbox.
//
// # Memory
//
// New allocates every pool and table; nothing on a packet path allocates
// afterwards. Buffers come from a fixed pool of Config.PoolBufs slots;
// reassembly has its own pool of Config.ReassMaxDatagrams slots. Every input
// that cannot be handled, malformed or not, is dropped and counted in Stats.
//
// # Not implemented
//
// IPv6, IGMP and multicast reception, IP forwarding, IP options on output,
// source routing, ICMP redirects, dead-gateway detection.
package core
