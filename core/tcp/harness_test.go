package tcp

// The segment-level test harness: a fake Output that records every segment
// the Layer sends, a manual clock driven through Layer.SetNow and
// Layer.Timer, a scripted peer that injects segments through Layer.Input,
// and state-in-a-box constructors that reach a state by running the real
// handshake. Two Layers can also be joined by an in-test link (pair) for
// exchanges where both ends are lwgo.

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

var (
	ipA = wire.IPv4Addr{10, 0, 0, 1} // the Layer under test
	ipB = wire.IPv4Addr{10, 0, 0, 2} // the scripted peer (or the second Layer)
)

var (
	addrAny   = netip.Addr{}
	addrPortB = netip.AddrPortFrom(netip.AddrFrom4(ipB), srvPort)
)

// testSecret fixes ISNs, SYN cookies, ports and timestamp offsets.
var testSecret = [16]byte{0x6c, 0x77, 0x67, 0x6f, 0x2d, 0x74, 0x63, 0x70, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x31}

const (
	testPoolBufs = 256
	testPoolSlot = 2048
	testMTU      = 1500
	testStart    = clock.Time(10 * clock.Second)
	peerPort     = 40000
	srvPort      = 80
	peerISS      = wire.Seq(1000)
)

// testConfig is the base configuration of the harness: small tables, the
// fixed secret, everything else default.
func testConfig() Config {
	return Config{MaxPCBs: 8, MaxListeners: 4, ISNSecret: testSecret}
}

// outSeg is one segment the Layer sent, decoded.
type outSeg struct {
	src, dst     wire.IPv4Addr
	tos          uint8
	sport, dport uint16
	seq, ack     wire.Seq
	flags        wire.TCPFlags
	wnd          uint16
	opts         wire.TCPOptions
	data         []byte
	csumOK       bool
	urgent       uint16 // the urgent pointer field
	gso          uint16 // Buf.GSOSize: a TSO super-segment of this MSS
	partial      bool   // checksum left to the device (pbuf.TxL4ChecksumPartial)
	at           clock.Time
}

func (s *outSeg) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v:%d->%v:%d <SEQ=%d>", s.src, s.sport, s.dst, s.dport, uint32(s.seq))
	if s.flags.Has(wire.FlagACK) {
		fmt.Fprintf(&b, "<ACK=%d>", uint32(s.ack))
	}
	fmt.Fprintf(&b, "<CTL=%s><WND=%d>", strings.Trim(s.flags.String(), "[]"), s.wnd)
	if s.opts.MSS != 0 {
		fmt.Fprintf(&b, "<MSS=%d>", s.opts.MSS)
	}
	if s.opts.HasWScale {
		fmt.Fprintf(&b, "<WS=%d>", s.opts.WScale)
	}
	if s.opts.SACKPermitted {
		b.WriteString("<SACKOK>")
	}
	if s.opts.HasTimestamps {
		fmt.Fprintf(&b, "<TS=%d,%d>", s.opts.TSVal, s.opts.TSEcr)
	}
	for i := range s.opts.NumSACK {
		fmt.Fprintf(&b, "<SACK=%d-%d>", uint32(s.opts.SACK[i].Left), uint32(s.opts.SACK[i].Right))
	}
	if len(s.data) > 0 {
		fmt.Fprintf(&b, "(%d bytes)", len(s.data))
	}
	return b.String()
}

// segLen is SEG.LEN.
func (s *outSeg) segLen() wire.Size {
	n := wire.Size(len(s.data))
	if s.flags.Has(wire.FlagSYN) {
		n++
	}
	if s.flags.Has(wire.FlagFIN) {
		n++
	}
	return n
}

// end returns SEG.SEQ + SEG.LEN.
func (s *outSeg) end() wire.Seq { return s.seq.Add(s.segLen()) }

func parseOut(b []byte, src, dst wire.IPv4Addr) (outSeg, error) {
	t, err := wire.ParseTCP(b)
	if err != nil {
		return outSeg{}, err
	}
	s := outSeg{src: src, dst: dst, sport: t.SrcPort(), dport: t.DstPort(), seq: t.Seq(), ack: t.Ack(),
		flags: t.Flags(), wnd: t.Window(), urgent: t.Urgent(), csumOK: t.IsChecksumValid(src, dst)}
	if err := wire.ParseTCPOptions(t.Options(), &s.opts); err != nil {
		return outSeg{}, err
	}
	s.data = append([]byte(nil), t.Payload()...)
	return s, nil
}

