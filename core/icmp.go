package core

import (
	"net/netip"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// icmpErrorQuote is how much of the offending datagram an ICMP error quotes:
// the whole error stays within 576 bytes (RFC 1812 §4.3.2.3; RFC 1122
// §3.2.2 asks for the header and at least 8 data bytes).
const icmpErrorQuote = 576 - wire.IPv4MinHeaderLen - wire.ICMPv4HeaderLen

// icmpInput handles a received ICMP message; b's data is the datagram ip.
// It takes ownership of b. lwIP: icmp_input (icmp.c).
func (s *Stack) icmpInput(n *netif.Netif, b *pbuf.Buf, ip wire.IPv4) {
	st := &s.stats.ICMP
	st.Recv++
	m, err := wire.ParseICMPv4(ip.Payload())
	if err != nil {
		st.LenErr++
		st.Drop++
		b.Free()
		return
	}
	if !m.IsChecksumValid() {
		st.ChkErr++
		st.Drop++
		b.Free()
		return
	}
	switch m.Type() {
	case wire.ICMPv4Echo:
		s.icmpEcho(n, b, ip, m)
	case wire.ICMPv4EchoReply:
		s.pingInput(b, ip, m)
	case wire.ICMPv4DstUnreachable, wire.ICMPv4TimeExceeded, wire.ICMPv4ParamProblem:
		// RFC 1122 §3.2.2.1, .4, .5: pass to the transport.
		s.icmpErrorInput(m)
		b.Free()
	default:
		// RFC 1122 §3.2.2: silently discard unknown types; source quench
		// is discarded too (RFC 6633).
		st.ProtErr++
		st.Drop++
		b.Free()
	}
}

// icmpEcho answers an echo request in place: the request's buffer becomes
// the reply. RFC 1122 §3.2.2.6: the reply carries the request's data in full,
// from the address the request was sent to.
func (s *Stack) icmpEcho(n *netif.Netif, b *pbuf.Buf, ip wire.IPv4, m wire.ICMPv4) {
	dst := ip.Dst()
	if n.IsBroadcast(dst) || dst.IsMulticast() {
		s.stats.ICMPEx.BroadcastEcho++ // RFC 1122 §3.2.2.6: MAY discard; Linux does by default
		s.stats.ICMP.Drop++
		b.Free()
		return
	}
	// Type 8 → 0 changes the first word; RFC 1624 updates the checksum.
	old := uint16(m.Type())<<8 | uint16(m.Code())
	m.SetType(wire.ICMPv4EchoReply)
	m.SetChecksum(wire.UpdateChecksum16(m.Checksum(), old, uint16(m.Code())))
	p := ipParams{src: dst, dst: ip.Src(), proto: wire.ProtoICMP, tos: ip.TOS()}
	s.stats.ICMP.Xmit++
	s.stats.ICMPEx.EchoReplies++
	b.Consume(ip.HeaderLen())
	if b.Headroom() >= pbuf.LayerIP.Headroom()-pbuf.DeviceHeadroom {
		s.ipOutput(b, &p)
		return
	}
	// Too little headroom (a device that received with none): copy.
	s.ipOutputParts(m, nil, &p)
	b.Free()
}

// icmpErrorInput passes an ICMP error to the transport it concerns.
func (s *Stack) icmpErrorInput(m wire.ICMPv4) {
	orig, err := wire.ParseIPv4Header(m.Payload())
	if err != nil || len(orig) < orig.HeaderLen()+8 {
		s.stats.ICMP.LenErr++
		s.stats.ICMP.Drop++
		return
	}
	s.stats.ICMPEx.ErrorsIn++
	switch orig.Protocol() {
	case wire.ProtoUDP:
		s.udpICMPError(m, orig)
	case wire.ProtoTCP:
		s.tcpICMPError(m, orig)
	}
}

// icmpError sends an ICMP error about the datagram ip (in b, which stays the
// caller's), if RFC 1122 §3.2.2 allows one. rest is the rest-of-header word.
// lwIP: icmp_dest_unreach, icmp_time_exceeded.
func (s *Stack) icmpError(n *netif.Netif, b *pbuf.Buf, ip wire.IPv4, typ wire.ICMPv4Type, code uint8, rest uint32) {
	data := ip.Payload()
	s.icmpErrorRaw(n, ip[:ip.HeaderLen()], data[:min(len(data), icmpErrorQuote-ip.HeaderLen())], b.Flags, typ, code, rest)
}

// icmpErrorRaw sends an ICMP error quoting hdr and data of the offending
// datagram. flags are the offending frame's buffer flags.
func (s *Stack) icmpErrorRaw(n *netif.Netif, hdr, data []byte, flags pbuf.Flags, typ wire.ICMPv4Type, code uint8, rest uint32) {
	ip := wire.IPv4(hdr)
	src, dst := ip.Src(), ip.Dst()
	// RFC 1122 §3.2.2: never about an ICMP error, a datagram to a broadcast
	// or multicast address or sent as a link-layer broadcast, a non-initial
	// fragment, or one whose source is not a unique host.
	switch {
	case ip.Protocol() == wire.ProtoICMP && (len(data) < 1 || wire.ICMPv4Type(data[0]).IsError() || !isQueryType(data[0])),
		flags&pbuf.LinkBroadcast != 0,
		n.IsBroadcast(dst), dst.IsMulticast(),
		ip.FragOffset() != 0,
		src.IsUnspecified(), src.IsBroadcast(), src.IsMulticast(), src.IsClassE(), n.IsBroadcast(src):
		s.stats.ICMPEx.Suppressed++
		return
	}
	if !s.icmpToken() {
		s.stats.ICMPEx.RateLimited++
		return
	}
	msg := wire.ICMPv4HeaderLen + len(hdr) + len(data)
	b := s.alloc(pbuf.LayerIP, msg, &s.stats.ICMP)
	if b == nil {
		return
	}
	m := wire.ICMPv4(b.Bytes())
	h := wire.ICMPv4Header{Type: typ, Code: code, Rest: rest}
	h.Encode(m)
	copy(m[wire.ICMPv4HeaderLen:], hdr)
	copy(m[wire.ICMPv4HeaderLen+len(hdr):], data)
	m.UpdateChecksum()
	// The error comes from the address the datagram was sent to if it is
	// ours, else from the interface's (the datagram may be a reassembly of a
	// broadcast; excluded above).
	from := dst
	if !s.isOurAddr(from) {
		from = n.Addr
	}
	s.stats.ICMP.Xmit++
	switch typ {
	case wire.ICMPv4DstUnreachable:
		s.stats.ICMPEx.Unreachables++
	case wire.ICMPv4TimeExceeded:
		s.stats.ICMPEx.TimeExceeded++
	}
	s.ipOutput(b, &ipParams{src: from, dst: src, proto: wire.ProtoICMP})
}

// isQueryType reports whether an ICMP type byte is a known query (echo,
// timestamp, …) rather than an error or unknown: errors are only sent
// about queries, since an unknown type might be an error.
func isQueryType(t byte) bool {
	switch wire.ICMPv4Type(t) {
	case wire.ICMPv4Echo, wire.ICMPv4EchoReply, wire.ICMPv4Timestamp, wire.ICMPv4TimestampReply:
		return true
	}
	return false
}

// icmpToken takes one token of the ICMP error budget: Config.ICMPErrorRate
// per second with a burst of as many.
func (s *Stack) icmpToken() bool {
	rate := s.cfg.ICMPErrorRate
	if el := s.now.Sub(s.icmpFill); el > 0 {
		add := int64(min(el, clock.Second)) * int64(rate) / int64(clock.Second) // a full refill after 1 s; no overflow
		if add > 0 {
			s.icmpTok = int(min(int64(rate), int64(s.icmpTok)+add))
			s.icmpFill = s.now
		}
	}
	if s.icmpTok == 0 {
		return false
	}
	s.icmpTok--
	return true
}

// pingPCB is an ICMP echo endpoint: lwIP's raw PCB for IP_PROTO_ICMP, cut
// down to what ping needs.
type pingPCB struct {
	gen  uint16
	used bool
	id   uint16
	recv PingRecvFunc
}

// PingRecvFunc receives an echo reply: from is its source, seq its sequence
// number, ttl its IP TTL, data its payload (valid only during the call).
type PingRecvFunc func(p Ping, from netip.Addr, seq uint16, ttl uint8, data []byte)

// Ping is a handle to an ICMP echo endpoint. The zero Ping is invalid; a
// handle goes stale when closed, and its methods then return ErrClosed.
type Ping struct {
	s   *Stack
	idx uint16
	gen uint16
}

// NewPing opens an echo endpoint with a random identifier; replies to its
// requests go to recv. It returns ErrMem when Config.MaxPingPCBs are open.
func (s *Stack) NewPing(recv PingRecvFunc) (Ping, error) {
	for i := range s.ping {
		p := &s.ping[i]
		if p.used {
			continue
		}
		p.used, p.recv = true, recv
		p.gen++
		if p.gen == 0 {
			p.gen = 1
		}
		for p.id = uint16(s.rng.next()); s.pingByID(p.id, i) != nil; p.id++ {
		}
		return Ping{s, uint16(i), p.gen}, nil
	}
	return Ping{}, errs.ErrMem
}

func (s *Stack) pingByID(id uint16, except int) *pingPCB {
	for i := range s.ping {
		if p := &s.ping[i]; p.used && p.id == id && i != except {
			return p
		}
	}
	return nil
}

func (h Ping) pcb() *pingPCB {
	if h.s == nil || int(h.idx) >= len(h.s.ping) {
		return nil
	}
	p := &h.s.ping[h.idx]
	if !p.used || p.gen != h.gen {
		return nil
	}
	return p
}

// ID returns the echo identifier, or 0 for a stale handle.
func (h Ping) ID() uint16 {
	if p := h.pcb(); p != nil {
		return p.id
	}
	return 0
}

// Send sends an echo request to dst with sequence number seq and payload
// data (which stays the caller's). Large payloads are fragmented.
func (h Ping) Send(dst netip.Addr, seq uint16, data []byte) error {
	p := h.pcb()
	if p == nil {
		return errs.ErrClosed
	}
	if !dst.Is4() {
		return errs.ErrVal
	}
	s := h.s
	var hdr [wire.ICMPv4HeaderLen]byte
	eh := wire.ICMPv4Header{Type: wire.ICMPv4Echo, Rest: uint32(p.id)<<16 | uint32(seq)}
	eh.Encode(hdr[:])
	wire.ICMPv4(hdr[:]).SetChecksum(wire.Fold(wire.Checksum(data, wire.Checksum(hdr[:], 0))))
	ip := ipParams{dst: dst.As4(), proto: wire.ProtoICMP}
	err := s.ipOutputParts(hdr[:], data, &ip)
	if err == nil {
		s.stats.ICMP.Xmit++
	}
	s.flush()
	return err
}

// Close releases the endpoint; the handle goes stale.
func (h Ping) Close() error {
	p := h.pcb()
	if p == nil {
		return errs.ErrClosed
	}
	*p = pingPCB{gen: p.gen}
	return nil
}

// pingInput delivers an echo reply to the endpoint with its identifier.
func (s *Stack) pingInput(b *pbuf.Buf, ip wire.IPv4, m wire.ICMPv4) {
	defer b.Free()
	if len(m) < wire.ICMPv4HeaderLen {
		return
	}
	for i := range s.ping {
		p := &s.ping[i]
		if p.used && p.id == m.ID() {
			if p.recv != nil {
				p.recv(Ping{s, uint16(i), p.gen}, netip.AddrFrom4(ip.Src()), m.Seq(), ip.TTL(), m.Payload())
			}
			return
		}
	}
	s.stats.ICMP.Drop++ // a reply nobody waits for
}
