package core

import (
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// ip4Input handles a received IPv4 datagram; b's data starts at the IP
// header. It takes ownership of b. lwIP: ip4_input (ip4.c).
func (s *Stack) ip4Input(n *netif.Netif, b *pbuf.Buf) {
	st, d := &s.stats.IP, &s.stats.IPDrop
	st.Recv++
	ip, err := wire.ParseIPv4(b.Bytes())
	if err != nil {
		switch err {
		case wire.ErrBadVersion:
			d.BadVersion++ // RFC 1122 §3.2.1.1: silently discard
			st.ProtErr++
		case wire.ErrBadHeaderLen:
			d.BadHeaderLen++
			st.LenErr++
		case wire.ErrBadLength:
			d.BadLength++
			st.LenErr++
		default:
			d.Truncated++
			st.LenErr++
		}
		s.dropIP(b)
		return
	}
	// RFC 1122 §3.2.1.2: verify the header checksum, silently discard on failure.
	if b.Flags&pbuf.RxIPv4ChecksumOK == 0 && !ip.IsChecksumValid() {
		d.BadChecksum++
		st.ChkErr++
		s.dropIP(b)
		return
	}
	b.Truncate(len(ip)) // cut link-layer padding
	src, dst := ip.Src(), ip.Dst()
	if !s.acceptDst(n, dst) && !acceptDHCPClient(n, ip) {
		if n.HasAddr() || !dst.IsBroadcast() {
			d.NotForUs++
		} else {
			d.LinkNoAddr++
		}
		s.dropIP(b)
		return
	}
	// RFC 1122 §3.2.1.3: discard datagrams from a broadcast, multicast or
	// class E source, and loopback sources that arrive from a wire.
	if src.IsBroadcast() || src.IsMulticast() || src.IsClassE() || n.IsBroadcast(src) ||
		(src.IsLoopback() && n.Flags&netif.FlagARP != 0) {
		d.BadSource++
		st.ProtErr++
		s.dropIP(b)
		return
	}
	if ip.IsFragment() {
		if b = s.reassemble(n, b, ip); b == nil {
			return
		}
		ip = wire.IPv4(b.Bytes())
	}
	switch ip.Protocol() {
	case wire.ProtoICMP:
		s.icmpInput(n, b, ip)
	case wire.ProtoUDP:
		s.udpInput(n, b, ip)
	case wire.ProtoTCP:
		s.tcpInput(n, b, ip)
	default:
		d.NoProto++
		st.ProtErr++
		s.icmpError(n, b, ip, wire.ICMPv4DstUnreachable, wire.ICMPv4ProtoUnreachable, 0)
		s.dropIP(b)
	}
}

func (s *Stack) dropIP(b *pbuf.Buf) {
	s.stats.IP.Drop++
	b.Free()
}

// acceptDst reports whether a datagram to dst that arrived on n is ours:
// n's address, another of our addresses (the weak host model, as lwIP), the
// limited broadcast or n's subnet-directed broadcast (RFC 1122 §3.3.6).
// Without an address, n takes only the limited broadcast.
func (s *Stack) acceptDst(n *netif.Netif, dst wire.IPv4Addr) bool {
	if !n.HasAddr() {
		return dst.IsBroadcast()
	}
	return dst == n.Addr || n.IsBroadcast(dst) || s.isOurAddr(dst)
}

// dhcpClientPort is the DHCP client's UDP port (RFC 2131 §4.1).
const dhcpClientPort = 68

// acceptDHCPClient reports whether ip is a unicast datagram to the DHCP
// client port arriving on an interface that has no address yet: servers such
// as udhcpd send OFFER and ACK to the offered address (RFC 2131 §4.1, the
// broadcast bit clear). lwIP: LWIP_IP_ACCEPT_UDP_PORT.
func acceptDHCPClient(n *netif.Netif, ip wire.IPv4) bool {
	if n.HasAddr() || ip.Protocol() != wire.ProtoUDP || ip.FragOffset() != 0 {
		return false
	}
	u := ip.Payload()
	return len(u) >= wire.UDPHeaderLen && wire.UDP(u).DstPort() == dhcpClientPort
}

// ipParams describes a datagram to send.
type ipParams struct {
	src, dst wire.IPv4Addr // src unspecified: the outgoing interface's address
	proto    wire.IPProto
	ttl      uint8 // 0: Config.TTL
	tos      uint8
	df       bool
	netif    *netif.Netif // nil: route by dst

	// The route, filled in by the first ipPrepare so that the layers a
	// datagram passes through (UDP needs the source for its checksum, then
	// IP output, then fragmentation) look it up once.
	routed  bool
	out     *netif.Netif
	nexthop wire.IPv4Addr
	local   bool // to one of our own addresses: through the loop queue
}

// route picks the interface and next hop for dst (RFC 1122 §3.3.1.1: local
// if on a connected subnet, else the default gateway). lwIP: ip4_route.
func (s *Stack) route(dst wire.IPv4Addr, via *netif.Netif) (*netif.Netif, wire.IPv4Addr, error) {
	if via != nil {
		if !via.IsUp() {
			return nil, dst, errs.ErrRoute
		}
		if dst.IsBroadcast() || dst.IsMulticast() || via.OnLink(dst) || via.Gateway.IsUnspecified() {
			return via, dst, nil
		}
		return via, via.Gateway, nil
	}
	for i := range s.netifs {
		n := &s.netifs[i]
		if n.IsUp() && (n.OnLink(dst) || n.IsBroadcast(dst) && n.HasAddr()) {
			return n, dst, nil
		}
	}
	if dst.IsBroadcast() || dst.IsMulticast() {
		for i := range s.netifs {
			if n := &s.netifs[i]; n.IsUp() {
				return n, dst, nil
			}
		}
		return nil, dst, errs.ErrRoute
	}
	for i := range s.netifs {
		n := &s.netifs[i]
		if n.IsUp() && n.HasAddr() && !n.Gateway.IsUnspecified() {
			return n, n.Gateway, nil
		}
	}
	return nil, dst, errs.ErrRoute
}

// localNetif returns the interface that owns address a, or nil.
func (s *Stack) localNetif(a wire.IPv4Addr) *netif.Netif {
	for i := range s.netifs {
		if n := &s.netifs[i]; n.HasAddr() && n.Addr == a {
			return n
		}
	}
	return nil
}

// ipOutput sends the transport message in b (its data; at least LayerIP
// headroom) as one IPv4 datagram, fragmenting if it exceeds the MTU. It takes
// ownership of b, also on error. lwIP: ip4_output_if.
func (s *Stack) ipOutput(b *pbuf.Buf, p *ipParams) error {
	n, nexthop, local, err := s.ipPrepare(p)
	if err != nil {
		b.Free()
		return err
	}
	segs := 1
	if b.GSOSize != 0 || b.Flags&pbuf.TxL4ChecksumPartial != 0 {
		// TCP counted on the device of the route it was opened on
		// (tcp.Route); should the route have moved since, finish the
		// checksum here, and drop a super-segment the device cannot take.
		caps := &n.Caps
		if local || !caps.TxChecksumOffload || b.GSOSize == 0 && b.Len()+wire.IPv4MinHeaderLen > n.MTU {
			// No device to finish it, or fragments (fresh buffers) ahead.
			b.Flags &^= pbuf.TxL4ChecksumPartial
			wire.TCP(b.Bytes()).UpdateChecksum(p.src, p.dst)
		}
		if b.GSOSize != 0 {
			if local || caps.TSOMax < b.Len()+wire.IPv4MinHeaderLen || !caps.TxChecksumOffload {
				s.stats.IP.Err++
				b.Free()
				return errs.ErrIf
			}
			segs = (b.Len() - wire.TCP(b.Bytes()).HeaderLen() + int(b.GSOSize) - 1) / int(b.GSOSize)
		}
	}
	if !local && b.GSOSize == 0 && b.Len()+wire.IPv4MinHeaderLen > n.MTU {
		err := s.ipFragment(n, nexthop, nil, b.Bytes(), p)
		b.Free()
		return err
	}
	h := b.Prepend(wire.IPv4MinHeaderLen)
	if h == nil {
		s.stats.IP.Err++
		b.Free()
		return errs.ErrBuf
	}
	s.encodeIP(h, b.Len(), 0, false, p)
	s.ipID += uint16(segs) // the device numbers a super-segment's datagrams from this ID on
	if local {
		return s.loopOutput(b)
	}
	s.stats.IP.Xmit++
	s.arpOutput(n, b, nexthop)
	return nil
}

// ipOutputParts sends hdr followed by payload as one datagram; the caller
// keeps both slices. Large datagrams are fragmented straight from them.
func (s *Stack) ipOutputParts(hdr, payload []byte, p *ipParams) error {
	total := len(hdr) + len(payload)
	if total+wire.IPv4MinHeaderLen > wire.IPv4MaxTotalLen {
		return errs.ErrVal
	}
	n, nexthop, local, err := s.ipPrepare(p)
	if err != nil {
		return err
	}
	if local || total+wire.IPv4MinHeaderLen <= n.MTU {
		if total+pbuf.LayerIP.Headroom() <= s.pool.SlotSize() {
			b := s.alloc(pbuf.LayerIP, total, &s.stats.IP)
			if b == nil {
				return errs.ErrMem
			}
			data := b.Bytes()
			copy(data, hdr)
			copy(data[len(hdr):], payload)
			return s.ipOutput(b, p)
		}
		if !local {
			return errs.ErrVal // an MTU larger than a buffer: AddNetif prevents it
		}
		// A local datagram larger than a buffer: fragment it through the loop.
	}
	return s.ipFragment(n, nexthop, hdr, payload, p)
}

// ipPrepare routes p, fills in its source and TTL, and reports whether the
// destination is one of our own addresses (delivered through the loop queue).
func (s *Stack) ipPrepare(p *ipParams) (n *netif.Netif, nexthop wire.IPv4Addr, local bool, err error) {
	if p.routed {
		return p.out, p.nexthop, p.local, nil
	}
	if p.ttl == 0 {
		p.ttl = s.cfg.TTL
	}
	if ln := s.localNetif(p.dst); ln != nil && p.netif == nil {
		if p.src.IsUnspecified() {
			p.src = p.dst
		}
		p.routed, p.out, p.nexthop, p.local = true, ln, p.dst, true
		return ln, p.dst, true, nil
	}
	n, nexthop, err = s.route(p.dst, p.netif)
	if err != nil {
		s.stats.IP.RtErr++
		return nil, nexthop, false, err
	}
	if p.src.IsUnspecified() {
		p.src = n.Addr // 0.0.0.0 only while unconfigured (RFC 1122 §3.2.1.3, DHCP)
		if !n.HasAddr() && !p.dst.IsBroadcast() {
			s.stats.IP.RtErr++
			return nil, nexthop, false, errs.ErrRoute
		}
	}
	p.routed, p.out, p.nexthop, p.local = true, n, nexthop, false
	return n, nexthop, false, nil
}

// encodeIP writes a 20-byte header for a datagram of total bytes.
func (s *Stack) encodeIP(h []byte, total, fragOff int, more bool, p *ipParams) {
	var flags wire.IPv4Flags
	if p.df {
		flags |= wire.IPv4DontFragment
	}
	if more {
		flags |= wire.IPv4MoreFragments
	}
	ih := wire.IPv4Header{
		TOS: p.tos, TotalLen: total, ID: s.ipID, Flags: flags, FragOffset: fragOff,
		TTL: p.ttl, Protocol: p.proto, Src: p.src, Dst: p.dst,
	}
	ih.Encode(wire.IPv4(h))
}

// ipFragment sends hdr||payload as fragments no larger than n's MTU
// (RFC 791 "Fragmentation"). lwIP: ip4_frag.
func (s *Stack) ipFragment(n *netif.Netif, nexthop wire.IPv4Addr, hdr, payload []byte, p *ipParams) error {
	if p.df {
		s.stats.IPDrop.FragDF++
		s.stats.IP.Drop++
		return errs.ErrVal
	}
	total := len(hdr) + len(payload)
	step := (n.MTU - wire.IPv4MinHeaderLen) &^ 7
	local := p.local
	for off := 0; off < total; off += step {
		chunk := min(step, total-off)
		b := s.alloc(pbuf.LayerIP, chunk, &s.stats.IPFrag)
		if b == nil {
			s.stats.IPDrop.FragNoBuf++
			s.stats.IP.Drop++
			s.ipID++
			return errs.ErrMem
		}
		copyRange(b.Bytes(), hdr, payload, off)
		h := b.Prepend(wire.IPv4MinHeaderLen)
		s.encodeIP(h, b.Len(), off, off+chunk < total, p)
		s.stats.IPFrag.Xmit++
		if local {
			if err := s.loopOutput(b); err != nil {
				s.ipID++
				return err
			}
			continue
		}
		s.stats.IP.Xmit++
		s.arpOutput(n, b, nexthop)
	}
	s.ipID++
	return nil
}

// copyRange fills dst from the concatenation of a and b starting at off.
func copyRange(dst, a, b []byte, off int) {
	if off < len(a) {
		k := copy(dst, a[off:])
		copy(dst[k:], b)
		return
	}
	copy(dst, b[off-len(a):])
}

// loopOutput queues a complete datagram to one of our own addresses; Poll
// delivers it (lwIP: netif_loop_output). It takes ownership of b.
func (s *Stack) loopOutput(b *pbuf.Buf) error {
	if s.loopq.Len() >= s.cfg.LoopQueueLen {
		s.stats.IP.MemErr++
		s.stats.IP.Drop++
		b.Free()
		return errs.ErrMem
	}
	s.stats.IP.Xmit++
	s.loopq.Push(b)
	return nil
}

// drainLoop delivers the datagrams queued by loopOutput, at most those
// present on entry, so a reply loop cannot monopolise a Poll.
func (s *Stack) drainLoop() {
	for k := s.loopq.Len(); k > 0; k-- {
		b := s.loopq.Pop()
		ip := wire.IPv4(b.Bytes())
		n := s.localNetif(ip.Dst())
		if n == nil { // the address went away meanwhile
			s.dropIP(b)
			continue
		}
		b.Flags |= pbuf.RxIPv4ChecksumOK | pbuf.RxL4ChecksumOK
		s.ip4Input(n, b)
	}
}
