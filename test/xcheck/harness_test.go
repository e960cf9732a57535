package xcheck

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/faketime"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// The link: lwgo at .1, gVisor at .2 of 198.18.0.0/24 (RFC 2544 benchmarking
// space), both with locally administered MACs, Ethernet MTU.
var (
	lwMAC  = wire.MAC{0x02, 0x00, 0x5e, 0x00, 0x00, 0x01}
	gvMAC  = tcpip.LinkAddress([]byte{0x02, 0x00, 0x5e, 0x00, 0x00, 0x02})
	lwAddr = netip.MustParseAddr("198.18.0.1")
	gvAddr = netip.MustParseAddr("198.18.0.2")
)

const (
	prefixLen = 24
	lwTTL     = 64 // core.Config.TTL default
	linkMTU   = 1500
	ethHdr    = header.EthernetMinimumSize // 14
	minFrame  = 60                         // Ethernet minimum without FCS
	gvNIC     = tcpip.NICID(1)
	// gvQueue is the depth of gVisor's transmit channel. A full channel
	// drops (counted in gVisor's NIC stats, which finish checks).
	gvQueue = 4096

	idleTick   = clock.Millisecond // virtual time added when the link is idle
	maxVirtual = 10 * clock.Second // virtual time a runUntil may take
	maxWall    = 20 * time.Second  // wall time a whole test may take (race detector included)
)

func gvAddrOf(a netip.Addr) tcpip.Address { return tcpip.AddrFrom4(a.As4()) }

// pair is one lwgo Stack and one gVisor stack joined by an in-memory
// Ethernet link. Everything runs on the test goroutine except the callbacks
// gVisor's fake clock runs on goroutines of its own, which never touch lwgo
// and are waited for (ManualClock.Advance) before each lwgo Poll.
type pair struct {
	t   testing.TB
	ctx context.Context

	lw  *core.Stack
	n   *netif.Netif
	clk clock.Manual

	gv   *stack.Stack
	gclk *faketime.ManualClock
	ch   *channel.Endpoint
	dev  *gvLink

	// hooks run after every lwgo Poll: gVisor-side servers and readers.
	hooks []func()
	// closers run at the end, before the stacks are torn down.
	closers []func()
}

// newPair builds both stacks and brings the link up. lwgo's SetUp sends its
// gratuitous ARP announcement into gVisor at once.
func newPair(t testing.TB) *pair {
	t.Helper()
	return newPairConfig(t, core.Config{Seed: 1})
}

// newPairConfig is newPair with lwgo's configuration given.
func newPairConfig(t testing.TB, cfg core.Config) *pair {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), maxWall)
	p := &pair{t: t, ctx: ctx}

	p.gclk = faketime.NewManualClock()
	p.ch = channel.New(gvQueue, linkMTU+ethHdr, gvMAC)
	p.gv = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol, icmp.NewProtocol4},
		Clock:              p.gclk,
	})
	t.Cleanup(func() { // runs last: after finish, registered below
		for _, f := range p.closers {
			f()
		}
		p.gclk.Advance(0)
		p.ch.Close()
		p.gv.Close()
		p.gv.Wait()
		cancel()
	})
	if err := p.gv.CreateNIC(gvNIC, ethernet.New(p.ch)); err != nil {
		t.Fatalf("gVisor CreateNIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: gvAddrOf(gvAddr), PrefixLen: prefixLen},
	}
	if err := p.gv.AddProtocolAddress(gvNIC, pa, stack.AddressProperties{}); err != nil {
		t.Fatalf("gVisor AddProtocolAddress: %v", err)
	}
	p.gv.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: gvNIC}})

	p.dev = &gvLink{t: t, ch: p.ch, mac: lwMAC, mtu: linkMTU}
	p.lw = core.New(cfg)
	n, err := p.lw.AddNetif(p.dev, core.NetifConfig{Name: "xc0", Addr: netip.PrefixFrom(lwAddr, prefixLen)})
	if err != nil {
		t.Fatalf("lwgo AddNetif: %v", err)
	}
	p.n = n
	p.lw.SetUp(n)

	t.Cleanup(p.finish)
	p.step()
	return p
}