// fakeOut is the Layer's Output: it records segments (when record is set)
// and frees them, or hands them to deliver (a joined link).
type fakeOut struct {
	t        testing.TB
	now      *clock.Time
	addr     wire.IPv4Addr
	mtu      int
	routeErr bool
	tsoMax   int  // Route.TSOMax offered
	noGSO    bool // refuse super-segments with ErrIf (the route lost its TSO device)
	txCsum   bool // Route.TxCsum offered
	record   bool
	segs     []outSeg // recorded and not yet expected
	count    int      // segments sent in total
	lastTS   uint32   // TSval of the latest segment with timestamps
	deliver  func(b *pbuf.Buf, src, dst wire.IPv4Addr)
}

// OutputTCP implements Output.
func (o *fakeOut) OutputTCP(b *pbuf.Buf, src, dst wire.IPv4Addr, tos, ttl uint8) error {
	o.count++
	if o.noGSO && b.GSOSize != 0 {
		b.Free()
		return errs.ErrIf
	}
	if b.Headroom() < pbuf.LayerIP.Headroom() {
		o.t.Errorf("segment with headroom %d, want at least %d", b.Headroom(), pbuf.LayerIP.Headroom())
	}
	if o.record {
		s, err := parseOut(b.Bytes(), src, dst)
		if err != nil {
			o.t.Errorf("unparsable segment sent: %v % x", err, b.Bytes())
		}
		if b.Flags&pbuf.TxL4ChecksumPartial != 0 {
			// The field must hold the pseudo-header sum over the whole
			// segment, not complemented (Linux's CHECKSUM_PARTIAL).
			t := wire.TCP(b.Bytes())
			s.partial = true
			s.csumOK = t.Checksum() == ^wire.Fold(wire.PseudoHeaderSum(src, dst, wire.ProtoTCP, len(t)))
		}
		s.gso = b.GSOSize
		if !s.csumOK {
			o.t.Errorf("segment with a bad checksum: %v", &s)
		}
		s.tos, s.at = tos, *o.now
		if s.opts.HasTimestamps {
			o.lastTS = s.opts.TSVal
		}
		o.segs = append(o.segs, s)
	}
	if o.deliver != nil {
		o.deliver(b, src, dst)
		return nil
	}
	b.Free()
	return nil
}

// RouteTCP implements Output.
func (o *fakeOut) RouteTCP(dst wire.IPv4Addr) (Route, error) {
	if o.routeErr {
		return Route{}, errs.ErrRoute
	}
	return Route{Src: o.addr, MTU: o.mtu, TSOMax: o.tsoMax, TxCsum: o.txCsum}, nil
}

// IsLocalAddr implements Output.
func (o *fakeOut) IsLocalAddr(a wire.IPv4Addr) bool { return a == o.addr }

// synOpts are the options the scripted peer puts in its SYN (ws < 0: none).
type synOpts struct {
	mss  uint16
	ws   int
	ts   bool
	sack bool
}

// plainPeer offers only an MSS of 1460: no scaling, timestamps or SACK, so
// segment arithmetic stays simple.
var plainPeer = synOpts{mss: 1460, ws: -1}

// fullPeer offers everything, as Linux does.
var fullPeer = synOpts{mss: 1460, ws: 7, ts: true, sack: true}

// harness drives one Layer against a scripted peer.
type harness struct {
	t    testing.TB
	l    *Layer
	pool *pbuf.Pool
	out  *fakeOut
	now  clock.Time

	// The scripted peer.
	peer   wire.IPv4Addr
	pport  uint16 // its port
	lport  uint16 // the Layer's port of the connection under test
	po     synOpts
	irs    wire.Seq // the peer's ISS
	iss    wire.Seq // the Layer's ISS
	pnxt   wire.Seq // the peer's SND.NXT
	pwnd   uint16   // the window field the peer announces
	pts    bool     // the peer sends timestamps
	tsBase uint32   // the peer's timestamp clock offset

	lst      Listener
	accepted []*rec
}

// newHarness builds a Layer with testConfig modified by mod (may be nil).
func newHarness(t testing.TB, mod func(*Config)) *harness {
	return newHarnessPool(t, mod, testPoolBufs)
}

