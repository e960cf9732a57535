package core

// Tests of the hooks DHCP and DNS need from the core: pollers, UDP
// endpoints tied to an interface, unicast to port 68 before an address is
// configured, and the RFC 5227 ARP probe. Self-contained: only testDev.

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// hkPoller records its calls and reports a fixed deadline.
type hkPoller struct {
	calls    []clock.Time
	deadline clock.Time
	onPoll   func()
}

func (p *hkPoller) PollTimers(now clock.Time) {
	p.calls = append(p.calls, now)
	if p.onPoll != nil {
		p.onPoll()
	}
}
func (p *hkPoller) NextDeadline() clock.Time { return p.deadline }

func TestPollerRunsFromPollAndSetsDeadline(t *testing.T) {
	s := New(Config{MaxPollers: 2})
	a, b, c := &hkPoller{deadline: 500}, &hkPoller{deadline: 300}, &hkPoller{deadline: 100}
	if err := s.AddPoller(a); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPoller(a); err != errs.ErrInUse {
		t.Fatalf("double add: %v", err)
	}
	if err := s.AddPoller(b); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPoller(c); err != errs.ErrMem {
		t.Fatalf("over MaxPollers: %v", err)
	}
	if next := s.Poll(10); next != 300 || len(a.calls) != 1 || a.calls[0] != 10 || len(b.calls) != 1 {
		t.Fatalf("next %v, calls %v %v", next, a.calls, b.calls)
	}
	// A poller removing itself (and its neighbour) during its own run.
	b.onPoll = func() { s.RemovePoller(b); s.RemovePoller(a) }
	s.Poll(20)
	if next := s.Poll(30); next != clock.Never || len(a.calls) != 2 || len(b.calls) != 2 {
		t.Fatalf("next %v after removal, calls %d %d", next, len(a.calls), len(b.calls))
	}
	if err := s.AddPoller(c); err != nil {
		t.Fatalf("slot not freed: %v", err)
	}
}

// The deadline is read after every poller ran: work a callback of a later
// poller starts in an earlier one counts.
func TestPollerDeadlineReadLast(t *testing.T) {
	s := New(Config{})
	a, b := &hkPoller{deadline: clock.Never}, &hkPoller{deadline: clock.Never}
	s.AddPoller(a)
	s.AddPoller(b)
	b.onPoll = func() { a.deadline = 42 }
	if next := s.Poll(1); next != 42 {
		t.Fatalf("next %v", next)
	}
}

// hkRig is one stack with two interfaces, both without addresses at first.
type hkRig struct {
	s      *Stack
	d0, d1 *testDev
	n0, n1 *netif.Netif
}

func newHKRig(t *testing.T) *hkRig {
	r := &hkRig{s: New(Config{Seed: 3})}
	r.d0 = &testDev{mac: wire.MAC{2, 0, 0, 0, 0, 1}, mtu: 1500, keep: true}
	r.d1 = &testDev{mac: wire.MAC{2, 0, 0, 0, 1, 1}, mtu: 1500, keep: true}
	var err error
	if r.n0, err = r.s.AddNetif(r.d0, NetifConfig{}); err != nil {
		t.Fatal(err)
	}
	if r.n1, err = r.s.AddNetif(r.d1, NetifConfig{}); err != nil {
		t.Fatal(err)
	}
	r.s.SetUp(r.n0)
	r.s.SetUp(r.n1)
	return r
}

func hkUDPFrame(dstMAC wire.MAC, src, dst wire.IPv4Addr, sport, dport uint16, payload []byte) []byte {
	f := make([]byte, wire.EthernetHeaderLen+wire.IPv4MinHeaderLen+wire.UDPHeaderLen+len(payload))
	eh := wire.EthernetHeader{Dst: dstMAC, Src: wire.MAC{2, 0, 0, 0, 0, 0xfe}, Type: wire.EtherTypeIPv4}
	eh.Encode(wire.Ethernet(f))
	ip := f[wire.EthernetHeaderLen:]
	ih := wire.IPv4Header{TotalLen: len(ip), TTL: 64, Protocol: wire.ProtoUDP, Src: src, Dst: dst}
	ih.Encode(wire.IPv4(ip))
	u := wire.UDP(ip[wire.IPv4MinHeaderLen:])
	uh := wire.UDPHeader{SrcPort: sport, DstPort: dport, Length: len(u)}
	uh.Encode(u)
	copy(u[wire.UDPHeaderLen:], payload)
	u.SetChecksum(wire.UDPChecksum(u, src, dst))
	return f
}

