package netif

import "github.com/lwgo/lwgo/core/wire"

// Flags are the interface flags (lwIP NETIF_FLAG_*).
type Flags uint8

// Interface flags.
const (
	FlagUp        Flags = 1 << iota // administratively up (netif_set_up)
	FlagLinkUp                      // the device reports link (netif_set_link_up)
	FlagBroadcast                   // the interface can broadcast
	FlagARP                         // the interface resolves neighbours with ARP
)

// Netif is one network interface: lwIP's struct netif. The stack owns it;
// applications read it and change it through the stack's methods.
type Netif struct {
	// Name is a short name for logs and the configuration page ("en0").
	Name string
	// Index is the interface's position in the stack, from 0.
	Index int
	// Dev is the device under the interface.
	Dev Device
	// MAC is the interface's hardware address.
	MAC wire.MAC
	// MTU is the IP MTU, at most the device's.
	MTU int
	// Caps are the device's capabilities, read once when the interface is
	// added (they do not change while it is attached).
	Caps Caps
	// Addr, Mask and Gateway are the IPv4 configuration. An unspecified
	// address means none (as while DHCP runs); an unspecified gateway means
	// the interface has no default route.
	Addr, Mask, Gateway wire.IPv4Addr
	// Flags are the interface flags.
	Flags Flags
	// Stats are the interface counters.
	Stats Counters
}

// IsUp reports whether the interface is administratively up and has link.
func (n *Netif) IsUp() bool { return n.Flags&(FlagUp|FlagLinkUp) == FlagUp|FlagLinkUp }

// HasAddr reports whether the interface has an IPv4 address.
func (n *Netif) HasAddr() bool { return !n.Addr.IsUnspecified() }

// OnLink reports whether dst is on the interface's subnet.
func (n *Netif) OnLink(dst wire.IPv4Addr) bool {
	return n.HasAddr() && dst.SameSubnet(n.Addr, n.Mask)
}

// IsBroadcast reports whether dst is a broadcast address on this interface:
// the limited broadcast, or the subnet-directed broadcast (RFC 1122 §3.3.6).
func (n *Netif) IsBroadcast(dst wire.IPv4Addr) bool {
	if dst.IsBroadcast() {
		return true
	}
	// A /31 (RFC 3021) or /32 has no directed broadcast: both addresses are hosts.
	if !n.HasAddr() || n.Mask.Uint32() >= 0xfffffffe {
		return false
	}
	return dst == n.Addr.DirectedBroadcast(n.Mask)
}