func newHarnessPool(t testing.TB, mod func(*Config), bufs int) *harness {
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	h := &harness{t: t, pool: pbuf.NewPool(bufs, testPoolSlot), now: testStart,
		peer: ipB, pport: peerPort, lport: srvPort, irs: peerISS, pwnd: 65535, tsBase: 5000, po: plainPeer}
	h.out = &fakeOut{t: t, now: &h.now, addr: ipA, mtu: testMTU, record: true}
	h.l = New(cfg, h.out, h.pool)
	h.l.SetNow(h.now)
	return h
}

// tick runs the Layer's timers at the current time.
func (h *harness) tick() {
	h.l.SetNow(h.now)
	h.l.Timer()
}

// advance moves the clock forward by d, stopping at every timer deadline on
// the way so that timers fire at their exact times.
func (h *harness) advance(d clock.Duration) {
	h.t.Helper()
	h.advanceTo(h.now.Add(d))
}

func (h *harness) advanceTo(end clock.Time) {
	h.t.Helper()
	for range 1_000_000 {
		next := h.l.NextDeadline()
		if next > end {
			h.now = end
			h.tick()
			return
		}
		if next > h.now {
			h.now = next
		}
		before := h.l.NextDeadline()
		h.tick()
		if h.l.NextDeadline() <= h.now && before <= h.now && h.l.NextDeadline() == before {
			h.t.Fatalf("timer deadline %v stuck at now %v", before, h.now)
		}
	}
	h.t.Fatalf("advance: too many timer rounds")
}

// pkt is a segment for the scripted peer to inject. Zero fields take
// defaults: addresses and ports of the connection under test, the peer's
// window, timestamps if the peer uses them.
type pkt struct {
	src, dst     wire.IPv4Addr
	sport, dport uint16
	seq, ack     wire.Seq
	flags        wire.TCPFlags
	wnd          int // -1: use h.pwnd
	opts         wire.TCPOptions
	noTS         bool // suppress the automatic timestamps
	data         []byte
	badSum       bool
	flagsIn      pbuf.Flags
	urgent       uint16 // the urgent pointer field
}

// build encodes p into a buffer from pool holding the IPv4 datagram, and
// returns it with its IPv4 view.
func buildSeg(pool *pbuf.Pool, p *pkt) (*pbuf.Buf, wire.IPv4) {
	th := wire.TCPHeader{SrcPort: p.sport, DstPort: p.dport, Seq: p.seq, Ack: p.ack, Flags: p.flags,
		Window: uint16(p.wnd), Urgent: p.urgent, Options: p.opts}
	tl := th.Len() + len(p.data)
	b, err := pool.Alloc(pbuf.LayerLink, wire.IPv4MinHeaderLen+tl)
	if err != nil {
		return nil, nil
	}
	ip := wire.IPv4(b.Bytes())
	ih := wire.IPv4Header{TotalLen: wire.IPv4MinHeaderLen + tl, TTL: 64, Protocol: wire.ProtoTCP, Src: p.src, Dst: p.dst}
	ih.Encode(ip)
	t := wire.TCP(ip[wire.IPv4MinHeaderLen:])
	th.Encode(t)
	copy(t[th.Len():], p.data)
	t.SetChecksum(wire.Fold(wire.Checksum(t, wire.PseudoHeaderSum(p.src, p.dst, wire.ProtoTCP, len(t)))))
	if p.badSum {
		t[16] ^= 0x55
	}
	b.Flags = p.flagsIn
	return b, ip
}

// rawSeg encodes a TCP segment with raw option bytes (a multiple of 4 long)
// and a zero checksum.
func rawSeg(h wire.TCPHeader, opts, data []byte) []byte {
	h.Options = wire.TCPOptions{}
	b := make([]byte, 20+len(opts)+len(data))
	h.Encode(wire.TCP(b))
	b[12] = uint8((20+len(opts))/4) << 4
	copy(b[20:], opts)
	copy(b[20+len(opts):], data)
	return b
}

// injectRaw wraps TCP segment bytes from the peer in an IPv4 header, fills
// in the TCP checksum and hands them to the Layer.
func (h *harness) injectRaw(seg []byte) {
	h.t.Helper()
	b, err := h.pool.Alloc(pbuf.LayerLink, wire.IPv4MinHeaderLen+len(seg))
	if err != nil {
		h.t.Fatal("injectRaw: pool exhausted")
	}
	ip := wire.IPv4(b.Bytes())
	ih := wire.IPv4Header{TotalLen: len(ip), TTL: 64, Protocol: wire.ProtoTCP, Src: h.peer, Dst: ipA}
	ih.Encode(ip)
	t := wire.TCP(ip[wire.IPv4MinHeaderLen:])
	copy(t, seg)
	if len(t) >= 18 {
		t[16], t[17] = 0, 0
		t.SetChecksum(wire.Fold(wire.Checksum(t, wire.PseudoHeaderSum(h.peer, ipA, wire.ProtoTCP, len(t)))))
	}
	h.l.SetNow(h.now)
	h.l.Input(b, ip)
}

