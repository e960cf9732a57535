package dhcp

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/script"
)

// The test network: the client's interface, a scripted server and the
// addresses it hands out.
var (
	clientMAC = wire.MAC{0x02, 0, 0, 0, 0, 0x01}
	serverMAC = wire.MAC{0x02, 0, 0, 0, 0, 0xfe}
	otherMAC  = wire.MAC{0x02, 0, 0, 0, 0, 0x77}
	serverIP  = wire.IPv4Addr{10, 0, 0, 1}
	server2IP = wire.IPv4Addr{10, 0, 0, 2}
	offerIP   = wire.IPv4Addr{10, 0, 0, 50}
	dns1      = wire.IPv4Addr{10, 0, 0, 53}
	dns2      = wire.IPv4Addr{10, 0, 0, 54}
	mask24    = wire.IPv4Addr{255, 255, 255, 0}
)

// sentMsg is one DHCP message the client sent, with its envelope.
type sentMsg struct {
	at      clock.Time
	m       Message
	o       Options
	ethDst  wire.MAC
	src     wire.IPv4Addr
	dst     wire.IPv4Addr
	sport   uint16
	dport   uint16
	udpSize int
}

// dnsRec records what the client hands to its DNSSetter.
type dnsRec struct{ servers map[int]netip.Addr }

func (d *dnsRec) SetServer(i int, a netip.Addr) error {
	d.servers[i] = a
	return nil
}

// harness runs one client on a stack whose only neighbour is the test.
type harness struct {
	t      testing.TB
	clk    clock.Manual
	s      *core.Stack
	n      *netif.Netif
	dev    *script.Device
	c      *Client
	events []Event
	dns    *dnsRec
	msgs   []sentMsg // DHCP messages sent, not yet taken
	probes []wire.IPv4Addr
	arpAns bool // answer ARP requests for the servers
}

func newHarness(t testing.TB, cfg Config) *harness {
	h := &harness{t: t, dev: &script.Device{MAC: clientMAC}, dns: &dnsRec{servers: map[int]netip.Addr{}}, arpAns: true}
	h.s = core.New(core.Config{Seed: 7, PoolBufs: 64})
	var err error
	if h.n, err = h.s.AddNetif(h.dev, core.NetifConfig{}); err != nil {
		t.Fatal(err)
	}
	h.s.SetUp(h.n)
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(c *Client, ev Event) { h.events = append(h.events, ev) }
	}
	if cfg.DNS == nil {
		cfg.DNS = h.dns
	}
	if h.c, err = New(h.s, h.n, cfg); err != nil {
		t.Fatal(err)
	}
	return h
}

// poll runs one Poll at the current time and collects what was sent.
func (h *harness) poll() clock.Time {
	next := h.s.Poll(h.clk.Now())
	h.collect()
	return next
}

// collect sorts the device's transmissions: DHCP messages are kept, ARP
// requests for a server are answered, probes are recorded.
func (h *harness) collect() {
	for _, f := range h.dev.Sent {
		eth, err := wire.ParseEthernet(f)
		if err != nil {
			h.t.Fatalf("bad frame %x", f)
		}
		switch eth.Type() {
		case wire.EtherTypeARP:
			a, err := wire.ParseARP(eth.Payload())
			if err != nil {
				h.t.Fatalf("bad ARP %x", f)
			}
			if a.SenderIP().IsUnspecified() {
				h.probes = append(h.probes, a.TargetIP())
				continue
			}
			if tpa := a.TargetIP(); h.arpAns && a.Op() == wire.ARPRequest && (tpa == serverIP || tpa == server2IP) {
				h.dev.Inbox = append(h.dev.Inbox, arpFrame(wire.ARPReply, serverMAC, tpa, clientMAC, a.SenderIP()))
			}
		case wire.EtherTypeIPv4:
			ip, err := wire.ParseIPv4(eth.Payload())
			if err != nil || !ip.IsChecksumValid() || ip.Protocol() != wire.ProtoUDP {
				h.t.Fatalf("unexpected IP frame %x", f)
			}
			u, err := wire.ParseUDP(ip.Payload())
			if err != nil || !u.IsChecksumValid(ip.Src(), ip.Dst()) {
				h.t.Fatalf("bad UDP %x", f)
			}
			m, err := Parse(u.Payload())
			if err != nil {
				h.t.Fatalf("client sent a bad DHCP message: %v", err)
			}
			sm := sentMsg{at: h.clk.Now(), m: m, ethDst: eth.Dst(), src: ip.Src(), dst: ip.Dst(),
				sport: u.SrcPort(), dport: u.DstPort(), udpSize: len(u.Payload())}
			if err := m.ParseOptions(&sm.o); err != nil {
				h.t.Fatalf("client sent bad options: %v", err)
			}
			h.msgs = append(h.msgs, sm)
		}
	}
	h.dev.Sent = h.dev.Sent[:0]
}

