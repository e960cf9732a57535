package core

// Scripted white-box harness: a rig is one Stack on a testDev whose frames
// the test writes by hand (inbox) and reads back (sent). Builders craft
// frames with core/wire; txCheck validates every frame the stack transmits.

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// The rig's world: our interface 10.0.0.1/24 at rigMAC; peers on the subnet.
var (
	rigMAC   = wire.MAC{0x02, 0, 0, 0, 0, 0x01}
	peerMAC  = wire.MAC{0x02, 0, 0, 0, 0, 0x99}
	otherMAC = wire.MAC{0x02, 0, 0, 0, 0, 0x77}
	rigIP    = wire.IPv4Addr{10, 0, 0, 1}
	peerIP   = wire.IPv4Addr{10, 0, 0, 2}
	otherIP  = wire.IPv4Addr{10, 0, 0, 3}
	rigBcast = wire.IPv4Addr{10, 0, 0, 255}
)

const rigSeed = 0x1122_3344_5566_7788

// rig is one Stack with one interface on a testDev driven by hand.
type rig struct {
	t   testing.TB
	s   *Stack
	dev *testDev
	n   *netif.Netif
	clk clock.Manual
	chk *txCheck
}

// newRig builds a stack from cfg (Seed fixed unless set), adds 10.0.0.1/24,
// brings it up and discards the gratuitous ARP.
func newRig(t testing.TB, cfg Config) *rig {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = rigSeed
	}
	dev := &testDev{mac: rigMAC, mtu: 1500, keep: true}
	s := New(cfg)
	n, err := s.AddNetif(dev, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetUp(n)
	r := &rig{t: t, s: s, dev: dev, n: n}
	r.chk = newTxCheck(s)
	r.poll()
	r.dev.sent = nil
	return r
}

func (r *rig) now() clock.Time { return r.clk.Now() }

func (r *rig) poll() clock.Time { return r.s.Poll(r.clk.Now()) }

// advance moves the clock by d and polls.
func (r *rig) advance(d clock.Duration) {
	r.clk.Advance(d)
	r.poll()
}

// advanceBy moves the clock by total in steps of step, polling after each.
func (r *rig) advanceBy(total, step clock.Duration) {
	for el := clock.Duration(0); el < total; el += step {
		r.advance(step)
	}
}

// drainTimers advances the clock past every timeout that holds buffers
// (reassembly, then ARP resolution of whatever the expiry sent), one tick
// at a time.
func (r *rig) drainTimers() {
	cfg := r.s.cfg
	r.advanceBy(cfg.ReassTimeout+clock.Duration(cfg.ARPMaxTries+3)*clock.Second, clock.Second)
}

// inject queues frames on the device and polls once.
func (r *rig) inject(frames ...[]byte) {
	for _, f := range frames {
		r.dev.inbox = append(r.dev.inbox, bytes.Clone(f))
		r.chk.noteRx(f)
	}
	r.poll()
}

// sent returns the frames transmitted since the last call, each validated
// by txCheck.
func (r *rig) sent() [][]byte {
	r.t.Helper()
	out := r.dev.sent
	r.dev.sent = nil
	for i, f := range out {
		if err := r.chk.check(f); err != nil {
			r.t.Errorf("transmitted frame %d invalid: %v\n% x", i, err, f)
		}
	}
	return out
}

// expectNone fails if anything was transmitted.
func (r *rig) expectNone() {
	r.t.Helper()
	if out := r.sent(); len(out) != 0 {
		r.t.Fatalf("expected no frame, got %d; first:\n%s", len(out), describe(out[0]))
	}
}

// expectOne returns the one frame transmitted, failing otherwise.
func (r *rig) expectOne() []byte {
	r.t.Helper()
	out := r.sent()
	if len(out) != 1 {
		var b bytes.Buffer
		for _, f := range out {
			b.WriteString(describe(f))
			b.WriteByte('\n')
		}
		r.t.Fatalf("expected one frame, got %d:\n%s", len(out), b.String())
	}
	return out[0]
}

// learn teaches the stack that ip is at mac with an ARP request for our
// address, and discards the reply.
func (r *rig) learn(mac wire.MAC, ip wire.IPv4Addr) {
	r.t.Helper()
	r.inject(mkEth(rigMAC, mac, wire.EtherTypeARP, mkARP(wire.ARPRequest, mac, ip, wire.MAC{}, rigIP)))
	r.sent()
	if got, ok := r.s.LookupARP(r.n, netip.AddrFrom4(ip)); !ok || got != mac {
		r.t.Fatalf("learn %v: cache has %v %v", ip, got, ok)
	}
}