// inject hands p to the Layer at the current time.
func (h *harness) inject(p pkt) {
	h.t.Helper()
	if p.src.IsUnspecified() {
		p.src = h.peer
	}
	if p.dst.IsUnspecified() {
		p.dst = ipA
	}
	if p.sport == 0 {
		p.sport = h.pport
	}
	if p.dport == 0 {
		p.dport = h.lport
	}
	if p.wnd == 0 && !p.flags.Has(wire.FlagRST) {
		p.wnd = -1
	}
	if p.wnd < 0 {
		p.wnd = int(h.pwnd)
	}
	if h.pts && !p.noTS && !p.opts.HasTimestamps && !p.flags.Has(wire.FlagRST) {
		p.opts.HasTimestamps = true
		p.opts.TSVal = h.peerTS()
		p.opts.TSEcr = h.out.lastTS
	}
	b, ip := buildSeg(h.pool, &p)
	if b == nil {
		h.t.Fatalf("inject: pool exhausted (%d of %d free)", h.pool.Available(), h.pool.Cap())
	}
	h.l.SetNow(h.now)
	h.l.Input(b, ip)
}

// peerTS is the peer's timestamp clock: milliseconds plus an offset.
func (h *harness) peerTS() uint32 { return h.tsBase + uint32(h.now/clock.Time(clock.Millisecond)) }

// send injects data (or a bare ACK when data is nil) from the peer at
// pnxt, acknowledging ack, and advances pnxt.
func (h *harness) send(ack wire.Seq, data []byte, flags wire.TCPFlags) {
	h.t.Helper()
	h.inject(pkt{seq: h.pnxt, ack: ack, flags: wire.FlagACK | flags, data: data})
	h.pnxt = h.pnxt.Add(wire.Size(len(data)))
	if flags.Has(wire.FlagFIN) {
		h.pnxt++
	}
}

// ack injects a bare ACK from the peer.
func (h *harness) ack(ack wire.Seq) {
	h.t.Helper()
	h.inject(pkt{seq: h.pnxt, ack: ack, flags: wire.FlagACK})
}

// next pops the oldest recorded segment, failing if there is none.
func (h *harness) next() *outSeg {
	h.t.Helper()
	if len(h.out.segs) == 0 {
		h.t.Fatalf("expected a segment at %v, none was sent", h.now)
	}
	s := h.out.segs[0]
	h.out.segs = h.out.segs[1:]
	return &s
}

// expectSegment pops the next segment and lets check examine it.
func (h *harness) expectSegment(check func(s *outSeg)) *outSeg {
	h.t.Helper()
	s := h.next()
	if check != nil {
		check(s)
	}
	return s
}

// expect pops the next segment and checks its flags, sequence and
// acknowledgment numbers (ack only when ACK is set).
func (h *harness) expect(flags wire.TCPFlags, seq, ack wire.Seq) *outSeg {
	h.t.Helper()
	s := h.next()
	if s.flags != flags || s.seq != seq || (flags.Has(wire.FlagACK) && s.ack != ack) {
		h.t.Fatalf("got %v\nwant <SEQ=%d><ACK=%d><CTL=%s>", s, uint32(seq), uint32(ack), flags)
	}
	return s
}

// expectNothing fails if a segment was sent.
func (h *harness) expectNothing() {
	h.t.Helper()
	if len(h.out.segs) > 0 {
		var b strings.Builder
		for i := range h.out.segs {
			fmt.Fprintf(&b, "\n  %v", &h.out.segs[i])
		}
		h.t.Fatalf("expected no segment, got %d:%s", len(h.out.segs), b.String())
	}
}

// drain discards the recorded segments and returns them.
func (h *harness) drain() []outSeg {
	s := h.out.segs
	h.out.segs = nil
	return s
}

// rec is a recording Handler.
type rec struct {
	c         Conn
	irs       wire.Seq // the peer's ISS, for accepted connections
	got       []byte
	recvs     int // data deliveries
	fin       int // end-of-stream deliveries
	errs      []error
	errValid  bool // the handle's validity seen inside Err
	sent      int
	connected int
	refuse    int  // refuse this many offers with ErrMem
	offers    int  // Recv calls with data
	noRecved  bool // keep data unacknowledged to the window
	unrecved  int
	onRecv    func(c Conn, p *pbuf.Buf) error
	onSent    func(c Conn, n int) error
	onFin     func(c Conn) error
	onErr     func(c Conn, err error)
}