// runUntil advances the clock as an event loop would, polling at every
// deadline up to t, and polls at t.
func (h *harness) runUntil(t clock.Time) {
	spins := 0
	for {
		next := h.poll()
		if len(h.dev.Inbox) > 0 {
			continue // ARP answers
		}
		if next > t {
			break
		}
		if next > h.clk.Now() {
			h.clk.Set(next)
			spins = 0
		} else if spins++; spins > 100 {
			// A deadline in the past that Poll does not move: an event loop
			// would spin.
			h.t.Fatalf("deadline %v stuck at %v in %v", next, h.clk.Now(), h.c.State())
		}
	}
	h.clk.Set(t)
	h.poll()
}

func (h *harness) advance(d clock.Duration) { h.runUntil(h.clk.Now().Add(d)) }

// take returns the next DHCP message the client sent and checks its type.
func (h *harness) take(typ MsgType) sentMsg {
	h.t.Helper()
	if len(h.msgs) == 0 {
		h.t.Fatalf("no %v sent (state %v)", typ, h.c.State())
	}
	m := h.msgs[0]
	h.msgs = h.msgs[1:]
	if m.o.Type != typ {
		h.t.Fatalf("sent %v, want %v", m.o.Type, typ)
	}
	if m.sport != ClientPort || m.dport != ServerPort {
		h.t.Fatalf("ports %d→%d", m.sport, m.dport)
	}
	return m
}

func (h *harness) expectNone() {
	h.t.Helper()
	if len(h.msgs) > 0 {
		h.t.Fatalf("unexpected %v sent at %v", h.msgs[0].o.Type, h.msgs[0].at)
	}
}

func (h *harness) expectState(st State) {
	h.t.Helper()
	if h.c.State() != st {
		h.t.Fatalf("state %v, want %v", h.c.State(), st)
	}
}

func (h *harness) expectEvents(evs ...Event) {
	h.t.Helper()
	if len(h.events) != len(evs) {
		h.t.Fatalf("events %v, want %v", h.events, evs)
	}
	for i := range evs {
		if h.events[i] != evs[i] {
			h.t.Fatalf("events %v, want %v", h.events, evs)
		}
	}
	h.events = h.events[:0]
}

// reply describes a server message.
type reply struct {
	typ        MsgType
	yi         wire.IPv4Addr
	server     wire.IPv4Addr // option 54; zero: serverIP
	lease      uint32        // zero: 3600
	t1, t2     uint32        // sent when non-zero
	noServerID bool
	noLease    bool
	noMask     bool
	xid        uint32 // zero: the request's
	chaddr     wire.MAC
	extra      []byte // raw options appended before the end
}

// build returns the BOOTREPLY for req described by r.
func (r reply) build(req Message) []byte {
	h := Header{Op: OpReply, XID: req.XID(), YIAddr: r.yi, CHAddr: req.CHAddrMAC(), Flags: req.Flags()}
	if r.xid != 0 {
		h.XID = r.xid
	}
	if !r.chaddr.IsZero() {
		h.CHAddr = r.chaddr
	}
	b := h.Encode(make([]byte, MaxLen))
	b = AppendOptionByte(b, OptMsgType, uint8(r.typ))
	srv := r.server
	if srv.IsUnspecified() {
		srv = serverIP
	}
	if !r.noServerID {
		b = AppendOptionAddr(b, OptServerID, srv)
	}
	if r.typ != Nak {
		if !r.noLease {
			lease := r.lease
			if lease == 0 {
				lease = 3600
			}
			b = AppendOptionUint32(b, OptLeaseTime, lease)
		}
		if r.t1 != 0 {
			b = AppendOptionUint32(b, OptT1, r.t1)
		}
		if r.t2 != 0 {
			b = AppendOptionUint32(b, OptT2, r.t2)
		}
		if !r.noMask {
			b = AppendOptionAddr(b, OptSubnetMask, mask24)
		}
		b = AppendOptionAddr(b, OptRouter, serverIP)
		b = AppendOption(b, OptDNS, append(dns1[:4:4], dns2[:]...))
	}
	b = append(b, r.extra...)
	return AppendEnd(b, MinLen)
}

