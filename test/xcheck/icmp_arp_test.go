package xcheck

import (
	"bytes"
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/wire"
)

// echoReply is one echo reply delivered to an lwgo Ping endpoint.
type echoReply struct {
	from netip.Addr
	seq  uint16
	ttl  uint8
	data []byte
}

// lwPinger opens an lwgo echo endpoint that records its replies.
func (p *pair) lwPinger() (core.Ping, *[]echoReply) {
	p.t.Helper()
	var got []echoReply
	ping, err := p.lw.NewPing(func(_ core.Ping, from netip.Addr, seq uint16, ttl uint8, data []byte) {
		got = append(got, echoReply{from, seq, ttl, bytes.Clone(data)})
	})
	if err != nil {
		p.t.Fatalf("lwgo NewPing: %v", err)
	}
	return ping, &got
}

// lwPing sends one echo request from lwgo to gVisor and waits for its reply,
// checking sequence number, source and payload.
func (p *pair) lwPing(ping core.Ping, got *[]echoReply, seq uint16, payload []byte) {
	p.t.Helper()
	before := len(*got)
	if err := ping.Send(gvAddr, seq, payload); err != nil {
		p.t.Fatalf("lwgo Ping.Send(seq %d, %d bytes): %v", seq, len(payload), err)
	}
	p.runUntil("echo reply from gVisor", func() bool { return len(*got) > before })
	p.settle()
	if len(*got) != before+1 {
		p.t.Fatalf("lwgo got %d echo replies to one request, want 1", len(*got)-before)
	}
	r := (*got)[before]
	if r.from != gvAddr || r.seq != seq {
		p.t.Fatalf("echo reply from %v seq %d, want from %v seq %d", r.from, r.seq, gvAddr, seq)
	}
	if !bytes.Equal(r.data, payload) {
		p.t.Fatalf("echo reply seq %d payload differs from the request's: %s (RFC 1122 3.2.2.6)", seq, firstDiff(r.data, payload))
	}
	if r.ttl == 0 {
		p.t.Fatalf("echo reply with TTL 0")
	}
}

// gvPing sends one echo request from a gVisor ping socket to lwgo and waits
// for the reply, checking type, code, identifier, sequence number and payload.
func (p *pair) gvPing(e *gvEndpoint, seq uint16, payload []byte) {
	p.t.Helper()
	msg := make([]byte, header.ICMPv4MinimumSize+len(payload))
	h := header.ICMPv4(msg)
	h.SetType(header.ICMPv4Echo)
	h.SetSequence(seq) // gVisor fills in the identifier and the checksum
	copy(msg[header.ICMPv4MinimumSize:], payload)
	if err := e.write(msg, &tcpip.FullAddress{NIC: gvNIC, Addr: gvAddrOf(lwAddr)}); err != nil {
		p.t.Fatalf("gVisor ping socket write (seq %d, %d bytes): %v", seq, len(payload), err)
	}
	var reply []byte
	var from tcpip.FullAddress
	p.runUntil("echo reply from lwgo", func() bool {
		data, f, err := e.read()
		if err != nil {
			if _, ok := err.(*tcpip.ErrWouldBlock); !ok {
				p.t.Fatalf("gVisor ping socket read: %v", err)
			}
			return false
		}
		reply, from = data, f
		return true
	})
	if from.Addr != gvAddrOf(lwAddr) {
		p.t.Fatalf("echo reply from %v, want %v (RFC 1122 3.2.2.6: reply source is the request's destination)", from.Addr, lwAddr)
	}
	r := header.ICMPv4(reply)
	if len(r) < header.ICMPv4MinimumSize {
		p.t.Fatalf("echo reply of %d bytes", len(r))
	}
	local, err := e.ep.GetLocalAddress()
	if err != nil {
		p.t.Fatalf("gVisor ping socket GetLocalAddress: %v", err)
	}
	if r.Type() != header.ICMPv4EchoReply || r.Code() != 0 || r.Sequence() != seq || r.Ident() != local.Port {
		p.t.Fatalf("echo reply type %d code %d id %d seq %d, want type 0 code 0 id %d seq %d",
			r.Type(), r.Code(), r.Ident(), r.Sequence(), local.Port, seq)
	}
	if got := reply[header.ICMPv4MinimumSize:]; !bytes.Equal(got, payload) {
		p.t.Fatalf("echo reply seq %d payload differs from the request's: %s (RFC 1122 3.2.2.6)", seq, firstDiff(got, payload))
	}
}