func (r *rec) Connected(c Conn, err error) error {
	r.connected++
	return nil
}

func (r *rec) Recv(c Conn, p *pbuf.Buf, err error) error {
	if p == nil {
		r.fin++
		if r.onFin != nil {
			return r.onFin(c)
		}
		return nil
	}
	r.offers++
	if r.refuse > 0 {
		r.refuse--
		return errs.ErrMem
	}
	if r.onRecv != nil {
		return r.onRecv(c, p)
	}
	r.recvs++
	r.got = append(r.got, p.Bytes()...)
	if r.noRecved {
		r.unrecved += p.Len()
	} else {
		c.Recved(p.Len())
	}
	p.Free()
	return nil
}

func (r *rec) Sent(c Conn, n int) error {
	r.sent += n
	if r.onSent != nil {
		return r.onSent(c, n)
	}
	return nil
}

func (r *rec) Poll(c Conn) error { return nil }

func (r *rec) Err(c Conn, err error) {
	r.errs = append(r.errs, err)
	r.errValid = c.IsValid()
	if r.onErr != nil {
		r.onErr(c, err)
	}
}

// listen opens a listener on srvPort whose acceptor attaches a rec to each
// connection and appends it to h.accepted.
func (h *harness) listen(backlog int) Listener {
	h.t.Helper()
	c, err := h.l.NewConn()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := c.Bind(netip.Addr{}, srvPort); err != nil {
		h.t.Fatal(err)
	}
	ln, err := c.Listen(backlog)
	if err != nil {
		h.t.Fatal(err)
	}
	ln.SetAcceptor(AcceptFunc(func(l Listener, c Conn, err error) error {
		r := &rec{c: c, irs: h.l.pcbs[c.idx].rcv.IRS}
		h.accepted = append(h.accepted, r)
		return c.SetHandler(r)
	}))
	h.lst = ln
	return ln
}

// synOptions returns the options of the peer's SYN.
func (h *harness) synOptions(o synOpts) wire.TCPOptions {
	var opts wire.TCPOptions
	opts.MSS = o.mss
	if o.ws >= 0 {
		opts.HasWScale, opts.WScale = true, uint8(o.ws)
	}
	opts.SACKPermitted = o.sack
	if o.ts {
		opts.HasTimestamps, opts.TSVal = true, h.peerTS()
	}
	return opts
}

// peerSYN injects the peer's SYN at irs with its options.
func (h *harness) peerSYN() {
	h.t.Helper()
	h.inject(pkt{seq: h.irs, flags: wire.FlagSYN, opts: h.synOptions(h.po), noTS: true})
}

// acceptConn runs a passive open: the peer's SYN, our SYN-ACK, the peer's
// ACK. It returns the accepted connection's recorder; h.iss is our ISS.
func (h *harness) acceptConn() *rec {
	h.t.Helper()
	if !h.lst.IsValid() {
		h.listen(0)
	}
	h.lport = srvPort
	h.pts = false
	h.peerSYN()
	sa := h.expectSegment(func(s *outSeg) {
		if s.flags != wire.FlagSYN|wire.FlagACK || s.ack != h.irs+1 {
			h.t.Fatalf("want SYN-ACK for %d, got %v", uint32(h.irs+1), s)
		}
	})
	h.iss = sa.seq
	h.pts = h.po.ts && sa.opts.HasTimestamps
	h.pnxt = h.irs + 1
	n := len(h.accepted)
	h.ack(h.iss + 1)
	if len(h.accepted) != n+1 {
		h.t.Fatalf("handshake ACK did not complete the connection (accepted %d)", len(h.accepted)-n)
	}
	h.expectNothing()
	return h.accepted[n]
}

// connect runs an active open to the peer: our SYN, the peer's SYN-ACK, our
// ACK.
func (h *harness) connect() *rec {
	h.t.Helper()
	r := h.connectSYN()
	h.inject(pkt{seq: h.irs, ack: h.iss + 1, flags: wire.FlagSYN | wire.FlagACK, opts: h.synOptions(h.po), noTS: true})
	h.pts = h.po.ts && !h.l.cfg.NoTimestamps
	h.pnxt = h.irs + 1
	h.expect(wire.FlagACK, h.iss+1, h.irs+1)
	if r.connected != 1 {
		h.t.Fatalf("Connected called %d times", r.connected)
	}
	return r
}

