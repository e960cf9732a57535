package dns

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/script"
)

// The test network: the resolver's host at 10.0.0.2, two servers, and one
// MAC for every neighbour.
var (
	hostMAC  = wire.MAC{0x02, 0, 0, 0, 0, 0x02}
	peerMAC  = wire.MAC{0x02, 0, 0, 0, 0, 0xfe}
	hostIP   = wire.IPv4Addr{10, 0, 0, 2}
	server1  = wire.IPv4Addr{10, 0, 0, 53}
	server2  = wire.IPv4Addr{10, 0, 0, 54}
	stranger = wire.IPv4Addr{10, 0, 0, 66}
)

// sentQuery is one datagram the resolver sent.
type sentQuery struct {
	at    clock.Time
	dst   wire.IPv4Addr
	sport uint16
	dport uint16
	msg   Message
}

// result is one FoundFunc call.
type result struct {
	at   clock.Time
	name string
	addr netip.Addr
	err  error
}

type harness struct {
	t       testing.TB
	clk     clock.Manual
	s       *core.Stack
	n       *netif.Netif
	dev     *script.Device
	r       *Resolver
	queries []sentQuery
	results []result
}

func newHarness(t testing.TB, cfg Config) *harness {
	h := &harness{t: t, dev: &script.Device{MAC: hostMAC}}
	h.s = core.New(core.Config{Seed: 11, PoolBufs: 64})
	var err error
	h.n, err = h.s.AddNetif(h.dev, core.NetifConfig{Addr: netip.MustParsePrefix("10.0.0.2/24")})
	if err != nil {
		t.Fatal(err)
	}
	h.s.SetUp(h.n)
	if h.r, err = New(h.s, cfg); err != nil {
		t.Fatal(err)
	}
	h.r.SetServer(0, netip.AddrFrom4(server1))
	h.r.SetServer(1, netip.AddrFrom4(server2))
	h.poll()
	return h
}

// found is the FoundFunc the tests pass: it records.
func (h *harness) found(name string, addr netip.Addr, err error) {
	h.results = append(h.results, result{h.clk.Now(), name, addr, err})
}

func (h *harness) poll() clock.Time {
	next := h.s.Poll(h.clk.Now())
	h.collect()
	return next
}

// collect answers ARP requests and records UDP datagrams.
func (h *harness) collect() {
	for _, f := range h.dev.Sent {
		eth, _ := wire.ParseEthernet(f)
		switch eth.Type() {
		case wire.EtherTypeARP:
			a, _ := wire.ParseARP(eth.Payload())
			if a.Op() == wire.ARPRequest && a.TargetIP() != hostIP && !a.SenderIP().IsUnspecified() {
				h.dev.Inbox = append(h.dev.Inbox, arpReply(a.TargetIP()))
			}
		case wire.EtherTypeIPv4:
			ip, err := wire.ParseIPv4(eth.Payload())
			if err != nil || ip.Protocol() != wire.ProtoUDP {
				continue
			}
			u, err := wire.ParseUDP(ip.Payload())
			if err != nil || !u.IsChecksumValid(ip.Src(), ip.Dst()) {
				h.t.Fatalf("bad UDP %x", f)
			}
			h.queries = append(h.queries, sentQuery{h.clk.Now(), ip.Dst(), u.SrcPort(), u.DstPort(), Message(u.Payload())})
		}
	}
	h.dev.Sent = h.dev.Sent[:0]
}

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
			h.t.Fatalf("deadline %v stuck at %v", next, h.clk.Now())
		}
	}
	h.clk.Set(t)
	h.poll()
}

func (h *harness) advance(d clock.Duration) { h.runUntil(h.clk.Now().Add(d)) }

// take returns the next query sent.
func (h *harness) take() sentQuery {
	h.t.Helper()
	if len(h.queries) == 0 {
		h.t.Fatalf("no query sent")
	}
	q := h.queries[0]
	h.queries = h.queries[1:]
	if q.dport != Port {
		h.t.Fatalf("query to port %d", q.dport)
	}
	return q
}

func (h *harness) expectNoQuery() {
	h.t.Helper()
	if len(h.queries) > 0 {
		h.t.Fatalf("unexpected query to %v", h.queries[0].dst)
	}
}

// lookup calls GetHostByName and expects ErrInProgress.
func (h *harness) lookup(name string) {
	h.t.Helper()
	if _, err := h.r.GetHostByName(name, h.found); err != errInProgress {
		h.t.Fatalf("GetHostByName(%q): %v", name, err)
	}
	h.advance(0) // ARP for the server, if need be
}