// checkNoLeak fails unless every packet and reassembly buffer is free.
func (r *rig) checkNoLeak() {
	r.t.Helper()
	checkPools(r.t, r.s)
}

func checkPools(t testing.TB, s *Stack) {
	t.Helper()
	if a, c := s.pool.Available(), s.pool.Cap(); a != c {
		t.Errorf("packet pool leak: %d of %d free", a, c)
	}
	if a, c := s.reassPool.Available(), s.reassPool.Cap(); a != c {
		t.Errorf("reassembly pool leak: %d of %d free", a, c)
	}
}

// udpRx is one datagram received by a recorder.
type udpRx struct {
	data []byte
	src  netip.AddrPort
	dst  netip.Addr
}

// bindRecorder opens a UDP endpoint bound to addr:port (addr zero: any)
// whose datagrams are copied into the returned slice.
func (r *rig) bindRecorder(addr netip.Addr, port uint16) (UDP, *[]udpRx) {
	r.t.Helper()
	u, err := r.s.NewUDP()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := u.Bind(addr, port); err != nil {
		r.t.Fatal(err)
	}
	got := new([]udpRx)
	u.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		*got = append(*got, udpRx{bytes.Clone(p.Bytes()), src, dst})
		p.Free()
	})
	return u, got
}

// ---- Frame builders ----

func mkEth(dst, src wire.MAC, typ wire.EtherType, payload []byte) []byte {
	f := make([]byte, wire.EthernetHeaderLen+len(payload))
	h := wire.EthernetHeader{Dst: dst, Src: src, Type: typ}
	h.Encode(wire.Ethernet(f))
	copy(f[wire.EthernetHeaderLen:], payload)
	return f
}

func mkARP(op wire.ARPOp, sha wire.MAC, spa wire.IPv4Addr, tha wire.MAC, tpa wire.IPv4Addr) []byte {
	a := make([]byte, wire.ARPLen)
	h := wire.ARPHeader{Op: op, SenderMAC: sha, SenderIP: spa, TargetMAC: tha, TargetIP: tpa}
	h.Encode(wire.ARP(a))
	return a
}

// mkIPv4 encodes h (TotalLen filled in when zero, TTL 64 when zero) and
// appends payload.
func mkIPv4(h wire.IPv4Header, payload []byte) []byte {
	if h.TotalLen == 0 {
		h.TotalLen = wire.IPv4MinHeaderLen + len(payload)
	}
	if h.TTL == 0 {
		h.TTL = 64
	}
	b := make([]byte, wire.IPv4MinHeaderLen+len(payload))
	h.Encode(wire.IPv4(b))
	copy(b[wire.IPv4MinHeaderLen:], payload)
	return b
}

// mkUDP returns a UDP datagram (header and data) with a valid checksum.
func mkUDP(src, dst wire.IPv4Addr, sport, dport uint16, data []byte) []byte {
	u := make([]byte, wire.UDPHeaderLen+len(data))
	h := wire.UDPHeader{SrcPort: sport, DstPort: dport, Length: len(u)}
	h.Encode(wire.UDP(u))
	copy(u[wire.UDPHeaderLen:], data)
	wire.UDP(u).SetChecksum(wire.UDPChecksum(wire.UDP(u), src, dst))
	return u
}

// mkICMP returns an ICMP message with a valid checksum.
func mkICMP(typ wire.ICMPv4Type, code uint8, rest uint32, data []byte) []byte {
	m := make([]byte, wire.ICMPv4HeaderLen+len(data))
	h := wire.ICMPv4Header{Type: typ, Code: code, Rest: rest}
	h.Encode(wire.ICMPv4(m))
	copy(m[wire.ICMPv4HeaderLen:], data)
	wire.ICMPv4(m).UpdateChecksum()
	return m
}

// ipFrame wraps an IPv4 datagram from src to dst in a frame from peerMAC to
// rigMAC.
func ipFrame(src, dst wire.IPv4Addr, proto wire.IPProto, id uint16, payload []byte) []byte {
	return mkEth(rigMAC, peerMAC, wire.EtherTypeIPv4,
		mkIPv4(wire.IPv4Header{ID: id, Protocol: proto, Src: src, Dst: dst}, payload))
}

// udpFrame is a UDP datagram from peerIP:sport to dst:dport in a unicast frame.
func udpFrame(dst wire.IPv4Addr, sport, dport uint16, data []byte) []byte {
	return ipFrame(peerIP, dst, wire.ProtoUDP, 0x4242, mkUDP(peerIP, dst, sport, dport, data))
}