// connectSYN starts an active open and returns after our SYN.
func (h *harness) connectSYN() *rec {
	h.t.Helper()
	c, err := h.l.NewConn()
	if err != nil {
		h.t.Fatal(err)
	}
	r := &rec{c: c}
	c.SetHandler(r)
	if err := c.Connect(netip.AddrPortFrom(netip.AddrFrom4(h.peer), h.pport)); err != nil {
		h.t.Fatal(err)
	}
	h.lport = c.LocalAddr().Port()
	syn := h.next()
	if syn.flags != wire.FlagSYN {
		h.t.Fatalf("want SYN, got %v", syn)
	}
	h.iss = syn.seq
	h.pts = false
	return r
}

// established returns a harness with an accepted connection to a peer
// offering o.
func established(t testing.TB, mod func(*Config), o synOpts) (*harness, *rec) {
	t.Helper()
	h := newHarness(t, mod)
	h.po = o
	return h, h.acceptConn()
}

// pcbOf returns the connection's pcb even after its handle went stale, by
// its 4-tuple; nil if there is none.
func (h *harness) pcbOf() *pcb {
	id := tuple{local: ipA, remote: h.peer, lport: h.lport, rport: h.pport}
	if i := h.l.conns.get(id); i >= 0 {
		return &h.l.pcbs[i]
	}
	return nil
}

// stateOf returns the state of the connection with tuple id on l, looking at
// TIME-WAIT records too.
func stateOf(l *Layer, id tuple) State {
	if i := l.conns.get(id); i >= 0 {
		return l.pcbs[i].state
	}
	if l.twIdx.get(id) >= 0 {
		return TimeWait
	}
	return Closed
}

func (h *harness) state() State {
	return stateOf(h.l, tuple{local: ipA, remote: h.peer, lport: h.lport, rport: h.pport})
}

// checkClean verifies that every buffer is back in the pool and every queue
// node is free.
func checkClean(t testing.TB, l *Layer, pools ...*pbuf.Pool) {
	t.Helper()
	for _, p := range pools {
		if p.Available() != p.Cap() {
			t.Errorf("pool: %d of %d buffers free", p.Available(), p.Cap())
		}
	}
	if l.nodesFree != len(l.nodes) {
		t.Errorf("queue nodes: %d of %d free", l.nodesFree, len(l.nodes))
	}
	if l.nocopy != 0 || l.ooseq != 0 {
		t.Errorf("nocopy=%d ooseq=%d, want 0", l.nocopy, l.ooseq)
	}
	for i := range l.pcbs {
		if l.pcbs[i].used {
			t.Errorf("pcb %d still in use in %v", i, l.pcbs[i].state)
		}
	}
	if len(l.free) != len(l.pcbs) {
		t.Errorf("%d of %d pcb slots free", len(l.free), len(l.pcbs))
	}
	for i, v := range l.conns.vals {
		if v >= 0 {
			t.Errorf("demux entry %v -> slot %d left behind", l.conns.keys[i], v)
		}
	}
	for i, v := range l.twIdx.vals {
		if v >= 0 {
			t.Errorf("TIME-WAIT index entry %v left behind", l.twIdx.keys[i])
		}
	}
}

