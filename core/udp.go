package core

import (
	"net/netip"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// Ephemeral port range (RFC 6056 §2.1, IANA dynamic ports).
const (
	ephemeralLow  = 49152
	ephemeralHigh = 65535
)

// UDPRecvFunc receives a datagram for u. p holds the payload; the function
// owns p and must Free it (lwIP's udp_recv_fn contract). src is the sender,
// dst the address the datagram was sent to (RFC 1122 §4.1.3.5).
type UDPRecvFunc func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr)

// UDPErrFunc receives an ICMP error (destination unreachable, time
// exceeded, parameter problem) about a datagram u sent to dst, with the
// error's type and code (RFC 1122 §4.1.3.3).
type UDPErrFunc func(u UDP, dst netip.AddrPort, typ wire.ICMPv4Type, code uint8)

// udpPCB is one UDP endpoint. lwIP: struct udp_pcb.
type udpPCB struct {
	gen       uint16
	used      bool
	connected bool
	local     wire.IPv4Addr // unspecified: any
	lport     uint16        // 0: not bound
	remote    wire.IPv4Addr
	rport     uint16
	ttl, tos  uint8
	netif     int // 1 + index of the interface bound by BindNetif; 0: any
	recv      UDPRecvFunc
	onErr     UDPErrFunc
}

// UDP is a handle to a UDP endpoint: a small value with a generation. The
// zero UDP is invalid; a handle goes stale when closed, and its methods then
// return ErrClosed without touching any other endpoint.
type UDP struct {
	s   *Stack
	idx uint16
	gen uint16
}

// NewUDP opens a UDP endpoint. It returns ErrMem when Config.MaxUDPPCBs are
// open. lwIP: udp_new.
func (s *Stack) NewUDP() (UDP, error) {
	for i := range s.udp {
		u := &s.udp[i]
		if u.used {
			continue
		}
		gen := u.gen + 1
		if gen == 0 {
			gen = 1
		}
		*u = udpPCB{gen: gen, used: true}
		return UDP{s, uint16(i), gen}, nil
	}
	s.stats.UDP.MemErr++
	return UDP{}, errs.ErrMem
}

func (h UDP) pcb() *udpPCB {
	if h.s == nil || int(h.idx) >= len(h.s.udp) {
		return nil
	}
	u := &h.s.udp[h.idx]
	if !u.used || u.gen != h.gen {
		return nil
	}
	return u
}

// IsValid reports whether the handle refers to an open endpoint.
func (h UDP) IsValid() bool { return h.pcb() != nil }

// Bind binds the endpoint to a local address (the zero or unspecified
// Addr: any) and port (0: a random ephemeral port, RFC 6056 §3.3.1). It
// returns ErrInUse if another endpoint has the same address and port,
// ErrVal for a non-IPv4 or foreign address. lwIP: udp_bind.
func (h UDP) Bind(addr netip.Addr, port uint16) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	s := h.s
	var a wire.IPv4Addr
	if addr.IsValid() {
		if !addr.Is4() {
			return errs.ErrVal
		}
		a = addr.As4()
		if !a.IsUnspecified() && !s.isOurAddr(a) {
			return errs.ErrVal
		}
	}
	if port == 0 {
		p, ok := s.udpEphemeral(a)
		if !ok {
			return errs.ErrInUse
		}
		port = p
	} else if s.udpInUse(a, port, int(h.idx), u.netif) {
		return errs.ErrInUse
	}
	u.local, u.lport = a, port
	return nil
}

// BindNetif ties the endpoint to interface n, as a DHCP client needs
// (lwIP: udp_bind_netif): datagrams are received only from n, and sent
// only through n, from 0.0.0.0 while n has no address (RFC 2131 §4.1).
// Endpoints tied to different interfaces may bind the same port. Call it
// before Bind; a nil n unties the endpoint.
func (h UDP) BindNetif(n *netif.Netif) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	if n == nil {
		u.netif = 0
		return nil
	}
	if n.Index < 0 || n.Index >= len(h.s.netifs) || &h.s.netifs[n.Index] != n {
		return errs.ErrVal
	}
	if u.lport != 0 && h.s.udpInUse(u.local, u.lport, int(h.idx), n.Index+1) {
		return errs.ErrInUse
	}
	u.netif = n.Index + 1
	return nil
}