// deliver sends a DHCP payload to the client from srcIP:sport, broadcast or
// unicast to dst (the offered address, as udhcpd does).
func (h *harness) deliver(payload []byte, srcIP wire.IPv4Addr, sport uint16, dst wire.IPv4Addr) {
	ethDst := clientMAC
	if dst.IsBroadcast() {
		ethDst = wire.BroadcastMAC
	}
	h.dev.Inbox = append(h.dev.Inbox, udpFrame(serverMAC, ethDst, srcIP, dst, sport, ClientPort, payload))
}

// answer sends r for the last message as the server at serverIP would:
// broadcast.
func (h *harness) answer(req sentMsg, r reply) {
	h.deliver(r.build(req.m), serverIP, ServerPort, wire.IPv4Broadcast)
	h.poll()
}

func udpFrame(srcMAC, dstMAC wire.MAC, src, dst wire.IPv4Addr, sport, dport uint16, payload []byte) []byte {
	f := make([]byte, wire.EthernetHeaderLen+wire.IPv4MinHeaderLen+wire.UDPHeaderLen+len(payload))
	eh := wire.EthernetHeader{Dst: dstMAC, Src: srcMAC, Type: wire.EtherTypeIPv4}
	eh.Encode(wire.Ethernet(f))
	ip := f[wire.EthernetHeaderLen:]
	ih := wire.IPv4Header{TotalLen: len(ip), TTL: 64, Protocol: wire.ProtoUDP, Src: src, Dst: dst, ID: 1}
	ih.Encode(wire.IPv4(ip))
	u := ip[wire.IPv4MinHeaderLen:]
	uh := wire.UDPHeader{SrcPort: sport, DstPort: dport, Length: len(u)}
	uh.Encode(wire.UDP(u))
	copy(u[wire.UDPHeaderLen:], payload)
	wire.UDP(u).SetChecksum(wire.UDPChecksum(wire.UDP(u), src, dst))
	return f
}

func arpFrame(op wire.ARPOp, sha wire.MAC, spa wire.IPv4Addr, tha wire.MAC, tpa wire.IPv4Addr) []byte {
	f := make([]byte, wire.EthernetHeaderLen+wire.ARPLen)
	dst := tha
	if op == wire.ARPRequest {
		dst = wire.BroadcastMAC
	}
	eh := wire.EthernetHeader{Dst: dst, Src: sha, Type: wire.EtherTypeARP}
	eh.Encode(wire.Ethernet(f))
	ah := wire.ARPHeader{Op: op, SenderMAC: sha, SenderIP: spa, TargetMAC: tha, TargetIP: tpa}
	ah.Encode(wire.ARP(f[wire.EthernetHeaderLen:]))
	return f
}

// bind runs a whole acquisition with the server's default answers and
// returns the ACK's request. The client is left BOUND at time of the ACK
// plus the probe time.
func (h *harness) bind(r reply) sentMsg {
	h.t.Helper()
	if err := h.c.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.poll()
	d := h.take(Discover)
	r.typ, r.yi = Offer, offerIP
	h.answer(d, r)
	req := h.take(Request)
	r.typ = Ack
	h.answer(req, r)
	h.advance(3 * clock.Second) // ARP probes
	h.expectState(Bound)
	h.expectEvents(EventBound)
	return req
}

// checkPool fails if buffers are missing from the stack's pool.
func (h *harness) checkPool() {
	h.t.Helper()
	h.dev.Inbox = nil
	h.poll()
	if p := h.s.Pool(); p.Available() != p.Cap() {
		h.t.Fatalf("pool leak: %d of %d free", p.Available(), p.Cap())
	}
}

func prefix(a wire.IPv4Addr, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4(a), bits)
}

func netifConfig() core.NetifConfig { return core.NetifConfig{} }