// checkInvariants verifies per-connection invariants.
func checkInvariants(t testing.TB, l *Layer) {
	t.Helper()
	free := 0
	for i := l.nodeFree; i >= 0; i = l.nodes[i].next {
		free++
		if free > len(l.nodes) {
			t.Fatalf("free node list has a cycle")
		}
	}
	if free != l.nodesFree {
		t.Fatalf("free node list holds %d nodes, counter says %d", free, l.nodesFree)
	}
	ooseq, nocopy, used := 0, 0, 0
	for i := range l.pcbs {
		c := &l.pcbs[i]
		if !c.used {
			continue
		}
		if !c.snd.UNA.LessThanEq(c.snd.NXT) || !c.snd.NXT.LessThanEq(c.snd.MAX) {
			t.Fatalf("pcb %d %v: UNA %d NXT %d MAX %d out of order", i, c.state,
				uint32(c.snd.UNA), uint32(c.snd.NXT), uint32(c.snd.MAX))
		}
		q, n := 0, 0
		for j := c.snd.q.head; j >= 0; j = l.nodes[j].next {
			q += l.nodeLen(j)
			if l.nodes[j].buf == nil {
				nocopy++
			}
			n++
			if l.nodes[j].next < 0 && c.snd.q.tail != j {
				t.Fatalf("pcb %d: send queue tail %d, last node %d", i, c.snd.q.tail, j)
			}
		}
		used += n
		if q != c.snd.queued {
			t.Fatalf("pcb %d %v: send queue holds %d bytes, queued says %d", i, c.state, q, c.snd.queued)
		}
		if c.state != Closed {
			// The queue starts at bufSeq: UNA is one before it while our SYN
			// is unacknowledged, one past it once our FIN is; SND.MAX is at
			// most one past its end (FIN).
			if d := int32(c.snd.UNA - c.snd.bufSeq); d < -1 || d > 1 {
				t.Fatalf("pcb %d %v: UNA %d, queue at %d", i, c.state, uint32(c.snd.UNA), uint32(c.snd.bufSeq))
			}
			if end := c.snd.bufSeq.Add(wire.Size(c.snd.queued + 1)); end.LessThan(c.snd.MAX) {
				t.Fatalf("pcb %d %v: MAX %d beyond the queue end %d", i, c.state, uint32(c.snd.MAX), uint32(end))
			}
		}
		r, k := 0, 0
		for j := c.rcv.ready.head; j >= 0; j = l.nodes[j].next {
			r += l.nodes[j].buf.Len()
			k++
		}
		used += k
		if r != c.rcv.readyLen {
			t.Fatalf("pcb %d: ready list holds %d bytes, readyLen says %d", i, r, c.rcv.readyLen)
		}
		k = 0
		prev := wire.Seq(0)
		for j := c.rcv.ooseq.head; j >= 0; j = l.nodes[j].next {
			if k > 0 && l.nodes[j].seq.LessThan(prev) {
				t.Fatalf("pcb %d: out-of-order queue not sorted", i)
			}
			prev = l.nodes[j].seq.Add(wire.Size(l.nodes[j].buf.Len()))
			k++
		}
		used += k
		if k != c.rcv.ooCount {
			t.Fatalf("pcb %d: out-of-order queue holds %d, ooCount says %d", i, k, c.rcv.ooCount)
		}
		ooseq += k
	}
	if ooseq != l.ooseq {
		t.Fatalf("out-of-order total %d, counter says %d", ooseq, l.ooseq)
	}
	if nocopy != l.nocopy {
		t.Fatalf("WriteNoCopy nodes %d, counter says %d", nocopy, l.nocopy)
	}
	if used+l.nodesFree > len(l.nodes) {
		t.Fatalf("nodes: %d in queues + %d free > %d", used, l.nodesFree, len(l.nodes))
	}
}

// pattern returns n bytes of a recognizable pattern starting at offset off.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		x := uint32(off + i)
		b[i] = byte(x*2654435761>>24) ^ byte(x)
	}
	return b
}

// ---- Two Layers joined by an in-test link ----

// node is one Layer of a pair.
type node struct {
	name string
	l    *Layer
	pool *pbuf.Pool
	out  *fakeOut
	addr wire.IPv4Addr
	inq  pbuf.Queue // segments in flight toward this node
	peer *node
}

// pair joins two Layers: segments one sends are copied into the other's
// pool (as a device would) and queued until delivered.
type pair struct {
	t     testing.TB
	now   clock.Time
	a, b  *node
	trace []string
	quiet bool // no trace (allocation-free)
	// filter, if set, decides each segment's fate as it leaves its sender:
	// 0 deliver, 1 drop, 2 duplicate.
	filter func(from *node, s []byte) int
}

func newPair(t testing.TB, mod func(*Config)) *pair {
	return newPairCfg(t, mod, mod, testPoolBufs)
}

// newPairCfg is newPair with a configuration for each side and pools of
// bufs buffers.
func newPairCfg(t testing.TB, modA, modB func(*Config), bufs int) *pair {
	p := &pair{t: t, now: testStart}
	mk := func(name string, addr wire.IPv4Addr, secret byte, mod func(*Config)) *node {
		cfg := testConfig()
		cfg.ISNSecret[0] ^= secret
		if mod != nil {
			mod(&cfg)
		}
		n := &node{name: name, pool: pbuf.NewPool(bufs, testPoolSlot), addr: addr}
		n.out = &fakeOut{t: t, now: &p.now, addr: addr, mtu: testMTU, record: true}
		n.l = New(cfg, n.out, n.pool)
		n.l.SetNow(p.now)
		return n
	}
	p.a, p.b = mk("A", ipA, 0, modA), mk("B", ipB, 0x80, modB)
	p.a.peer, p.b.peer = p.b, p.a
	for _, n := range []*node{p.a, p.b} {
		n := n
		n.out.deliver = func(b *pbuf.Buf, src, dst wire.IPv4Addr) { p.carry(n, b, src, dst) }
	}
	return p
}