// advance moves both virtual clocks forward by d, running due gVisor timers.
func (p *pair) advance(d clock.Duration) {
	p.clk.Advance(d)
	p.gclk.Advance(time.Duration(d))
}

// step runs one round: gVisor's immediately scheduled timers (ARP sends,
// queued packets released by a resolution), one lwgo Poll (which receives
// gVisor's frames and, through Transmit, injects lwgo's into gVisor), and the
// hooks. It reports whether anything moved on the link or is waiting to.
func (p *pair) step() bool {
	p.gclk.Advance(0)
	before := p.dev.moved
	p.lw.Poll(p.clk.Now())
	for _, h := range p.hooks {
		h()
	}
	p.gclk.Advance(0)
	// Frames gVisor queued are work for the next step, unless lwgo has no
	// buffer to take them in: then only time (lwgo's timers) can help.
	return p.dev.moved != before || (p.ch.NumQueued() > 0 && p.lw.Pool().Available() > 0)
}

// runUntil steps until cond holds, adding virtual time only while the link
// is idle. It fails the test after maxVirtual of virtual time or when the
// wall-clock deadline passes, so a missing packet never hangs the test.
func (p *pair) runUntil(what string, cond func() bool) {
	p.t.Helper()
	limit := p.clk.Now().Add(maxVirtual)
	for !cond() {
		if p.ctx.Err() != nil {
			p.t.Fatalf("%s: wall-clock deadline (%v) passed\n%s", what, maxWall, p.dump())
		}
		if p.step() {
			continue
		}
		if cond() {
			return
		}
		if p.clk.Now() >= limit {
			p.t.Fatalf("%s: not done after %v of virtual time\n%s", what, time.Duration(maxVirtual), p.dump())
		}
		p.advance(idleTick)
	}
}

// settle steps until the link is idle, without advancing time.
func (p *pair) settle() {
	for range 10000 {
		if !p.step() {
			return
		}
	}
	p.t.Errorf("link never went idle\n%s", p.dump())
}

// finish checks, after every test that did not already fail, that neither
// stack saw anything malformed and that lwgo's packet pool is full again.
func (p *pair) finish() {
	if p.t.Failed() {
		p.t.Logf("state at failure:\n%s", p.dump())
		return
	}
	p.settle()
	gs := p.gv.Stats()
	for _, c := range []struct {
		name string
		v    uint64
	}{
		{"gVisor IP.MalformedPacketsReceived", gs.IP.MalformedPacketsReceived.Value()},
		{"gVisor IP.MalformedFragmentsReceived", gs.IP.MalformedFragmentsReceived.Value()},
		{"gVisor IP.InvalidSourceAddressesReceived", gs.IP.InvalidSourceAddressesReceived.Value()},
		{"gVisor IP.InvalidDestinationAddressesReceived", gs.IP.InvalidDestinationAddressesReceived.Value()},
		{"gVisor IP.OutgoingPacketErrors", gs.IP.OutgoingPacketErrors.Value()},
		{"gVisor ICMP.V4.PacketsReceived.Invalid", gs.ICMP.V4.PacketsReceived.Invalid.Value()},
		{"gVisor UDP.ChecksumErrors", gs.UDP.ChecksumErrors.Value()},
		{"gVisor UDP.MalformedPacketsReceived", gs.UDP.MalformedPacketsReceived.Value()},
		{"gVisor UDP.ReceiveBufferErrors", gs.UDP.ReceiveBufferErrors.Value()},
		{"gVisor NICs.TxPacketsDroppedNoBufferSpace", gs.NICs.TxPacketsDroppedNoBufferSpace.Value()},
		{"gVisor ARP.MalformedPacketsReceived", gs.ARP.MalformedPacketsReceived.Value()},
	} {
		if c.v != 0 {
			p.t.Errorf("%s = %d, want 0", c.name, c.v)
		}
	}
	ls := p.lw.Stats()
	for _, c := range []struct {
		name string
		v    uint64
	}{
		{"lwgo IP.ChkErr", ls.IP.ChkErr},
		{"lwgo IP.LenErr", ls.IP.LenErr},
		{"lwgo ICMP.ChkErr", ls.ICMP.ChkErr},
		{"lwgo UDP.ChkErr", ls.UDP.ChkErr},
		{"lwgo UDP.LenErr", ls.UDP.LenErr},
		{"lwgo ARP.LenErr", ls.ARP.LenErr},
		{"lwgo IPDrop.ReassOverlap", ls.IPDrop.ReassOverlap},
		{"lwgo IPDrop.ReassTimeout", ls.IPDrop.ReassTimeout},
		{"lwgo IPDrop.ReassNoBuf", ls.IPDrop.ReassNoBuf},
		{"lwgo IPDrop.FragNoBuf", ls.IPDrop.FragNoBuf},
		{"lwgo PoolOut", ls.PoolOut},
		{"device oversize frames", uint64(p.dev.oversize)},
	} {
		if c.v != 0 {
			p.t.Errorf("%s = %d, want 0", c.name, c.v)
		}
	}
	if pl := p.lw.Pool(); pl.Available() != pl.Cap() {
		p.t.Errorf("lwgo pool: %d of %d buffers free after the link went idle (leak)", pl.Available(), pl.Cap())
	}
}

