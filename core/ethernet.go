package core

import (
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// ethInput handles one received frame; it takes ownership of b.
// lwIP: ethernet_input (ethernet.c).
func (s *Stack) ethInput(n *netif.Netif, b *pbuf.Buf) {
	s.stats.Link.Recv++
	eth, err := wire.ParseEthernet(b.Bytes())
	if err != nil {
		s.stats.Link.LenErr++
		s.dropFrame(n, b)
		return
	}
	dst := eth.Dst()
	switch {
	case dst == n.MAC:
	case dst.IsMulticast(): // broadcast included
		b.Flags |= pbuf.LinkBroadcast
		n.Stats.RxBroadcast++
	case n.Flags&netif.FlagARP == 0:
		// Devices without neighbours (loopback) take any destination.
	default:
		s.dropFrame(n, b) // another host's frame (a shared medium, a promiscuous device)
		return
	}
	if n.Flags&netif.FlagUp == 0 {
		s.dropFrame(n, b)
		return
	}
	typ := eth.Type()
	b.Consume(wire.EthernetHeaderLen)
	switch typ {
	case wire.EtherTypeIPv4:
		s.ip4Input(n, b)
	case wire.EtherTypeARP:
		s.arpInput(n, b)
	default:
		s.stats.Link.ProtErr++
		s.dropFrame(n, b)
	}
}

func (s *Stack) dropFrame(n *netif.Netif, b *pbuf.Buf) {
	s.stats.Link.Drop++
	n.Stats.RxDrops++
	b.Free()
}

// ethOutput prepends an Ethernet header to b and queues the frame on n.
// It takes ownership of b.
func (s *Stack) ethOutput(n *netif.Netif, b *pbuf.Buf, dst wire.MAC, typ wire.EtherType) {
	h := b.Prepend(wire.EthernetHeaderLen)
	if h == nil {
		s.stats.Link.Err++
		n.Stats.TxDrops++
		b.Free()
		return
	}
	eh := wire.EthernetHeader{Dst: dst, Src: n.MAC, Type: typ}
	eh.Encode(wire.Ethernet(h))
	s.linkSend(n, b)
}

// multicastMAC maps an IPv4 multicast group to its MAC (RFC 1112 §6.4).
func multicastMAC(a wire.IPv4Addr) wire.MAC {
	return wire.MAC{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}
}