// echoFrame is an echo request from peerIP to dst.
func echoFrame(dst wire.IPv4Addr, id, seq uint16, data []byte) []byte {
	return ipFrame(peerIP, dst, wire.ProtoICMP, 0x0e0e, mkICMP(wire.ICMPv4Echo, 0, uint32(id)<<16|uint32(seq), data))
}

// frag describes one fragment of a datagram's payload.
type frag struct {
	off, len int
	more     bool
}

// mkFrag returns the IPv4 fragment of payload (the whole transport message)
// covering f, in a frame to rigMAC.
func mkFrag(h wire.IPv4Header, payload []byte, f frag) []byte {
	h.FragOffset = f.off
	h.Flags &^= wire.IPv4MoreFragments
	if f.more {
		h.Flags |= wire.IPv4MoreFragments
	}
	h.TotalLen = 0
	return mkEth(rigMAC, peerMAC, wire.EtherTypeIPv4, mkIPv4(h, payload[f.off:f.off+f.len]))
}

// splitFrags cuts a payload of n bytes into fragments of step bytes.
func splitFrags(n, step int) []frag {
	var fs []frag
	for off := 0; off < n; off += step {
		k := min(step, n-off)
		fs = append(fs, frag{off, k, off+k < n})
	}
	return fs
}

// pattern returns n bytes of a recognisable pattern.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>8)
	}
	return b
}

// ---- Decoding and validation of transmitted frames ----

// decoded is a transmitted frame taken apart.
type decoded struct {
	eth  wire.Ethernet
	arp  wire.ARP
	ip   wire.IPv4
	icmp wire.ICMPv4
	udp  wire.UDP
}

// decode takes a frame apart, failing the test on anything malformed.
func decode(t testing.TB, f []byte) decoded {
	t.Helper()
	var d decoded
	var err error
	if d.eth, err = wire.ParseEthernet(f); err != nil {
		t.Fatalf("ethernet: %v", err)
	}
	switch d.eth.Type() {
	case wire.EtherTypeARP:
		if d.arp, err = wire.ParseARP(d.eth.Payload()); err != nil {
			t.Fatalf("arp: %v", err)
		}
	case wire.EtherTypeIPv4:
		if d.ip, err = wire.ParseIPv4(d.eth.Payload()); err != nil {
			t.Fatalf("ipv4: %v", err)
		}
		if d.ip.IsFragment() {
			return d
		}
		switch d.ip.Protocol() {
		case wire.ProtoICMP:
			if d.icmp, err = wire.ParseICMPv4(d.ip.Payload()); err != nil {
				t.Fatalf("icmp: %v", err)
			}
		case wire.ProtoUDP:
			if d.udp, err = wire.ParseUDP(d.ip.Payload()); err != nil {
				t.Fatalf("udp: %v", err)
			}
		}
	default:
		t.Fatalf("unexpected ethertype %v", d.eth.Type())
	}
	return d
}

// describe renders a frame for failure messages.
func describe(f []byte) string {
	eth, err := wire.ParseEthernet(f)
	if err != nil {
		return fmt.Sprintf("short frame % x", f)
	}
	s := fmt.Sprintf("%v > %v %v", eth.Src(), eth.Dst(), eth.Type())
	switch eth.Type() {
	case wire.EtherTypeARP:
		if a, err := wire.ParseARP(eth.Payload()); err == nil {
			s += fmt.Sprintf(" op=%d %v/%v > %v/%v", a.Op(), a.SenderIP(), a.SenderMAC(), a.TargetIP(), a.TargetMAC())
		}
	case wire.EtherTypeIPv4:
		if ip, err := wire.ParseIPv4(eth.Payload()); err == nil {
			s += fmt.Sprintf(" %v > %v %v id=%d off=%d mf=%v ttl=%d len=%d", ip.Src(), ip.Dst(), ip.Protocol(),
				ip.ID(), ip.FragOffset(), ip.Flags()&wire.IPv4MoreFragments != 0, ip.TTL(), len(ip))
			if ip.Protocol() == wire.ProtoICMP && !ip.IsFragment() && len(ip.Payload()) >= 2 {
				s += fmt.Sprintf(" type=%d code=%d", ip.Payload()[0], ip.Payload()[1])
			}
		}
	}
	return s
}

// dgramKey identifies a datagram for reassembly (RFC 791).
type dgramKey struct {
	src, dst wire.IPv4Addr
	id       uint16
	proto    wire.IPProto
}

func keyOf(ip wire.IPv4) dgramKey { return dgramKey{ip.Src(), ip.Dst(), ip.ID(), ip.Protocol()} }