// dump describes both stacks for failure messages.
func (p *pair) dump() string {
	var b strings.Builder
	st := p.lw.Stats()
	fmt.Fprintf(&b, "lwgo at virtual %v, pool %d/%d free, device tx=%d rx=%d stalls=%d, gVisor queue %d\n",
		time.Duration(p.clk.Now()), p.lw.Pool().Available(), p.lw.Pool().Cap(),
		p.dev.tx, p.dev.rx, p.dev.stalls, p.ch.NumQueued())
	b.WriteString(st.String())
	gs := p.gv.Stats()
	fmt.Fprintf(&b, "gVisor: ip rx=%d delivered=%d sent=%d malformed=%d fragmalformed=%d; "+
		"icmp echo-req rx=%d echo-rep rx=%d unreach rx=%d unreach tx=%d; udp rx=%d tx=%d unknownport=%d rcvbuf=%d chk=%d; "+
		"arp req rx=%d rep rx=%d req tx=%d rep tx=%d\n",
		gs.IP.PacketsReceived.Value(), gs.IP.PacketsDelivered.Value(), gs.IP.PacketsSent.Value(),
		gs.IP.MalformedPacketsReceived.Value(), gs.IP.MalformedFragmentsReceived.Value(),
		gs.ICMP.V4.PacketsReceived.EchoRequest.Value(), gs.ICMP.V4.PacketsReceived.EchoReply.Value(),
		gs.ICMP.V4.PacketsReceived.DstUnreachable.Value(), gs.ICMP.V4.PacketsSent.DstUnreachable.Value(),
		gs.UDP.PacketsReceived.Value(), gs.UDP.PacketsSent.Value(), gs.UDP.UnknownPortErrors.Value(),
		gs.UDP.ReceiveBufferErrors.Value(), gs.UDP.ChecksumErrors.Value(),
		gs.ARP.RequestsReceived.Value(), gs.ARP.RepliesReceived.Value(), gs.ARP.OutgoingRequestsSent.Value(), gs.ARP.OutgoingRepliesSent.Value())
	return b.String()
}

// gvNeighbor returns gVisor's neighbour entry for a, if any.
func (p *pair) gvNeighbor(a netip.Addr) (stack.NeighborEntry, bool) {
	ns, err := p.gv.Neighbors(gvNIC, ipv4.ProtocolNumber)
	if err != nil {
		p.t.Fatalf("gVisor Neighbors: %v", err)
	}
	for _, e := range ns {
		if e.Addr == gvAddrOf(a) {
			return e, true
		}
	}
	return stack.NeighborEntry{}, false
}

