package core

import (
	"net/netip"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// arpProbe is the RFC 5227 duplicate-address watch of one interface.
type arpProbe struct {
	active   bool
	conflict bool
	ip       wire.IPv4Addr
}

// ARPProbe sends an ARP probe for ip on n (RFC 5227 §2.1.1: sender address
// 0.0.0.0, target ip) and watches n for a conflict until ARPProbeStop, as a
// DHCP client checks an offered address (RFC 2131 §4.4.1). A probe for
// another address restarts the watch; one for the same address keeps what it
// saw. It returns ErrVal for a non-IPv4 or unspecified address and ErrIf
// when n does not use ARP.
func (s *Stack) ARPProbe(n *netif.Netif, ip netip.Addr) error {
	if !ip.Is4() || ip.IsUnspecified() {
		return errs.ErrVal
	}
	if n.Flags&netif.FlagARP == 0 {
		return errs.ErrIf
	}
	a := ip.As4()
	pr := &s.probes[n.Index]
	if !pr.active || pr.ip != a {
		*pr = arpProbe{active: true, ip: a}
	}
	if n.IsUp() {
		s.arpSend(n, wire.ARPRequest, wire.BroadcastMAC, wire.IPv4Addr{}, wire.MAC{}, a)
		s.stats.ARPEx.Requests++
		s.flush()
	}
	return nil
}

// ARPConflict reports whether, since ARPProbe started watching ip on n,
// another host claimed ip: it sent an ARP packet from ip, or probed for it.
func (s *Stack) ARPConflict(n *netif.Netif, ip netip.Addr) bool {
	pr := &s.probes[n.Index]
	return pr.active && pr.conflict && ip.Is4() && pr.ip == ip.As4()
}

// ARPProbeStop ends n's duplicate-address watch.
func (s *Stack) ARPProbeStop(n *netif.Netif) { s.probes[n.Index] = arpProbe{} }

// arpProbeWatch checks a received ARP packet against n's watch. RFC 5227
// §2.1.1: any ARP packet whose sender address is the probed address, or
// another host's probe for it, means the address is in use.
func (s *Stack) arpProbeWatch(n *netif.Netif, sha wire.MAC, spa, tpa wire.IPv4Addr) {
	pr := &s.probes[n.Index]
	if pr.active && sha != n.MAC && (spa == pr.ip || spa.IsUnspecified() && tpa == pr.ip) {
		pr.conflict = true
	}
}
