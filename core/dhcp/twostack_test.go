package dhcp_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/dhcp"
	"github.com/lwgo/lwgo/core/dns"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif/pipe"
)

// miniServer is a small DHCP and DNS server written on the other stack's
// UDP API, in the manner of udhcpd: it unicasts OFFER and ACK to the offered
// address (having pinned the client's MAC in its ARP cache, as udhcpd writes
// to the client's hardware address), and answers A queries for one name.
type miniServer struct {
	t       *testing.T
	s       *core.Stack
	dhcp    core.UDP
	dns     core.UDP
	pool    wire.IPv4Addr
	lease   uint32
	seen    map[dhcp.MsgType]int
	queries int
}

var (
	srvAddr  = netip.MustParseAddr("198.18.3.1")
	leaseIP  = wire.IPv4Addr{198, 18, 3, 146}
	peerName = "peer.test"
)

func newMiniServer(t *testing.T, s *core.Stack) *miniServer {
	m := &miniServer{t: t, s: s, pool: leaseIP, lease: 120, seen: map[dhcp.MsgType]int{}}
	var err error
	if m.dhcp, err = s.NewUDP(); err != nil {
		t.Fatal(err)
	}
	m.dhcp.Bind(netip.Addr{}, dhcp.ServerPort)
	m.dhcp.SetRecv(m.onDHCP)
	if m.dns, err = s.NewUDP(); err != nil {
		t.Fatal(err)
	}
	m.dns.Bind(netip.Addr{}, dns.Port)
	m.dns.SetRecv(m.onDNS)
	return m
}

func (m *miniServer) onDHCP(u core.UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
	defer p.Free()
	req, err := dhcp.Parse(p.Bytes())
	if err != nil || req.Op() != dhcp.OpRequest {
		return
	}
	var o dhcp.Options
	if req.ParseOptions(&o) != nil {
		return
	}
	m.seen[o.Type]++
	var typ dhcp.MsgType
	switch o.Type {
	case dhcp.Discover:
		typ = dhcp.Offer
	case dhcp.Request:
		typ = dhcp.Ack
	default:
		return
	}
	h := dhcp.Header{Op: dhcp.OpReply, XID: req.XID(), YIAddr: m.pool, CHAddr: req.CHAddrMAC(), SIAddr: srvAddr.As4()}
	b := h.Encode(make([]byte, dhcp.MaxLen))
	b = dhcp.AppendOptionByte(b, dhcp.OptMsgType, uint8(typ))
	b = dhcp.AppendOptionAddr(b, dhcp.OptServerID, srvAddr.As4())
	b = dhcp.AppendOptionUint32(b, dhcp.OptLeaseTime, m.lease)
	b = dhcp.AppendOptionAddr(b, dhcp.OptSubnetMask, wire.IPv4Addr{255, 255, 255, 0})
	b = dhcp.AppendOptionAddr(b, dhcp.OptRouter, srvAddr.As4())
	b = dhcp.AppendOptionAddr(b, dhcp.OptDNS, srvAddr.As4())
	b = dhcp.AppendEnd(b, dhcp.MinLen)
	to := netip.AddrFrom4(m.pool)
	if to == srvAddr {
		to = netip.AddrFrom4(wire.IPv4Broadcast) // a misconfigured pool: our own address
	} else if !req.CIAddr().IsUnspecified() {
		to = netip.AddrFrom4(req.CIAddr()) // RENEWING / REBINDING
	} else if err := m.s.AddStaticARP(&m.s.Netifs()[0], to, req.CHAddrMAC()); err != nil {
		m.t.Fatal(err)
	}
	if err := u.SendTo(b, netip.AddrPortFrom(to, dhcp.ClientPort)); err != nil {
		m.t.Fatalf("server send: %v", err)
	}
}

func (m *miniServer) onDNS(u core.UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
	defer p.Free()
	q, err := dns.ParseMessage(p.Bytes())
	if err != nil || q.IsResponse() {
		return
	}
	m.queries++
	var qs dns.Question
	end, err := dns.ReadQuestion(q, dns.HeaderLen, nil, &qs)
	if err != nil {
		return
	}
	want, _ := dns.AppendName(nil, peerName)
	h := dns.Header{ID: q.ID(), Flags: dns.FlagQR | dns.FlagRD | dns.FlagRA, QDCount: 1}
	found := dns.EqualNames(qs.Name, want) && qs.Type == dns.TypeA
	if found {
		h.ANCount = 1
	} else {
		h.Flags |= uint16(dns.RCodeNXDomain)
	}
	b := h.Append(nil)
	b = append(b, q[dns.HeaderLen:end]...)
	if found {
		b = append(b, 0xc0, dns.HeaderLen, 0, dns.TypeA, 0, dns.ClassIN)
		b = binary.BigEndian.AppendUint32(b, 60)
		b = append(b, 0, 4)
		b = append(b, srvAddr.AsSlice()...)
	}
	u.SendTo(b, src)
}