// gvLink is lwgo's netif.Device for the link: Transmit copies each frame
// into a gVisor PacketBuffer and injects it below gVisor's Ethernet layer;
// Receive copies the frames gVisor queued on its channel endpoint into Bufs
// of lwgo's pool. Like the wire, it pads short frames to 60 bytes in both
// directions, so each stack must trim by the IP total length. It checks
// every frame lwgo sends with gVisor's header package (an independent
// decoder) and reports violations as test errors.
type gvLink struct {
	t   testing.TB
	ch  *channel.Endpoint
	mac wire.MAC
	mtu int

	moved    int // frames moved in either direction
	tx, rx   int // frames lwgo sent, frames lwgo received
	stalls   int // Receive calls cut short by an empty pool (frames stay queued)
	oversize int // frames larger than the MTU allows, either direction

	// drop, if set, may discard a frame lwgo sent before gVisor sees it.
	drop func(frame []byte) bool

	// Fragment identification (RFC 791, RFC 6864 §4.1: the ID of a
	// fragmented datagram must not repeat for the same source, destination
	// and protocol within the MSL, far longer than any test).
	fragID   map[uint32]int // protocol<<16 | ID → bytes of the datagram seen so far
	fragDone map[uint32]bool
}

// checkFragmentID checks that the fragments lwgo sends of one datagram
// share an ID that no earlier fragmented datagram used.
func (d *gvLink) checkFragmentID(ip header.IPv4) {
	if d.fragID == nil {
		d.fragID, d.fragDone = map[uint32]int{}, map[uint32]bool{}
	}
	key := uint32(ip.Protocol())<<16 | uint32(ip.ID())
	if d.fragDone[key] {
		d.t.Errorf("lwgo reused IP ID %d (protocol %d) for a second fragmented datagram (RFC 6864 4.1)", ip.ID(), ip.Protocol())
		delete(d.fragDone, key)
	}
	if next, ok := d.fragID[key]; ip.FragmentOffset() != 0 && (!ok || next != int(ip.FragmentOffset())) {
		d.t.Errorf("lwgo sent a fragment of datagram ID %d at offset %d after %d bytes of it (fragments lost before the wire, reordered, or IDs mixed)",
			ip.ID(), ip.FragmentOffset(), next)
	}
	d.fragID[key] = int(ip.FragmentOffset()) + len(ip.Payload())
	if !ip.More() {
		d.fragDone[key] = true
		delete(d.fragID, key)
	}
}

var _ netif.Device = (*gvLink)(nil)

func (d *gvLink) HardwareAddr() wire.MAC { return d.mac }
func (d *gvLink) MTU() int               { return d.mtu }
func (d *gvLink) Caps() netif.Caps       { return netif.Caps{} }
func (d *gvLink) LinkUp() bool           { return true }

func (d *gvLink) Transmit(frames []*pbuf.Buf) int {
	for _, b := range frames {
		f := b.Bytes()
		d.moved++
		d.tx++
		if len(f) > ethHdr+d.mtu {
			d.oversize++
			d.t.Errorf("lwgo sent a %d-byte frame on a link with MTU %d", len(f), d.mtu)
			b.Free()
			continue
		}
		d.validate(f)
		if d.drop != nil && d.drop(f) {
			b.Free()
			continue
		}
		frame := make([]byte, max(len(f), minFrame))
		copy(frame, f)
		b.Free()
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
		d.ch.InjectInbound(0, pkt) // link/ethernet takes the protocol from the frame
		pkt.DecRef()
	}
	return len(frames)
}

func (d *gvLink) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	for n < len(dst) {
		if pool.Available() == 0 {
			d.stalls++ // like a NIC without free descriptors: frames wait
			break
		}
		pkt := d.ch.Read()
		if pkt == nil {
			break
		}
		size := pkt.Size()
		if size > ethHdr+d.mtu {
			d.oversize++
			d.t.Errorf("gVisor sent a %d-byte frame on a link with MTU %d", size, d.mtu)
			pkt.DecRef()
			continue
		}
		b, err := pool.Alloc(pbuf.LayerRaw, max(size, minFrame))
		if err != nil {
			d.t.Errorf("lwgo pool refused a %d-byte frame: %v", size, err)
			pkt.DecRef()
			break
		}
		m := b.Bytes()
		off := 0
		for _, s := range pkt.AsSlices() {
			off += copy(m[off:], s)
		}
		clear(m[off:]) // padding
		pkt.DecRef()
		if off != size {
			d.t.Errorf("copied %d bytes of a %d-byte gVisor frame", off, size)
		}
		dst[n] = b
		n++
		d.moved++
		d.rx++
	}
	return n
}