// fragAcc accumulates the fragments of one transmitted datagram.
type fragAcc struct {
	buf   []byte
	have  int
	total int
}

// txCheck validates frames a stack transmits: well-formed Ethernet with our
// source MAC; ARP from our address; IPv4 with a valid header checksum, a
// nonzero TTL, one of our addresses as source; valid ICMP and UDP checksums
// (over the reassembled datagram for fragments); and no ICMP error that
// RFC 1122 §3.2.2 forbids.
type txCheck struct {
	mac   wire.MAC
	addrs []wire.IPv4Addr
	bcast []wire.IPv4Addr
	frags map[dgramKey]*fragAcc
	// unicastIn records the datagrams that arrived in frames addressed to
	// our MAC (link unicast); an ICMP error may quote only those.
	unicastIn map[dgramKey]bool
}

func newTxCheck(s *Stack) *txCheck {
	c := &txCheck{frags: map[dgramKey]*fragAcc{}, unicastIn: map[dgramKey]bool{}}
	for _, n := range s.netifs {
		c.mac = n.MAC
		c.addrs = append(c.addrs, n.Addr)
		c.bcast = append(c.bcast, n.Addr.DirectedBroadcast(n.Mask))
	}
	return c
}

// noteRx records a frame given to the stack.
func (c *txCheck) noteRx(f []byte) {
	eth, err := wire.ParseEthernet(f)
	if err != nil || eth.Dst() != c.mac || eth.Type() != wire.EtherTypeIPv4 {
		return
	}
	if ip, err := wire.ParseIPv4(eth.Payload()); err == nil {
		c.unicastIn[keyOf(ip)] = true
	}
}

func (c *txCheck) ours(a wire.IPv4Addr) bool {
	for _, x := range c.addrs {
		if x == a {
			return true
		}
	}
	return false
}

func (c *txCheck) isBroadcast(a wire.IPv4Addr) bool {
	if a.IsBroadcast() {
		return true
	}
	for _, x := range c.bcast {
		if x == a {
			return true
		}
	}
	return false
}

func (c *txCheck) check(f []byte) error {
	eth, err := wire.ParseEthernet(f)
	if err != nil {
		return fmt.Errorf("ethernet: %v", err)
	}
	if eth.Src() != c.mac {
		return fmt.Errorf("source MAC %v is not ours", eth.Src())
	}
	switch eth.Type() {
	case wire.EtherTypeARP:
		return c.checkARP(eth)
	case wire.EtherTypeIPv4:
		return c.checkIP(eth)
	}
	return fmt.Errorf("ethertype %v", eth.Type())
}

func (c *txCheck) checkARP(eth wire.Ethernet) error {
	a, err := wire.ParseARP(eth.Payload())
	if err != nil {
		return fmt.Errorf("arp: %v", err)
	}
	if a.SenderMAC() != c.mac || !c.ours(a.SenderIP()) {
		return fmt.Errorf("arp sender %v/%v is not us", a.SenderIP(), a.SenderMAC())
	}
	switch a.Op() {
	case wire.ARPRequest:
		if !a.TargetMAC().IsZero() {
			return fmt.Errorf("arp request with target MAC %v", a.TargetMAC())
		}
	case wire.ARPReply:
		if eth.Dst() != a.TargetMAC() || eth.Dst().IsMulticast() {
			return fmt.Errorf("arp reply to %v with target %v", eth.Dst(), a.TargetMAC())
		}
	default:
		return fmt.Errorf("arp op %d", a.Op())
	}
	return nil
}

