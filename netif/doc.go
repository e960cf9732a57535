// Package netif defines the interface record (lwIP's struct netif) and the
// Device contract that drivers implement, and, in its subpackages, devices
// that need no OS: loopback, an in-memory wire joining two stacks with a
// seeded fault injector, and a pcap recorder that wraps any device.
//
// A Device is polled: the stack calls it from its own goroutine, between or
// inside Stack.Poll, and nothing else calls it. It never blocks. Frames travel
// as *pbuf.Buf holding an Ethernet II frame without FCS.
//
// Devices are untrusted input: the stack checks every frame a device hands it
// as it checks frames from the wire.
package netif