// udpInUse reports whether another endpoint is bound to a conflicting
// address and port: the same address, or either one the wildcard, on the
// same interface, or either one not tied to an interface.
func (s *Stack) udpInUse(a wire.IPv4Addr, port uint16, except, nif int) bool {
	for i := range s.udp {
		u := &s.udp[i]
		if i != except && u.used && u.lport == port &&
			(u.netif == nif || u.netif == 0 || nif == 0) &&
			(u.local == a || u.local.IsUnspecified() || a.IsUnspecified()) {
			return true
		}
	}
	return false
}

// udpEphemeral picks a free port at random from the ephemeral range, probing
// onwards from a random start (RFC 6056 §3.3.2, Algorithm 2).
func (s *Stack) udpEphemeral(a wire.IPv4Addr) (uint16, bool) {
	const span = ephemeralHigh - ephemeralLow + 1
	start := s.rng.intn(span)
	for i := range span {
		p := uint16(ephemeralLow + (start+i)%span)
		if !s.udpInUse(a, p, -1, 0) {
			return p, true
		}
	}
	return 0, false
}

// Connect sets the endpoint's default remote address and binds it to an
// ephemeral port if it is not bound; only datagrams from that remote are then
// received. lwIP: udp_connect.
func (h UDP) Connect(raddr netip.AddrPort) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	if !raddr.Addr().Is4() || raddr.Port() == 0 {
		return errs.ErrVal
	}
	if u.lport == 0 {
		if err := h.Bind(netip.Addr{}, 0); err != nil {
			return err
		}
	}
	u.remote, u.rport, u.connected = raddr.Addr().As4(), raddr.Port(), true
	return nil
}

// Disconnect removes the default remote. lwIP: udp_disconnect.
func (h UDP) Disconnect() error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	u.remote, u.rport, u.connected = wire.IPv4Addr{}, 0, false
	return nil
}

// SetRecv sets the function that receives the endpoint's datagrams. Without
// one, datagrams are dropped. lwIP: udp_recv.
func (h UDP) SetRecv(f UDPRecvFunc) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	u.recv = f
	return nil
}

// SetErr sets the function that receives ICMP errors about the endpoint's
// datagrams.
func (h UDP) SetErr(f UDPErrFunc) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	u.onErr = f
	return nil
}

// SetTTL sets the TTL of outgoing datagrams (0: Config.TTL).
func (h UDP) SetTTL(ttl uint8) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	u.ttl = ttl
	return nil
}

// SetTOS sets the type-of-service byte of outgoing datagrams (RFC 1122 §3.2.1.6).
func (h UDP) SetTOS(tos uint8) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	u.tos = tos
	return nil
}

// LocalAddr returns the bound address and port.
func (h UDP) LocalAddr() netip.AddrPort {
	u := h.pcb()
	if u == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom4(u.local), u.lport)
}

// Send sends data to the connected remote; data stays the caller's.
// lwIP: udp_send.
func (h UDP) Send(data []byte) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	if !u.connected {
		return errs.ErrNotConn
	}
	return h.sendTo(u, data, u.remote, u.rport)
}

// SendTo sends data to raddr; data stays the caller's. Datagrams larger than
// the MTU are fragmented. It returns ErrRoute without a route, ErrMem without
// buffers, ErrVal for a datagram beyond 65507 bytes. lwIP: udp_sendto.
func (h UDP) SendTo(data []byte, raddr netip.AddrPort) error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	if !raddr.Addr().Is4() || raddr.Port() == 0 {
		return errs.ErrVal
	}
	return h.sendTo(u, data, raddr.Addr().As4(), raddr.Port())
}