func (c *txCheck) checkIP(eth wire.Ethernet) error {
	ip, err := wire.ParseIPv4(eth.Payload())
	if err != nil {
		return fmt.Errorf("ipv4: %v", err)
	}
	if len(ip) != len(eth.Payload()) {
		return fmt.Errorf("ipv4 total length %d, frame carries %d", len(ip), len(eth.Payload()))
	}
	if !ip.IsChecksumValid() {
		return fmt.Errorf("bad IPv4 header checksum")
	}
	if ip.TTL() == 0 {
		return fmt.Errorf("TTL 0 (RFC 1122 §3.2.1.7)")
	}
	if !c.ours(ip.Src()) {
		return fmt.Errorf("source %v is not ours (RFC 1122 §3.2.1.3)", ip.Src())
	}
	if ip.Flags()&wire.IPv4Reserved != 0 {
		return fmt.Errorf("reserved flag set")
	}
	dst := ip.Dst()
	if c.isBroadcast(dst) || dst.IsMulticast() {
		if !eth.Dst().IsMulticast() {
			return fmt.Errorf("datagram to %v in a unicast frame", dst)
		}
	} else if eth.Dst().IsMulticast() {
		return fmt.Errorf("unicast datagram to %v in a frame to %v", dst, eth.Dst())
	}
	if !ip.IsFragment() {
		return c.checkL4(ip, ip.Payload())
	}
	if ip.FragOffset()+len(ip.Payload()) > wire.IPv4MaxTotalLen-wire.IPv4MinHeaderLen {
		return fmt.Errorf("fragment beyond 65535")
	}
	more := ip.Flags()&wire.IPv4MoreFragments != 0
	if more && len(ip.Payload())%8 != 0 {
		return fmt.Errorf("non-final fragment of %d bytes", len(ip.Payload()))
	}
	k := keyOf(ip)
	acc := c.frags[k]
	if acc == nil {
		acc = &fragAcc{total: -1}
		c.frags[k] = acc
	}
	end := ip.FragOffset() + len(ip.Payload())
	if end > len(acc.buf) {
		acc.buf = append(acc.buf, make([]byte, end-len(acc.buf))...)
	}
	copy(acc.buf[ip.FragOffset():], ip.Payload())
	acc.have += len(ip.Payload())
	if !more {
		acc.total = end
	}
	if acc.total >= 0 && acc.have >= acc.total {
		delete(c.frags, k)
		if acc.have != acc.total {
			return fmt.Errorf("fragments of id %d overlap: %d bytes for %d", ip.ID(), acc.have, acc.total)
		}
		return c.checkL4(ip, acc.buf[:acc.total])
	}
	return nil
}

// checkL4 validates a whole transport message p carried by ip (whose header
// fields other than the fragment ones apply).
func (c *txCheck) checkL4(ip wire.IPv4, p []byte) error {
	switch ip.Protocol() {
	case wire.ProtoUDP:
		u, err := wire.ParseUDP(p)
		if err != nil {
			return fmt.Errorf("udp: %v", err)
		}
		if len(u) != len(p) {
			return fmt.Errorf("udp length %d, datagram carries %d", len(u), len(p))
		}
		if u.Checksum() == 0 {
			return fmt.Errorf("udp sent without checksum (RFC 1122 §4.1.3.4)")
		}
		if !u.IsChecksumValid(ip.Src(), ip.Dst()) {
			return fmt.Errorf("bad UDP checksum")
		}
	case wire.ProtoICMP:
		m, err := wire.ParseICMPv4(p)
		if err != nil {
			return fmt.Errorf("icmp: %v", err)
		}
		if !m.IsChecksumValid() {
			return fmt.Errorf("bad ICMP checksum (type %d)", m.Type())
		}
		if m.Type().IsError() {
			return c.checkICMPError(ip, m)
		}
	default:
		return fmt.Errorf("protocol %v", ip.Protocol())
	}
	return nil
}

// checkICMPError enforces RFC 1122 §3.2.2 on an ICMP error we sent.
func (c *txCheck) checkICMPError(ip wire.IPv4, m wire.ICMPv4) error {
	if len(ip) > 576 {
		return fmt.Errorf("ICMP error of %d bytes exceeds 576", len(ip))
	}
	q, err := wire.ParseIPv4Header(m.Payload())
	if err != nil {
		return fmt.Errorf("ICMP error quotes no IPv4 header: %v", err)
	}
	data := q.Payload()
	if n := q.TotalLen() - q.HeaderLen(); len(data) < min(8, n) {
		return fmt.Errorf("ICMP error quotes %d data bytes, want at least 8 (RFC 1122 §3.2.2)", len(data))
	}
	src, dst := q.Src(), q.Dst()
	switch {
	case q.Protocol() == wire.ProtoICMP && (len(data) == 0 || wire.ICMPv4Type(data[0]).IsError()):
		return fmt.Errorf("ICMP error about an ICMP error")
	case c.isBroadcast(dst) || dst.IsMulticast():
		return fmt.Errorf("ICMP error about a datagram to %v", dst)
	case q.FragOffset() != 0:
		return fmt.Errorf("ICMP error about a non-initial fragment (offset %d)", q.FragOffset())
	case src.IsUnspecified() || c.isBroadcast(src) || src.IsMulticast() || src.IsClassE():
		return fmt.Errorf("ICMP error about a datagram from %v, not a unique host", src)
	case !c.unicastIn[keyOf(q)]:
		return fmt.Errorf("ICMP error about a datagram not received as link unicast (%v > %v id %d)", src, dst, q.ID())
	}
	if ip.Dst() != src {
		return fmt.Errorf("ICMP error to %v, quoted source %v", ip.Dst(), src)
	}
	return nil
}