// validate checks one frame lwgo sent, decoding it with gVisor's header
// package.
func (d *gvLink) validate(f []byte) {
	t := d.t
	if len(f) < ethHdr {
		t.Errorf("lwgo sent a runt frame of %d bytes", len(f))
		return
	}
	eth := header.Ethernet(f)
	if eth.SourceAddress() != tcpip.LinkAddress(d.mac[:]) {
		t.Errorf("lwgo frame from MAC %v, want %v", eth.SourceAddress(), d.mac)
	}
	switch eth.Type() {
	case header.ARPProtocolNumber:
		a := header.ARP(f[ethHdr:])
		if !a.IsValid() {
			t.Errorf("lwgo sent an invalid ARP packet % x", f)
			return
		}
		if !bytes.Equal(a.HardwareAddressSender(), d.mac[:]) || !bytes.Equal(a.ProtocolAddressSender(), lwAddr.AsSlice()) {
			t.Errorf("lwgo ARP sender %x/%v, want %v/%v", a.HardwareAddressSender(), a.ProtocolAddressSender(), d.mac, lwAddr)
		}
		if a.Op() == header.ARPReply && !bytes.Equal([]byte(eth.DestinationAddress()), a.HardwareAddressTarget()) {
			t.Errorf("lwgo ARP reply to %v with target %x", eth.DestinationAddress(), a.HardwareAddressTarget())
		}
	case header.IPv4ProtocolNumber:
		ip := header.IPv4(f[ethHdr:])
		if !ip.IsValid(len(ip)) || !ip.IsChecksumValid() {
			t.Errorf("lwgo sent an invalid IPv4 datagram (valid=%v checksum=%v): % x", ip.IsValid(len(ip)), ip.IsChecksumValid(), f[:min(len(f), 64)])
			return
		}
		if int(ip.TotalLength()) != len(ip) {
			t.Errorf("lwgo IPv4 total length %d in a frame carrying %d bytes", ip.TotalLength(), len(ip))
		}
		if ip.SourceAddress() != gvAddrOf(lwAddr) {
			t.Errorf("lwgo IPv4 source %v, want %v (RFC 1122 3.2.1.3)", ip.SourceAddress(), lwAddr)
		}
		if ip.TTL() != lwTTL {
			t.Errorf("lwgo sent TTL %d, want the default %d (RFC 1122 3.2.1.7)", ip.TTL(), lwTTL)
		}
		if ip.More() || ip.FragmentOffset() != 0 {
			d.checkFragmentID(ip)
		}
		if ip.More() && len(ip.Payload())%8 != 0 {
			t.Errorf("lwgo non-final fragment with %d payload bytes (not a multiple of 8)", len(ip.Payload()))
		}
		if ip.More() || ip.FragmentOffset() != 0 {
			return // transport checksums span the whole datagram; gVisor checks those
		}
		switch ip.TransportProtocol() {
		case header.UDPProtocolNumber:
			u := header.UDP(ip.Payload())
			if len(u) < header.UDPMinimumSize || int(u.Length()) != len(u) {
				t.Errorf("lwgo UDP length field %d in %d bytes", u.Length(), len(u))
				return
			}
			if u.Checksum() == 0 || !u.IsChecksumValid(ip.SourceAddress(), ip.DestinationAddress(), checksum.Checksum(u.Payload(), 0)) {
				t.Errorf("lwgo UDP checksum %#04x is wrong or absent (RFC 1122 4.1.3.4)", u.Checksum())
			}
		case header.ICMPv4ProtocolNumber:
			if checksum.Checksum(ip.Payload(), 0) != 0xffff {
				t.Errorf("lwgo ICMP checksum wrong: % x", ip.Payload()[:min(len(ip.Payload()), 16)])
			}
		}
	default:
		t.Errorf("lwgo sent EtherType %#04x", eth.Type())
	}
}