// A DHCP-style endpoint: tied to one interface, port 68 on both interfaces,
// broadcasts from 0.0.0.0 through its own interface only, and receives only
// what arrives there.
func TestUDPBindNetif(t *testing.T) {
	r := newHKRig(t)
	var got [2]int
	open := func(n *netif.Netif, i int) UDP {
		u, err := r.s.NewUDP()
		if err != nil {
			t.Fatal(err)
		}
		if err := u.BindNetif(n); err != nil {
			t.Fatal(err)
		}
		if err := u.Bind(netip.IPv4Unspecified(), 68); err != nil {
			t.Fatalf("bind on if%d: %v", i, err)
		}
		u.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) { got[i]++; p.Free() })
		return u
	}
	u0, u1 := open(r.n0, 0), open(r.n1, 1)
	// An untied endpoint on 68 conflicts with both.
	u2, _ := r.s.NewUDP()
	if err := u2.Bind(netip.Addr{}, 68); err != errs.ErrInUse {
		t.Fatalf("untied bind: %v", err)
	}
	u2.Close()
	if err := u1.SendTo([]byte("discover"), netip.MustParseAddrPort("255.255.255.255:67")); err != nil {
		t.Fatal(err)
	}
	r.s.Poll(0)
	if len(r.d0.sent) != 0 || len(r.d1.sent) != 1 {
		t.Fatalf("sent on if0 %d, if1 %d", len(r.d0.sent), len(r.d1.sent))
	}
	ip := wire.IPv4(r.d1.sent[0][wire.EthernetHeaderLen:])
	if ip.Src() != (wire.IPv4Addr{}) || ip.Dst() != wire.IPv4Broadcast {
		t.Fatalf("sent %v → %v", ip.Src(), ip.Dst())
	}
	// Unicast needs an address.
	if err := u0.SendTo([]byte("x"), netip.MustParseAddrPort("10.0.0.1:67")); err != errs.ErrRoute {
		t.Fatalf("unicast without address: %v", err)
	}
	// Broadcast to 68 on if1 reaches u1 only.
	r.d1.inbox = append(r.d1.inbox, hkUDPFrame(wire.BroadcastMAC, wire.IPv4Addr{10, 0, 0, 1}, wire.IPv4Broadcast, 67, 68, []byte("offer")))
	r.s.Poll(0)
	if got != [2]int{0, 1} {
		t.Fatalf("received %v", got)
	}
	u0.Close()
	u1.Close()
}

// lwIP LWIP_IP_ACCEPT_UDP_PORT: while an interface has no address, unicast
// datagrams to port 68 are taken (udhcpd sends OFFER and ACK to yiaddr);
// other unicast is not.
func TestAcceptDHCPClientPortWithoutAddress(t *testing.T) {
	r := newHKRig(t)
	u, _ := r.s.NewUDP()
	u.BindNetif(r.n0)
	u.Bind(netip.Addr{}, 68)
	var dsts []netip.Addr
	u.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) { dsts = append(dsts, dst); p.Free() })
	o, _ := r.s.NewUDP()
	o.Bind(netip.Addr{}, 69)
	others := 0
	o.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) { others++; p.Free() })
	yi := wire.IPv4Addr{10, 0, 0, 50}
	r.d0.inbox = append(r.d0.inbox,
		hkUDPFrame(r.d0.mac, wire.IPv4Addr{10, 0, 0, 1}, yi, 67, 68, []byte("offer")),
		hkUDPFrame(r.d0.mac, wire.IPv4Addr{10, 0, 0, 1}, yi, 67, 69, []byte("other")))
	r.s.Poll(0)
	if len(dsts) != 1 || dsts[0] != netip.AddrFrom4(yi) || others != 0 {
		t.Fatalf("dsts %v others %d", dsts, others)
	}
	// Once configured, datagrams to another address are not ours any more.
	r.s.SetAddr(r.n0, netip.MustParsePrefix("10.0.0.60/24"), netip.Addr{})
	r.d0.inbox = append(r.d0.inbox, hkUDPFrame(r.d0.mac, wire.IPv4Addr{10, 0, 0, 1}, yi, 67, 68, []byte("late")))
	r.s.Poll(0)
	if len(dsts) != 1 {
		t.Fatalf("took a datagram for another address once configured")
	}
	if p := r.s.Pool(); p.Available() != p.Cap() {
		t.Fatalf("leak: %d/%d", p.Available(), p.Cap())
	}
}

