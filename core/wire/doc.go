// Package wire holds zero-copy views and encoders for the protocols lwgo
// speaks: Ethernet II, ARP, IPv4, ICMPv4, UDP and TCP (header and options), the
// Internet checksum, and sequence-number arithmetic.
//
// A view is a byte slice with accessors (type IPv4 []byte). The Parse function
// of each view checks every length and field that the accessors rely on; after
// it succeeds, no accessor panics while the bytes are unmodified. Accessors on
// a view that did not come from Parse may panic on short input, as slice
// indexing does. Views never allocate and never copy.
//
// The build side is a header struct (IPv4Header, UDPHeader, …) whose Encode
// writes every byte of the header into a caller-supplied buffer, padding
// included, so no stale byte of a reused buffer leaks onto the wire.
//
// Not implemented: IPv6, VLAN tags, IPv4 options on the build side (received
// options are skipped, never interpreted).
package wire