// expectResult checks the next FoundFunc call.
func (h *harness) expectResult(name string, addr string, err error) result {
	h.t.Helper()
	if len(h.results) == 0 {
		h.t.Fatalf("no result for %q", name)
	}
	r := h.results[0]
	h.results = h.results[1:]
	var want netip.Addr
	if addr != "" {
		want = netip.MustParseAddr(addr)
	}
	if r.name != name || r.addr != want || r.err != err {
		h.t.Fatalf("result %q %v %v, want %q %v %v", r.name, r.addr, r.err, name, want, err)
	}
	return r
}

func (h *harness) expectNoResult() {
	h.t.Helper()
	if len(h.results) > 0 {
		h.t.Fatalf("unexpected result %+v", h.results[0])
	}
}

// reply sends payload to the query's port from src:sport.
func (h *harness) reply(q sentQuery, src wire.IPv4Addr, sport uint16, payload []byte) {
	h.dev.Inbox = append(h.dev.Inbox, udpFrame(src, hostIP, sport, q.sport, payload))
	h.poll()
}

// answer sends the server's reply to q.
func (h *harness) answer(q sentQuery, payload []byte) { h.reply(q, q.dst, Port, payload) }

func arpReply(ip wire.IPv4Addr) []byte {
	f := make([]byte, wire.EthernetHeaderLen+wire.ARPLen)
	eh := wire.EthernetHeader{Dst: hostMAC, Src: peerMAC, Type: wire.EtherTypeARP}
	eh.Encode(wire.Ethernet(f))
	ah := wire.ARPHeader{Op: wire.ARPReply, SenderMAC: peerMAC, SenderIP: ip, TargetMAC: hostMAC, TargetIP: hostIP}
	ah.Encode(wire.ARP(f[wire.EthernetHeaderLen:]))
	return f
}

func udpFrame(src, dst wire.IPv4Addr, sport, dport uint16, payload []byte) []byte {
	f := make([]byte, wire.EthernetHeaderLen+wire.IPv4MinHeaderLen+wire.UDPHeaderLen+len(payload))
	eh := wire.EthernetHeader{Dst: hostMAC, Src: peerMAC, Type: wire.EtherTypeIPv4}
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

// rec is a record for resp: owner name (dotted, or "@" for a pointer to the
// question, "@N" for a pointer to offset N), type, TTL and data (for
// CNAME, a dotted name written uncompressed).
type rec struct {
	name  string
	typ   uint16
	ttl   uint32
	data  []byte
	cname string
}

// resp builds a response to query q with the given flags (QR is added),
// echoing its question, with the records in the answer section.
func resp(q Message, flags uint16, recs ...rec) []byte {
	var qs Question
	end, err := ReadQuestion(q, HeaderLen, nil, &qs)
	if err != nil {
		panic(err)
	}
	h := Header{ID: q.ID(), Flags: FlagQR | FlagRD | FlagRA | flags, QDCount: 1, ANCount: uint16(len(recs))}
	b := h.Append(nil)
	b = append(b, q[HeaderLen:end]...)
	for _, r := range recs {
		b = appendOwner(b, r.name)
		b = binary.BigEndian.AppendUint16(b, r.typ)
		b = binary.BigEndian.AppendUint16(b, ClassIN)
		b = binary.BigEndian.AppendUint32(b, r.ttl)
		data := r.data
		if r.cname != "" {
			data, _ = AppendName(nil, r.cname)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
		b = append(b, data...)
	}
	return b
}

func appendOwner(b []byte, name string) []byte {
	if name == "@" {
		return append(b, 0xc0, HeaderLen)
	}
	if n, ok := strings.CutPrefix(name, "@"); ok {
		off := 0
		for _, c := range n {
			off = off*10 + int(c-'0')
		}
		return append(b, 0xc0|byte(off>>8), byte(off))
	}
	b, err := AppendName(b, name)
	if err != nil {
		panic(err)
	}
	return b
}

func a4(s string) []byte {
	a := netip.MustParseAddr(s).As4()
	return a[:]
}

// unhex decodes hex with spaces and newlines.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h *harness) checkPool() {
	h.t.Helper()
	h.dev.Inbox = nil
	h.poll()
	if p := h.s.Pool(); p.Available() != p.Cap() {
		h.t.Fatalf("pool leak: %d of %d free", p.Available(), p.Cap())
	}
}

const errInProgress = errs.ErrInProgress