// carry moves a segment from n toward its peer.
func (p *pair) carry(n *node, b *pbuf.Buf, src, dst wire.IPv4Addr) {
	defer b.Free()
	if !p.quiet {
		if s, err := parseOut(b.Bytes(), src, dst); err == nil {
			p.trace = append(p.trace, fmt.Sprintf("%s %v", n.name, &s))
		}
	}
	copies := 1
	if p.filter != nil {
		switch p.filter(n, b.Bytes()) {
		case 1:
			return
		case 2:
			copies = 2
		}
	}
	to := n.peer
	for range copies {
		tl := b.Len()
		rb, err := to.pool.Alloc(pbuf.LayerLink, wire.IPv4MinHeaderLen+tl)
		if err != nil {
			return // the receiver has no buffer: the "device" drops it
		}
		ip := wire.IPv4(rb.Bytes())
		ih := wire.IPv4Header{TotalLen: wire.IPv4MinHeaderLen + tl, TTL: 64, Protocol: wire.ProtoTCP, Src: src, Dst: dst}
		ih.Encode(ip)
		copy(ip[wire.IPv4MinHeaderLen:], b.Bytes())
		to.inq.Push(rb)
	}
}

// deliverOne hands the oldest segment queued toward n to n; it reports
// whether there was one.
func (p *pair) deliverOne(n *node) bool {
	b := n.inq.Pop()
	if b == nil {
		return false
	}
	n.l.SetNow(p.now)
	n.l.Input(b, wire.IPv4(b.Bytes()))
	return true
}

// pump delivers segments both ways until none is in flight.
func (p *pair) pump() {
	p.t.Helper()
	for range 1_000_000 {
		da := p.deliverOne(p.a)
		db := p.deliverOne(p.b)
		if !da && !db {
			return
		}
	}
	tail := p.trace[max(len(p.trace)-12, 0):]
	p.t.Fatalf("pump: the exchange does not settle; last segments:\n%s", strings.Join(tail, "\n"))
}

// advance moves the clock by d through every timer deadline of both
// Layers, pumping segments after each.
func (p *pair) advance(d clock.Duration) {
	p.t.Helper()
	end := p.now.Add(d)
	for range 1_000_000 {
		p.pump()
		next := min(p.a.l.NextDeadline(), p.b.l.NextDeadline())
		if next > end {
			p.now = end
			p.tickAll()
			p.pump()
			return
		}
		if next > p.now {
			p.now = next
		}
		p.tickAll()
	}
	p.t.Fatalf("advance: too many rounds")
}

func (p *pair) tickAll() {
	for _, n := range []*node{p.a, p.b} {
		n.l.SetNow(p.now)
		n.l.Timer()
	}
}

// dial connects from a to b's listener on srvPort and returns both ends'
// recorders once established.
func (p *pair) dial(ra *rec) *rec {
	p.t.Helper()
	var rb *rec
	if !p.b.l.lst[0].used {
		lc, _ := p.b.l.NewConn()
		if err := lc.Bind(netip.Addr{}, srvPort); err != nil {
			p.t.Fatal(err)
		}
		ln, err := lc.Listen(0)
		if err != nil {
			p.t.Fatal(err)
		}
		ln.SetAcceptor(AcceptFunc(func(l Listener, c Conn, err error) error {
			rb = &rec{c: c}
			return c.SetHandler(rb)
		}))
	}
	c, err := p.a.l.NewConn()
	if err != nil {
		p.t.Fatal(err)
	}
	ra.c = c
	c.SetHandler(ra)
	if err := c.Connect(netip.AddrPortFrom(netip.AddrFrom4(ipB), srvPort)); err != nil {
		p.t.Fatal(err)
	}
	p.pump()
	if rb == nil || c.State() != Established || rb.c.State() != Established {
		p.t.Fatalf("dial: not established:\n%s", strings.Join(p.trace, "\n"))
	}
	return rb
}

// transcript returns the trace so far, one segment per line.
func (p *pair) transcript() string { return strings.Join(p.trace, "\n") }

var _ = bytes.Equal
