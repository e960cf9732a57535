package core

import (
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/tcp"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// The Stack is the TCP engine's Output: it routes segments and hands them
// to IP.

// tcpOut adapts the Stack to tcp.Output without exporting the methods.
type tcpOut Stack

// OutputTCP implements tcp.Output.
func (o *tcpOut) OutputTCP(b *pbuf.Buf, src, dst wire.IPv4Addr, tos, ttl uint8) error {
	s := (*Stack)(o)
	p := ipParams{src: src, dst: dst, proto: wire.ProtoTCP, tos: tos, ttl: ttl, df: true}
	err := s.ipOutput(b, &p)
	if err == nil {
		s.stats.TCP.Xmit++
	}
	return err
}

// RouteTCP implements tcp.Output.
func (o *tcpOut) RouteTCP(dst wire.IPv4Addr) (tcp.Route, error) {
	s := (*Stack)(o)
	if n := s.localNetif(dst); n != nil {
		return tcp.Route{Src: dst, MTU: n.MTU}, nil // through the loop queue: no device
	}
	n, _, err := s.route(dst, nil)
	if err != nil || !n.HasAddr() {
		return tcp.Route{}, errs.ErrRoute
	}
	return tcp.Route{Src: n.Addr, MTU: n.MTU, TSOMax: s.tsoMax(n), TxCsum: n.Caps.TxChecksumOffload}, nil
}

// IsLocalAddr implements tcp.Output.
func (o *tcpOut) IsLocalAddr(a wire.IPv4Addr) bool { return (*Stack)(o).isOurAddr(a) }

// tcpInput hands a segment to the TCP engine; it takes ownership of b.
func (s *Stack) tcpInput(n *netif.Netif, b *pbuf.Buf, ip wire.IPv4) {
	s.stats.TCP.Recv++
	if n.IsBroadcast(ip.Dst()) || ip.Dst().IsMulticast() {
		s.stats.TCP.Drop++
		b.Free()
		return
	}
	s.tcp.SetNow(s.now)
	s.tcp.Input(b, ip)
}

// tcpICMPError hands an ICMP error quoting one of our TCP segments to the
// engine: the quote holds the IP header and at least the first 8 bytes of
// TCP (ports and sequence number; icmpErrorInput checked).
func (s *Stack) tcpICMPError(m wire.ICMPv4, orig wire.IPv4) {
	q := m.Payload()[orig.HeaderLen():]
	if len(q) < 8 || !s.isOurAddr(orig.Src()) {
		return
	}
	t := wire.TCP(q)
	kind, mtu := tcp.ICMPSoft, 0
	if m.Type() == wire.ICMPv4DstUnreachable {
		switch m.Code() {
		case 2, 3: // protocol, port unreachable (RFC 1122 §4.2.3.9)
			kind = tcp.ICMPHard
		case 4: // fragmentation needed and DF set
			kind, mtu = tcp.ICMPFragNeeded, int(m.MTU())
		}
	}
	s.tcp.SetNow(s.now)
	s.tcp.ICMPError(kind, orig.Src(), orig.Dst(), t.SrcPort(), t.DstPort(), t.Seq(), mtu, int(orig.TotalLen()))
}

// NewTCP creates a TCP connection in CLOSED state. lwIP: tcp_new.
func (s *Stack) NewTCP() (tcp.Conn, error) {
	s.tcp.SetNow(s.now)
	return s.tcp.NewConn()
}

// TCPStats returns the TCP engine's counters.
func (s *Stack) TCPStats() tcp.Stats { return s.tcp.Stats() }