// gvEndpoint is a gVisor transport endpoint driven without blocking from
// the test goroutine.
type gvEndpoint struct {
	t  testing.TB
	ep tcpip.Endpoint
	wq waiter.Queue
}

// newGVEndpoint opens a gVisor endpoint of the transport protocol proto.
func (p *pair) newGVEndpoint(proto tcpip.TransportProtocolNumber) *gvEndpoint {
	p.t.Helper()
	e := &gvEndpoint{t: p.t}
	ep, err := p.gv.NewEndpoint(proto, ipv4.ProtocolNumber, &e.wq)
	if err != nil {
		p.t.Fatalf("gVisor NewEndpoint(%d): %v", proto, err)
	}
	e.ep = ep
	p.closers = append(p.closers, ep.Close)
	return e
}

// newGVUDP opens a gVisor UDP endpoint bound to gVisor's address and port
// (0: ephemeral).
func (p *pair) newGVUDP(port uint16) *gvEndpoint {
	p.t.Helper()
	e := p.newGVEndpoint(udp.ProtocolNumber)
	if err := e.ep.Bind(tcpip.FullAddress{NIC: gvNIC, Addr: gvAddrOf(gvAddr), Port: port}); err != nil {
		p.t.Fatalf("gVisor UDP Bind(%d): %v", port, err)
	}
	return e
}

// write sends data, to the connected peer when to is nil.
func (e *gvEndpoint) write(data []byte, to *tcpip.FullAddress) tcpip.Error {
	var r bytes.Reader
	r.Reset(data)
	n, err := e.ep.Write(&r, tcpip.WriteOptions{To: to})
	if err == nil && int(n) != len(data) {
		e.t.Errorf("gVisor wrote %d of %d bytes", n, len(data))
	}
	return err
}

// read returns the next datagram and its sender without blocking; err is
// ErrWouldBlock when none waits.
func (e *gvEndpoint) read() ([]byte, tcpip.FullAddress, tcpip.Error) {
	var b bytes.Buffer
	res, err := e.ep.Read(&b, tcpip.ReadOptions{NeedRemoteAddr: true})
	if err != nil {
		return nil, tcpip.FullAddress{}, err
	}
	if res.Count != res.Total {
		e.t.Errorf("gVisor read %d of a %d-byte datagram", res.Count, res.Total)
	}
	return b.Bytes(), res.RemoteAddr, nil
}

// gvUDPEcho makes e an echo server (RFC 862) run by the pair's hooks.
func (p *pair) gvUDPEcho(e *gvEndpoint) {
	p.hooks = append(p.hooks, func() {
		for {
			data, from, err := e.read()
			if err != nil {
				if _, ok := err.(*tcpip.ErrWouldBlock); !ok {
					p.t.Errorf("gVisor echo server read: %v", err)
				}
				return
			}
			if err := e.write(data, &from); err != nil {
				p.t.Errorf("gVisor echo server write %d bytes to %v: %v", len(data), from, err)
			}
		}
	})
}

// lwUDPEcho opens an lwgo UDP echo server on port (RFC 862) and returns it.
func (p *pair) lwUDPEcho(port uint16) core.UDP {
	p.t.Helper()
	u, err := p.lw.NewUDP()
	if err != nil {
		p.t.Fatalf("lwgo NewUDP: %v", err)
	}
	if err := u.Bind(netip.Addr{}, port); err != nil {
		p.t.Fatalf("lwgo Bind(%d): %v", port, err)
	}
	u.SetRecv(func(u core.UDP, b *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		if dst != lwAddr {
			p.t.Errorf("lwgo echo server: datagram for %v, want %v (RFC 1122 4.1.3.5)", dst, lwAddr)
		}
		if err := u.SendTo(b.Bytes(), src); err != nil {
			p.t.Errorf("lwgo echo server: SendTo(%d bytes, %v): %v", b.Len(), src, err)
		}
		b.Free()
	})
	return u
}

// pattern returns n bytes that differ per position and per seed, so that a
// misplaced fragment shows.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// firstDiff describes where two byte slices differ.
func firstDiff(got, want []byte) string {
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("byte %d is %#02x, want %#02x", i, got[i], want[i])
		}
	}
	return "equal"
}