// Two stacks over an in-memory wire: stack A gets its address from a DHCP
// server on stack B (unicast replies, as udhcpd sends them), takes the DNS
// server from the lease, resolves a name through it, renews at T1, and
// releases.
func TestTwoStacksLeaseThenResolve(t *testing.T) {
	var clk clock.Manual
	ea, eb := pipe.New(pipe.Config{})
	a, b := core.New(core.Config{Seed: 1}), core.New(core.Config{Seed: 2})
	na, err := a.AddNetif(ea, core.NetifConfig{})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := b.AddNetif(eb, core.NetifConfig{Addr: netip.PrefixFrom(srvAddr, 24)})
	if err != nil {
		t.Fatal(err)
	}
	a.SetUp(na)
	b.SetUp(nb)
	srv := newMiniServer(t, b)

	r, err := dns.New(a, dns.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var events []dhcp.Event
	c, err := dhcp.New(a, na, dhcp.Config{DNS: r, Hostname: "lwgo",
		OnEvent: func(c *dhcp.Client, ev dhcp.Event) { events = append(events, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	run := func(d clock.Duration) {
		end := clk.Now().Add(d)
		for clk.Now() < end {
			na := a.Poll(clk.Now())
			nb := b.Poll(clk.Now())
			if ea.Pending() > 0 || eb.Pending() > 0 {
				continue
			}
			clk.Set(min(clock.Min(na, nb), end))
		}
		a.Poll(clk.Now())
		b.Poll(clk.Now())
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	run(5 * clock.Second)
	if c.State() != dhcp.Bound || na.Addr != leaseIP || len(events) != 1 || events[0] != dhcp.EventBound {
		t.Fatalf("state %v addr %v events %v seen %v", c.State(), na.Addr, events, srv.seen)
	}
	if r.Server(0) != srvAddr {
		t.Fatalf("DNS server %v", r.Server(0))
	}
	var got netip.Addr
	var gotErr error = dns.ErrTimeout
	if _, err := r.GetHostByName(peerName, func(name string, addr netip.Addr, err error) { got, gotErr = addr, err }); err == nil {
		t.Fatal("answered without asking")
	}
	run(clock.Second)
	if gotErr != nil || got != srvAddr {
		t.Fatalf("resolved %v %v", got, gotErr)
	}
	// T1 is 60 s into the 120 s lease: the renewal is unicast and answered.
	run(61 * clock.Second)
	if c.State() != dhcp.Bound || srv.seen[dhcp.Request] != 2 || len(events) != 2 || events[1] != dhcp.EventRenewed {
		t.Fatalf("after T1: %v, seen %v, events %v", c.State(), srv.seen, events)
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	run(clock.Second)
	if c.State() != dhcp.Off || na.HasAddr() || srv.seen[dhcp.Release] != 1 {
		t.Fatalf("after release: %v, addr %v, seen %v", c.State(), na.Addr, srv.seen)
	}
	for _, s := range []*core.Stack{a, b} {
		if p := s.Pool(); p.Available() != p.Cap() {
			t.Fatalf("pool %d/%d", p.Available(), p.Cap())
		}
	}
}

// A server that offers an address in use (here its own): the client's ARP
// probe draws the owner's reply (RFC 5227 §2.1.1), the client declines
// (RFC 2131 §4.4.1) and does not configure the address.
func TestTwoStacksDeclineAddressInUse(t *testing.T) {
	var clk clock.Manual
	ea, eb := pipe.New(pipe.Config{})
	a, b := core.New(core.Config{Seed: 1}), core.New(core.Config{Seed: 2})
	na, _ := a.AddNetif(ea, core.NetifConfig{})
	nb, _ := b.AddNetif(eb, core.NetifConfig{Addr: netip.PrefixFrom(srvAddr, 24)})
	a.SetUp(na)
	b.SetUp(nb)
	srv := newMiniServer(t, b)
	srv.pool = srvAddr.As4()
	c, err := dhcp.New(a, na, dhcp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	for range 50 {
		a.Poll(clk.Now())
		b.Poll(clk.Now())
		clk.Advance(100 * clock.Millisecond)
	}
	if c.State() != dhcp.BackingOff || srv.seen[dhcp.Decline] != 1 || na.HasAddr() {
		t.Fatalf("state %v, seen %v, addr %v", c.State(), srv.seen, na.Addr)
	}
	if st := c.Stats(); st.Conflicts != 1 || st.Declines != 1 {
		t.Fatalf("stats %+v", st)
	}
}