func (h UDP) sendTo(u *udpPCB, data []byte, dst wire.IPv4Addr, dport uint16) error {
	s := h.s
	if len(data) > wire.IPv4MaxTotalLen-wire.IPv4MinHeaderLen-wire.UDPHeaderLen {
		return errs.ErrVal
	}
	if u.lport == 0 {
		if err := h.Bind(netip.Addr{}, 0); err != nil {
			return err
		}
	}
	p := ipParams{src: u.local, dst: dst, proto: wire.ProtoUDP, ttl: u.ttl, tos: u.tos}
	if u.netif != 0 {
		p.netif = &s.netifs[u.netif-1]
	}
	// The checksum covers the pseudo-header, which needs the source address:
	// route first.
	if _, _, _, err := s.ipPrepare(&p); err != nil {
		return err
	}
	var hdr [wire.UDPHeaderLen]byte
	uh := wire.UDPHeader{SrcPort: u.lport, DstPort: dport, Length: wire.UDPHeaderLen + len(data)}
	uh.Encode(hdr[:])
	sum := wire.Checksum(hdr[:], wire.PseudoHeaderSum(p.src, dst, wire.ProtoUDP, uh.Length))
	c := wire.Fold(wire.Checksum(data, sum))
	if c == 0 {
		c = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	wire.UDP(hdr[:]).SetChecksum(c)
	err := s.ipOutputParts(hdr[:], data, &p)
	if err == nil {
		s.stats.UDP.Xmit++
	} else {
		s.stats.UDP.Err++
	}
	s.flush()
	return err
}

// Close releases the endpoint; the handle goes stale. lwIP: udp_remove.
func (h UDP) Close() error {
	u := h.pcb()
	if u == nil {
		return errs.ErrClosed
	}
	*u = udpPCB{gen: u.gen}
	return nil
}

// udpInput handles a received UDP datagram; b's data is the datagram ip. It
// takes ownership of b. lwIP: udp_input (udp.c).
func (s *Stack) udpInput(n *netif.Netif, b *pbuf.Buf, ip wire.IPv4) {
	st := &s.stats.UDP
	st.Recv++
	ud, err := wire.ParseUDP(ip.Payload())
	if err != nil {
		st.LenErr++
		st.Drop++
		b.Free()
		return
	}
	src, dst := ip.Src(), ip.Dst()
	// RFC 1122 §4.1.3.4: silently discard a datagram whose non-zero checksum fails.
	if b.Flags&pbuf.RxL4ChecksumOK == 0 && !ud.IsChecksumValid(src, dst) {
		st.ChkErr++
		st.Drop++
		b.Free()
		return
	}
	sport, dport := ud.SrcPort(), ud.DstPort()
	bcast := n.IsBroadcast(dst) || dst.IsMulticast()
	// Best match: a connected endpoint whose remote matches, then one bound to
	// this address, then a wildcard (lwIP's udp_input order).
	best, score := -1, 0
	for i := range s.udp {
		u := &s.udp[i]
		if !u.used || u.lport != dport || u.netif != 0 && u.netif != n.Index+1 {
			continue
		}
		if !u.local.IsUnspecified() && u.local != dst && !(bcast && u.local == n.Addr) {
			continue
		}
		if u.connected && (u.remote != src || u.rport != sport) {
			continue
		}
		sc := 1
		if !u.local.IsUnspecified() {
			sc++
		}
		if u.connected {
			sc += 2
		}
		if sc > score {
			best, score = i, sc
		}
	}
	if best < 0 {
		if !bcast {
			// RFC 1122 §4.1.3.1: no listener → port unreachable.
			s.icmpError(n, b, ip, wire.ICMPv4DstUnreachable, wire.ICMPv4PortUnreachable, 0)
		}
		st.ProtErr++
		st.Drop++
		b.Free()
		return
	}
	u := &s.udp[best]
	if u.recv == nil {
		st.Drop++
		b.Free()
		return
	}
	payloadLen := len(ud) - wire.UDPHeaderLen
	b.Consume(ip.HeaderLen() + wire.UDPHeaderLen)
	b.Truncate(payloadLen)
	u.recv(UDP{s, uint16(best), u.gen}, b, netip.AddrPortFrom(netip.AddrFrom4(src), sport), netip.AddrFrom4(dst))
}

// udpICMPError passes an ICMP error about a datagram we sent (quoted in
// orig) to the endpoint that sent it.
func (s *Stack) udpICMPError(m wire.ICMPv4, orig wire.IPv4) {
	q := orig.Payload()
	if len(q) < wire.UDPHeaderLen {
		return
	}
	ud := wire.UDP(q)
	src, dst := orig.Src(), orig.Dst()
	for i := range s.udp {
		u := &s.udp[i]
		if !u.used || u.lport != ud.SrcPort() || !(u.local.IsUnspecified() || u.local == src) {
			continue
		}
		if u.connected && (u.remote != dst || u.rport != ud.DstPort()) {
			continue
		}
		if u.onErr != nil {
			u.onErr(UDP{s, uint16(i), u.gen}, netip.AddrPortFrom(netip.AddrFrom4(dst), ud.DstPort()), m.Type(), m.Code())
		}
		return
	}
}