// TestRFC826_LwgoResolvesGVisorMAC: lwgo, pinging an unresolved neighbour,
// sends one ARP request, learns gVisor's MAC from the reply and sends the
// queued echo request; gVisor learns lwgo's MAC from the request's sender
// fields (RFC 826 merge).
func TestRFC826_LwgoResolvesGVisorMAC(t *testing.T) {
	p := newPair(t)
	if mac, ok := p.lw.LookupARP(p.n, gvAddr); ok {
		t.Fatalf("lwgo already has %v -> %v before any traffic", gvAddr, mac)
	}
	before := p.lw.Stats()
	ping, got := p.lwPinger()
	p.lwPing(ping, got, 1, pattern(56, 1))

	mac, ok := p.lw.LookupARP(p.n, gvAddr)
	if !ok || mac != wire.MAC([]byte(gvMAC)) {
		t.Fatalf("lwgo ARP cache: %v -> %v (resolved %v), want %x", gvAddr, mac, ok, []byte(gvMAC))
	}
	after := p.lw.Stats()
	if d := after.ARPEx.Requests - before.ARPEx.Requests; d != 1 {
		t.Fatalf("lwgo sent %d ARP requests to resolve one neighbour on a lossless link, want 1", d)
	}
	if n := p.gv.Stats().ARP.RequestsReceived.Value(); n == 0 {
		t.Fatalf("gVisor counted no ARP request received")
	}
	e, ok := p.gvNeighbor(lwAddr)
	if !ok || e.LinkAddr != tcpip.LinkAddress(lwMAC[:]) {
		t.Fatalf("gVisor neighbour entry for %v: %+v (present %v), want MAC %v", lwAddr, e, ok, lwMAC)
	}
}

// TestRFC826_GVisorResolvesLwgoMAC: gVisor pings lwgo first; lwgo answers
// gVisor's ARP request, learns gVisor's MAC from it (so it needs no request
// of its own) and answers the echo.
func TestRFC826_GVisorResolvesLwgoMAC(t *testing.T) {
	p := newPair(t)
	if e, ok := p.gvNeighbor(lwAddr); ok && e.State != stack.Stale {
		// lwgo's gratuitous ARP at SetUp may at most leave a stale entry.
		t.Fatalf("gVisor neighbour entry for %v before any traffic: %+v", lwAddr, e)
	}
	before := p.lw.Stats()
	e := p.newGVEndpoint(icmp.ProtocolNumber4)
	p.gvPing(e, 1, pattern(56, 2))

	n, ok := p.gvNeighbor(lwAddr)
	if !ok || n.LinkAddr != tcpip.LinkAddress(lwMAC[:]) {
		t.Fatalf("gVisor neighbour entry for %v: %+v (present %v), want MAC %v", lwAddr, n, ok, lwMAC)
	}
	if n.State != stack.Reachable {
		t.Fatalf("gVisor neighbour entry for %v in state %v, want Reachable (confirmed by lwgo's ARP reply)", lwAddr, n.State)
	}
	after := p.lw.Stats()
	if d := after.ARPEx.Replies - before.ARPEx.Replies; d != 1 {
		t.Fatalf("lwgo sent %d ARP replies, want 1", d)
	}
	if d := after.ARPEx.Requests - before.ARPEx.Requests; d != 0 {
		t.Fatalf("lwgo sent %d ARP requests; it should have learnt gVisor's MAC from gVisor's request (RFC 826 merge)", d)
	}
	if mac, ok := p.lw.LookupARP(p.n, gvAddr); !ok || mac != wire.MAC([]byte(gvMAC)) {
		t.Fatalf("lwgo ARP cache: %v -> %v (resolved %v), want %x", gvAddr, mac, ok, []byte(gvMAC))
	}
	if d := after.ICMPEx.EchoReplies - before.ICMPEx.EchoReplies; d != 1 {
		t.Fatalf("lwgo sent %d echo replies, want 1", d)
	}
}