func hkARP(op wire.ARPOp, sha wire.MAC, spa wire.IPv4Addr, tha wire.MAC, tpa wire.IPv4Addr) []byte {
	f := make([]byte, wire.EthernetHeaderLen+wire.ARPLen)
	eh := wire.EthernetHeader{Dst: wire.BroadcastMAC, Src: sha, Type: wire.EtherTypeARP}
	eh.Encode(wire.Ethernet(f))
	ah := wire.ARPHeader{Op: op, SenderMAC: sha, SenderIP: spa, TargetMAC: tha, TargetIP: tpa}
	ah.Encode(wire.ARP(f[wire.EthernetHeaderLen:]))
	return f
}

// RFC 5227 §2.1.1: the probe has sender 0.0.0.0 and target the address;
// a packet from the address, or another host's probe for it, is a conflict;
// other traffic is not.
func TestRFC5227_2_1_1_ARPProbe(t *testing.T) {
	r := newHKRig(t)
	addr := netip.MustParseAddr("10.0.0.50")
	a4 := addr.As4()
	if err := r.s.ARPProbe(r.n0, addr); err != nil {
		t.Fatal(err)
	}
	if len(r.d0.sent) != 1 {
		t.Fatalf("sent %d frames", len(r.d0.sent))
	}
	p := wire.ARP(r.d0.sent[0][wire.EthernetHeaderLen:])
	if p.Op() != wire.ARPRequest || p.SenderIP() != (wire.IPv4Addr{}) || p.TargetIP() != a4 ||
		p.SenderMAC() != r.d0.mac || p.TargetMAC() != (wire.MAC{}) {
		t.Fatalf("probe %x", []byte(p))
	}
	other := wire.MAC{2, 0, 0, 0, 0, 0x77}
	steps := []struct {
		frame    []byte
		conflict bool
	}{
		{hkARP(wire.ARPRequest, other, wire.IPv4Addr{10, 0, 0, 9}, wire.MAC{}, wire.IPv4Addr{10, 0, 0, 8}), false},
		{hkARP(wire.ARPRequest, other, wire.IPv4Addr{}, wire.MAC{}, wire.IPv4Addr{10, 0, 0, 51}), false},
		{hkARP(wire.ARPRequest, r.d0.mac, wire.IPv4Addr{}, wire.MAC{}, a4), false}, // our own probe looped back
		{hkARP(wire.ARPRequest, other, wire.IPv4Addr{}, wire.MAC{}, a4), true},     // another prober
	}
	for i, st := range steps {
		r.d0.inbox = append(r.d0.inbox, st.frame)
		r.s.Poll(0)
		if got := r.s.ARPConflict(r.n0, addr); got != st.conflict {
			t.Fatalf("step %d: conflict %v", i, got)
		}
	}
	// A new probe of another address resets; a reply from the address is a
	// conflict; the other interface is not affected.
	b := netip.MustParseAddr("10.0.0.52")
	r.s.ARPProbe(r.n0, b)
	if r.s.ARPConflict(r.n0, b) || r.s.ARPConflict(r.n0, addr) {
		t.Fatalf("watch not reset")
	}
	r.d1.inbox = append(r.d1.inbox, hkARP(wire.ARPReply, other, b.As4(), r.d1.mac, wire.IPv4Addr{}))
	r.s.Poll(0)
	if r.s.ARPConflict(r.n0, b) {
		t.Fatalf("a reply on another interface counted")
	}
	r.d0.inbox = append(r.d0.inbox, hkARP(wire.ARPReply, other, b.As4(), r.d0.mac, wire.IPv4Addr{}))
	r.s.Poll(0)
	if !r.s.ARPConflict(r.n0, b) {
		t.Fatalf("reply from the probed address missed")
	}
	r.s.ARPProbeStop(r.n0)
	if r.s.ARPConflict(r.n0, b) {
		t.Fatalf("conflict after stop")
	}
	if err := r.s.ARPProbe(r.n0, netip.IPv6Loopback()); err != errs.ErrVal {
		t.Fatalf("IPv6 probe: %v", err)
	}
}

// Rand draws from the seeded generator: deterministic per seed.
func TestStackRandSeeded(t *testing.T) {
	a, b, c := New(Config{Seed: 9}), New(Config{Seed: 9}), New(Config{Seed: 10})
	x, y, z := a.Rand(), b.Rand(), c.Rand()
	if x != y || x == z {
		t.Fatalf("%x %x %x", x, y, z)
	}
}