// TestRFC1122_3_2_2_6_LwgoPingsGVisor: echo requests from lwgo, small and
// fragmented (4000 bytes over MTU 1500: three fragments each way), come back
// with their sequence numbers and payloads intact.
func TestRFC1122_3_2_2_6_LwgoPingsGVisor(t *testing.T) {
	for _, tc := range []struct {
		size      int
		fragments uint64 // per datagram, each way
	}{
		{56, 0},
		{57, 0},   // odd: checksum over an odd-length payload
		{1472, 0}, // the largest unfragmented echo
		{1473, 2},
		{4000, 3},
		{65507, 45}, // the largest datagram: 65535 bytes
	} {
		t.Run(sizeName(tc.size), func(t *testing.T) {
			p := newPair(t)
			p.warmARP() // the fresh-neighbour path is TestRFC826_LwgoResolvesGVisorMAC's
			ping, got := p.lwPinger()
			before := p.lw.Stats()
			gvBefore := p.gv.Stats().ICMP.V4.PacketsSent.EchoReply.Value()
			const count = 3
			for seq := uint16(1); seq <= count; seq++ {
				p.lwPing(ping, got, seq, pattern(tc.size, byte(seq)))
			}
			after := p.lw.Stats()
			if d := after.IPFrag.Xmit - before.IPFrag.Xmit; d != count*tc.fragments {
				t.Fatalf("lwgo sent %d fragments for %d echo requests of %d bytes, want %d", d, count, tc.size, count*tc.fragments)
			}
			if d := after.IPFrag.Recv - before.IPFrag.Recv; d != count*tc.fragments {
				t.Fatalf("lwgo received %d fragments in %d echo replies of %d bytes, want %d", d, count, tc.size, count*tc.fragments)
			}
			if n := p.gv.Stats().ICMP.V4.PacketsSent.EchoReply.Value() - gvBefore; n != count {
				t.Fatalf("gVisor sent %d echo replies, want %d", n, count)
			}
		})
	}
}

// TestRFC1122_3_2_2_6_GVisorPingsLwgo: echo requests from a gVisor ping
// socket, small and fragmented (8000 bytes: six fragments each way), are
// reassembled by lwgo, answered with the full data from the address they
// were sent to, fragmented again, and reassembled by gVisor.
func TestRFC1122_3_2_2_6_GVisorPingsLwgo(t *testing.T) {
	for _, tc := range []struct {
		size      int
		fragments uint64
	}{
		{56, 0},
		{57, 0},
		{1473, 2},
		{8000, 6},
		{8001, 6},
		{65507, 45},
	} {
		t.Run(sizeName(tc.size), func(t *testing.T) {
			p := newPair(t)
			e := p.newGVEndpoint(icmp.ProtocolNumber4)
			before := p.lw.Stats()
			const count = 3
			for seq := uint16(1); seq <= count; seq++ {
				p.gvPing(e, seq, pattern(tc.size, byte(seq)))
			}
			p.settle()
			after := p.lw.Stats()
			if d := after.ICMPEx.EchoReplies - before.ICMPEx.EchoReplies; d != count {
				t.Fatalf("lwgo sent %d echo replies, want %d", d, count)
			}
			if d := after.IPFrag.Recv - before.IPFrag.Recv; d != count*tc.fragments {
				t.Fatalf("lwgo received %d fragments, want %d", d, count*tc.fragments)
			}
			if d := after.IPFrag.Xmit - before.IPFrag.Xmit; d != count*tc.fragments {
				t.Fatalf("lwgo sent %d fragments, want %d", d, count*tc.fragments)
			}
		})
	}
}
