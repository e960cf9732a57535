package xcheck

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/lwgo/lwgo/test/internal/stream"
	"hash"
	"io"
	mrand "math/rand"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/faketime"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	gvtcp "gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/tcp"
	"github.com/lwgo/lwgo/netif"
)

// The TCP cross-check harness: the pair of harness_test.go (one lwgo
// Stack, one gVisor stack, an in-memory Ethernet link, virtual clocks),
// built with gVisor's TCP and SACK enabled. lwgo's connections are driven by
// callbacks on the test goroutine; gVisor's are net.Conns from gonet, read
// and written by goroutines of their own, as applications use them.
//
// Time: gVisor's TCP works on goroutines (its segment processors and the
// gonet callers), so "the link is idle" needs more than the harness's step:
// before virtual time moves, the loop waits until gVisor's processors have
// drained their queues (Stack.Pause, which returns once they are empty,
// then Resume), nothing is queued on the link, and every gVisor-side
// goroutine is blocked with nothing to do (its endpoint not readable or not
// writable). Only then does the clock move: by roundTick after a round in
// which frames moved, by idleTick after an idle one.

// tcpOptions configure newTCPPair.
type tcpOptions struct {
	// lw configures lwgo (a zero Seed becomes 1).
	lw core.Config
	// lossToGV and lossToLW are the probabilities that a TCP frame from
	// lwgo to gVisor, or from gVisor to lwgo, is lost; ARP always passes.
	lossToGV, lossToLW float64
	// seed seeds the loss generators.
	seed uint64
	// wall bounds the test's wall time (default 60 s).
	wall time.Duration
	// queue is the depth of gVisor's transmit channel (default gvQueue).
	queue int
}

// tcpPair is a pair with TCP.
type tcpPair struct {
	*pair
	opt        tcpOptions
	wall       time.Duration
	toGV, toLW *rand.Rand
	dropped    [2]int // frames lost lwgo→gVisor, gVisor→lwgo
	scratch    []byte // what lwgo senders generate into (Write copies it)

	// Options seen in SYN segments, by the sender's port.
	lwSYN, gvSYN map[uint16]header.TCPSynOptions
	lwSegs       int // TCP segments lwgo sent

	apps     []gvApp   // gVisor-side goroutines, for the settled check
	hookApps []hookApp // gVisor-side things step hooks serve

	wg       sync.WaitGroup // gVisor-side goroutines
	mu       sync.Mutex
	appErrs  []string // errors from gVisor-side goroutines, reported by run
	stopping atomic.Bool
}

// gvApp is a gVisor-side goroutine that may still act without a frame
// arriving: it has data to read or room to write.
type gvApp interface{ idle() bool }

// hookApp is a gVisor-side endpoint a step hook serves: a listener with
// connections to accept, a connecting endpoint whose result is in.
type hookApp interface{ ready() bool }

// newTCPPair builds the two stacks (newPairConfig's, with gVisor's TCP and
// SACK) and brings the link up.
func newTCPPair(t testing.TB, opt tcpOptions) *tcpPair {
	t.Helper()
	if opt.lw.Seed == 0 {
		opt.lw.Seed = 1
	}
	if opt.wall == 0 {
		opt.wall = 60 * time.Second
	}
	if opt.queue == 0 {
		opt.queue = gvQueue
	}
	ctx, cancel := context.WithTimeout(t.Context(), opt.wall)
	p := &pair{t: t, ctx: ctx}
	tp := &tcpPair{pair: p, opt: opt, wall: opt.wall, scratch: make([]byte, 64<<10),
		toGV:  rand.New(rand.NewPCG(opt.seed, 1)),
		toLW:  rand.New(rand.NewPCG(opt.seed, 2)),
		lwSYN: map[uint16]header.TCPSynOptions{}, gvSYN: map[uint16]header.TCPSynOptions{}}

	p.gclk = faketime.NewManualClock()
	p.ch = channel.New(opt.queue, linkMTU+ethHdr, gvMAC)
	p.gv = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol, icmp.NewProtocol4, gvtcp.NewProtocol},
		Clock:              p.gclk,
		RandSource:         mrand.NewSource(int64(opt.seed) + 7),
		SecureRNG:          rand.NewChaCha8([32]byte{'x', 'c', 'h', 'e', 'c', 'k'}),
	})
	t.Cleanup(func() { // runs last
		tp.stopping.Store(true)
		for _, f := range p.closers {
			f()
		}
		p.gclk.Advance(0)
		p.ch.Close()
		p.gv.Close()
		done := make(chan struct{})
		go func() { tp.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("gVisor-side goroutines still running 10 s after the stack closed")
		}
		p.gv.Wait()
		cancel()
	})
	sack := tcpip.TCPSACKEnabled(true)
	if err := p.gv.SetTransportProtocolOption(gvtcp.ProtocolNumber, &sack); err != nil {
		t.Fatalf("gVisor: enable SACK: %v", err)
	}
	// RACK off: gVisor breaks transmit-time ties in RACK's "sent after"
	// test the wrong way (rack.go detectLoss: rc.EndSequence.LessThan(endSeq),
	// where RFC 8985 §6.2 orders by the segment's end before RACK's), so on
	// a virtual clock, where a whole flight shares one transmit time, an ACK
	// for its first segments marks the rest lost and gVisor retransmits
	// them spuriously. Without RACK gVisor recovers by RFC 6675 SACK.
	recovery := tcpip.TCPRecovery(0)
	if err := p.gv.SetTransportProtocolOption(gvtcp.ProtocolNumber, &recovery); err != nil {
		t.Fatalf("gVisor: RACK off: %v", err)
	}
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

	p.dev = &gvLink{t: t, ch: p.ch, mac: lwMAC, mtu: linkMTU, drop: tp.fromLwgo}
	p.lw = core.New(opt.lw)
	n, err := p.lw.AddNetif(&tcpLink{gvLink: p.dev, tp: tp}, core.NetifConfig{Name: "xc0", Addr: netip.PrefixFrom(lwAddr, prefixLen)})
	if err != nil {
		t.Fatalf("lwgo AddNetif: %v", err)
	}
	p.n = n
	p.lw.SetUp(n)

	t.Cleanup(p.finish)
	t.Cleanup(tp.finishTCP) // runs first
	p.step()
	return tp
}

// fromLwgo checks every TCP segment lwgo sends with gVisor's header
// package, records SYN options, and decides whether the segment is lost.
func (tp *tcpPair) fromLwgo(f []byte) bool {
	ip, t, ok := tcpOf(f)
	if !ok {
		return false
	}
	tp.lwSegs++
	payload := t.Payload()
	if !t.IsChecksumValid(ip.SourceAddress(), ip.DestinationAddress(), checksum.Checksum(payload, 0), uint16(len(payload))) {
		tp.t.Errorf("lwgo sent a TCP segment with a bad checksum: % x", f[:min(len(f), 80)])
	}
	if t.Flags().Contains(header.TCPFlagSyn) {
		tp.lwSYN[t.SourcePort()] = header.ParseSynOptions(t.Options(), t.Flags().Contains(header.TCPFlagAck))
	} else if hasMSSOption(t.Options()) {
		tp.t.Errorf("lwgo sent an MSS option in a %v segment (RFC 9293 MUST-65)", t.Flags())
	}
	if tp.opt.lossToGV > 0 && tp.toGV.Float64() < tp.opt.lossToGV {
		tp.dropped[0]++
		return true
	}
	return false
}

// tcpOf returns the IPv4 header and TCP segment of an Ethernet frame.
func tcpOf(f []byte) (header.IPv4, header.TCP, bool) {
	if len(f) < ethHdr+header.IPv4MinimumSize || header.Ethernet(f).Type() != header.IPv4ProtocolNumber {
		return nil, nil, false
	}
	ip := header.IPv4(f[ethHdr:])
	if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.TCPProtocolNumber || ip.More() || ip.FragmentOffset() != 0 {
		return nil, nil, false
	}
	ip = ip[:ip.TotalLength()]
	t := header.TCP(ip.Payload())
	if len(t) < header.TCPMinimumSize || int(t.DataOffset()) < header.TCPMinimumSize || int(t.DataOffset()) > len(t) {
		return nil, nil, false
	}
	return ip, t, true
}

func hasMSSOption(o []byte) bool {
	for i := 0; i < len(o); {
		switch o[i] {
		case header.TCPOptionEOL:
			return false
		case header.TCPOptionNOP:
			i++
			continue
		case header.TCPOptionMSS:
			return true
		}
		if i+1 >= len(o) || o[i+1] < 2 {
			return false
		}
		i += int(o[i+1])
	}
	return false
}

// tcpLink is lwgo's device: the harness's gvLink, with frames from gVisor
// parsed (SYN options recorded) and, at the configured rate, lost.
type tcpLink struct {
	*gvLink
	tp *tcpPair
}

var _ netif.Device = (*tcpLink)(nil)

func (d *tcpLink) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	tp := d.tp
	for {
		n := d.gvLink.Receive(pool, dst)
		if n == 0 {
			return 0
		}
		k := 0
		for _, b := range dst[:n] {
			if _, t, ok := tcpOf(b.Bytes()); ok {
				if t.Flags().Contains(header.TCPFlagSyn) {
					tp.gvSYN[t.SourcePort()] = header.ParseSynOptions(t.Options(), t.Flags().Contains(header.TCPFlagAck))
				}
				if tp.opt.lossToLW > 0 && tp.toLW.Float64() < tp.opt.lossToLW {
					tp.dropped[1]++
					b.Free()
					continue
				}
			}
			dst[k] = b
			k++
		}
		clear(dst[k:n])
		if k > 0 {
			return k
		}
	}
}

// appErr records an error seen on a gVisor-side goroutine; run reports it.
func (tp *tcpPair) appErr(format string, args ...any) {
	if tp.stopping.Load() {
		return
	}
	tp.mu.Lock()
	tp.appErrs = append(tp.appErrs, fmt.Sprintf(format, args...))
	tp.mu.Unlock()
}

// reportAppErrs turns recorded gVisor-side errors into test failures.
func (tp *tcpPair) reportAppErrs() {
	tp.mu.Lock()
	errs := tp.appErrs
	tp.appErrs = nil
	tp.mu.Unlock()
	for _, e := range errs {
		tp.t.Errorf("gVisor side: %s", e)
	}
}

// settled reports whether gVisor has finished reacting to what it was
// given: its TCP processors have drained their queues and every gVisor-side
// goroutine is blocked with nothing it could do.
func (tp *tcpPair) settled() bool {
	tp.gv.Pause() // returns once every processor has emptied its queue
	tp.gv.Resume()
	for _, a := range tp.apps {
		if !a.idle() {
			return false
		}
	}
	return true
}

// pending reports whether the next step has work without time moving:
// frames queued toward lwgo (and a buffer to take them), or a listener or
// dialer for a step hook to serve.
func (tp *tcpPair) pending() bool {
	if tp.ch.NumQueued() > 0 && tp.lw.Pool().Available() > 0 {
		return true
	}
	for _, h := range tp.hookApps {
		if h.ready() {
			return true
		}
	}
	return false
}

// roundTick is the virtual time a round takes in which frames moved: the
// link's latency. Time moves while data flows, so that RTT samples are not
// all zero.
const roundTick = 10 * clock.Microsecond

// run steps until cond holds. After each step it waits until gVisor is
// settled, then moves virtual time: by roundTick if frames moved, by idleTick
// if the link was idle. It fails the test after limit of virtual time or at
// the wall-clock deadline.
func (tp *tcpPair) run(what string, limit clock.Duration, cond func() bool) {
	tp.t.Helper()
	end := tp.clk.Now().Add(limit)
	for {
		tp.reportAppErrs()
		if tp.t.Failed() {
			tp.t.FailNow()
		}
		if cond() {
			return
		}
		moved := tp.step()
		for spins := 0; !tp.settled(); spins++ {
			if tp.ctx.Err() != nil {
				break
			}
			if spins > 64 {
				time.Sleep(20 * time.Microsecond)
			} else {
				runtime.Gosched()
			}
		}
		if tp.ctx.Err() != nil {
			tp.t.Fatalf("%s: wall-clock limit (%v) passed at virtual %v\n%s\n%s", what, tp.wall, time.Duration(tp.clk.Now()), tp.dumpTCP(), gvStacks())
		}
		if cond() {
			return
		}
		if moved {
			tp.advance(roundTick)
			continue
		}
		if tp.pending() {
			continue
		}
		if tp.clk.Now() >= end {
			tp.t.Fatalf("%s: not done after %v of virtual time\n%s", what, time.Duration(limit), tp.dumpTCP())
		}
		tp.advance(idleTick)
	}
}

// finishTCP checks, after a test that did not already fail, that neither
// stack saw a bad TCP segment.
func (tp *tcpPair) finishTCP() {
	tp.reportAppErrs()
	if tp.t.Failed() {
		return
	}
	gs := tp.gv.Stats().TCP
	if n := gs.ChecksumErrors.Value(); n != 0 {
		tp.t.Errorf("gVisor TCP.ChecksumErrors = %d, want 0", n)
	}
	if n := gs.InvalidSegmentsReceived.Value(); n != 0 {
		tp.t.Errorf("gVisor TCP.InvalidSegmentsReceived = %d, want 0", n)
	}
	ls := tp.lw.TCPStats()
	if ls.ChkErr != 0 || ls.LenErr != 0 {
		tp.t.Errorf("lwgo TCP ChkErr=%d LenErr=%d, want 0", ls.ChkErr, ls.LenErr)
	}
	if n := tp.lw.Stats().IPDrop.FragDF; n != 0 {
		tp.t.Errorf("lwgo dropped %d datagrams larger than the MTU with DF set (TCP segments too large)", n)
	}
}

// dumpTCP is dump with both TCP engines' counters.
func (tp *tcpPair) dumpTCP() string {
	var b strings.Builder
	b.WriteString(tp.dump())
	fmt.Fprintf(&b, "lwgo tcp %+v\n", tp.lw.TCPStats())
	gs := tp.gv.Stats().TCP
	fmt.Fprintf(&b, "gVisor tcp: established=%d sent=%d valid-rx=%d invalid-rx=%d rst-sent=%d rst-rx=%d rexmit=%d timeouts=%d fast-rexmit=%d sack-recovery=%d chk=%d\n",
		gs.CurrentEstablished.Value(), gs.SegmentsSent.Value(), gs.ValidSegmentsReceived.Value(), gs.InvalidSegmentsReceived.Value(),
		gs.ResetsSent.Value(), gs.ResetsReceived.Value(), gs.Retransmits.Value(), gs.Timeouts.Value(), gs.FastRetransmit.Value(),
		gs.SACKRecovery.Value(), gs.ChecksumErrors.Value())
	fmt.Fprintf(&b, "dropped lwgo→gVisor %d, gVisor→lwgo %d\n", tp.dropped[0], tp.dropped[1])
	for _, a := range tp.apps {
		if c, ok := a.(*gvConn); ok && !c.finished() {
			fmt.Fprintf(&b, "unfinished %s\n", c.describe())
		}
	}
	return b.String()
}

// gen is the deterministic byte stream of test/internal/stream: each end
// can produce or check any length in any pieces.
type gen = stream.Gen

func newGen(seed uint64) gen { return *stream.New(seed) }

// checker compares received bytes with the expected stream and hashes them.
type checker struct {
	g     gen
	h     hash.Hash
	n     int64
	badAt int64 // first wrong byte, or -1
	want  []byte
}

func newChecker(seed uint64) *checker {
	return &checker{g: newGen(seed), h: sha256.New(), badAt: -1}
}

func (c *checker) add(p []byte) {
	c.h.Write(p)
	if c.badAt < 0 {
		if cap(c.want) < len(p) {
			c.want = make([]byte, len(p))
		}
		w := c.want[:len(p)]
		c.g.Fill(w)
		for i := range p {
			if p[i] != w[i] {
				c.badAt = c.n + int64(i)
				break
			}
		}
	}
	c.n += int64(len(p))
}

// flow is what one end sends and what it expects to receive.
type flow struct {
	send, recv         int64
	sendSeed, recvSeed uint64
	// sendAfterEOF holds this end's data until the peer's FIN (the
	// request/response pattern: the peer half-closes first).
	sendAfterEOF bool
}

// lwConn is an lwgo connection end driven by callbacks: it writes
// flow.send bytes as SendBuffer allows, then half-closes; it checks what it
// receives; and it closes once it has seen end of stream and all its data
// is acknowledged.
type lwConn struct {
	tp   *tcpPair
	name string
	c    tcp.Conn
	flow

	tx             gen
	txHash         hash.Hash
	rx             *checker
	written, acked int64
	finQueued, eof bool
	closed         bool
	established    bool
	err            error
	info           tcp.Info // at establishment
	start, done    clock.Time
}

func (tp *tcpPair) newLwConn(name string, f flow) *lwConn {
	return &lwConn{tp: tp, name: name, flow: f, tx: newGen(f.sendSeed), txHash: sha256.New(), rx: newChecker(f.recvSeed)}
}

func (p *lwConn) finished() bool { return p.closed || p.err != nil }

func (p *lwConn) describe() string {
	return fmt.Sprintf("lwgo %s: wrote %d/%d acked %d, received %d/%d eof=%v fin=%v closed=%v err=%v info=%+v",
		p.name, p.written, p.send, p.acked, p.rx.n, p.recv, p.eof, p.finQueued, p.closed, p.err, p.c.Info())
}

func (p *lwConn) pump(c tcp.Conn) {
	if p.closed || p.err != nil || (p.sendAfterEOF && !p.eof) {
		return
	}
	for p.written < p.send {
		n := int(min(int64(c.SendBuffer()), int64(len(p.tp.scratch)), p.send-p.written))
		if n <= 0 {
			break
		}
		buf := p.tp.scratch[:n]
		p.tx.Fill(buf)
		if err := c.Write(buf, 0); err != nil {
			p.tp.t.Errorf("%s: Write of %d bytes, no more than SendBuffer, failed: %v", p.name, n, err)
			return
		}
		p.txHash.Write(buf)
		p.written += int64(n)
	}
	if p.written == p.send && !p.finQueued {
		if err := c.CloseWrite(); err != nil {
			p.tp.t.Errorf("%s: CloseWrite: %v", p.name, err)
		}
		p.finQueued = true
	}
	c.Output()
	if !p.closed && p.eof && p.finQueued && p.acked == p.send {
		if err := c.Close(); err != nil {
			p.tp.t.Errorf("%s: Close: %v", p.name, err)
		}
		p.closed, p.done = true, p.tp.clk.Now()
	}
}

func (p *lwConn) opened(c tcp.Conn) {
	p.established = true
	p.info = c.Info()
	c.SetPollInterval(50 * clock.Millisecond) // retry writes the pool refused
}

// Connected implements tcp.Handler.
func (p *lwConn) Connected(c tcp.Conn, err error) error {
	p.opened(c)
	p.pump(c)
	return nil
}

// Recv implements tcp.Handler.
func (p *lwConn) Recv(c tcp.Conn, b *pbuf.Buf, err error) error {
	if b == nil {
		if p.eof {
			p.tp.t.Errorf("%s: second end of stream", p.name)
		}
		p.eof = true
		p.pump(c)
		return nil
	}
	if p.eof {
		p.tp.t.Errorf("%s: %d bytes after end of stream", p.name, b.Len())
	}
	p.rx.add(b.Bytes())
	c.Recved(b.Len())
	b.Free()
	return nil
}

// Sent implements tcp.Handler.
func (p *lwConn) Sent(c tcp.Conn, n int) error {
	p.acked += int64(n)
	p.pump(c)
	return nil
}

// Poll implements tcp.Handler.
func (p *lwConn) Poll(c tcp.Conn) error {
	p.pump(c)
	return nil
}

// Err implements tcp.Handler: ErrClosed after everything is done is the
// normal end of a connection whose LAST-ACK completed before Close.
func (p *lwConn) Err(c tcp.Conn, err error) {
	if errors.Is(err, errs.ErrClosed) && p.eof && p.finQueued && p.acked == p.send {
		p.closed, p.done = true, p.tp.clk.Now()
		return
	}
	p.err = err
}

// gvConn is a gVisor connection end: a gonet.TCPConn with a reader and a
// writer goroutine, doing what a flow says.
type gvConn struct {
	tp   *tcpPair
	name string
	ep   tcpip.Endpoint
	conn *gonet.TCPConn
	flow

	inRead, inWrite     atomic.Bool
	waiting             atomic.Bool // the writer waits for a writable notification
	writes, timeouts    atomic.Int64
	notified            <-chan struct{} // writable notifications, registered for the whole connection
	readDone, writeDone atomic.Bool
	eofCh               chan struct{}
	txSum               [32]byte // valid once writeDone
	rx                  *checker // owned by the reader; read once readDone
	readErr, writeErr   error
	start               clock.Time
}

// startGVConn wraps an established gVisor endpoint in a gonet.TCPConn and
// starts its goroutines.
func (tp *tcpPair) startGVConn(name string, ep tcpip.Endpoint, wq *waiter.Queue, f flow) *gvConn {
	c := &gvConn{tp: tp, name: name, ep: ep, conn: gonet.NewTCPConn(wq, ep), flow: f,
		eofCh: make(chan struct{}), rx: newChecker(f.recvSeed), start: tp.clk.Now()}
	entry, notified := waiter.NewChannelEntry(waiter.WritableEvents | waiter.EventErr | waiter.EventHUp)
	wq.EventRegister(&entry)
	c.notified = notified
	tp.apps = append(tp.apps, c)
	tp.closers = append(tp.closers, func() { c.conn.Close(); wq.EventUnregister(&entry) })
	tp.wg.Add(2)
	go c.reader()
	go c.writer()
	return c
}

func (c *gvConn) reader() {
	defer c.tp.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		c.inRead.Store(true)
		n, err := c.conn.Read(buf)
		c.inRead.Store(false)
		c.rx.add(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			c.readErr = err
			c.tp.appErr("%s: read after %d bytes: %v", c.name, c.rx.n, err)
			break
		}
	}
	c.readDone.Store(true)
	close(c.eofCh)
}

// writer writes the flow through gonet. gVisor wakes blocked writers only
// once half the send buffer is free, while Readiness reports writable as
// soon as one byte is: a writer blocked inside gonet's Write cannot be told
// from one about to write. So each Write gets a short wall-clock deadline,
// and between Writes the writer waits for gVisor's writable notification on
// an entry of its own, where idle can see it.
func (c *gvConn) writer() {
	defer c.tp.wg.Done()
	if c.sendAfterEOF {
		<-c.eofCh
	}
	g, h := newGen(c.sendSeed), sha256.New()
	buf := make([]byte, 64<<10)
	for left := c.send; left > 0 && c.writeErr == nil; {
		n := int(min(left, int64(len(buf))))
		g.Fill(buf[:n])
		h.Write(buf[:n])
		left -= int64(n)
		for off := 0; off < n; {
			c.conn.SetWriteDeadline(time.Now().Add(writeSlice))
			c.inWrite.Store(true)
			k, err := c.conn.Write(buf[off:n])
			c.writes.Add(1)
			off += k
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// The deadline may also have passed before Write looked at
				// the buffer (a descheduled goroutine): wait only while it
				// is full, when a notification is sure to come once half of
				// it drains.
				c.timeouts.Add(1)
				c.waiting.Store(true)
				c.inWrite.Store(false)
				if !ready(c.ep, waiter.WritableEvents|waiter.EventErr|waiter.EventHUp) {
					<-c.notified
				}
				c.waiting.Store(false)
				continue
			}
			c.inWrite.Store(false)
			if err != nil {
				c.writeErr = err
				c.tp.appErr("%s: write with %d bytes left: %v", c.name, left+int64(n-off), err)
				break
			}
		}
	}
	if c.writeErr == nil {
		if err := c.conn.CloseWrite(); err != nil {
			c.writeErr = err
			c.tp.appErr("%s: CloseWrite: %v", c.name, err)
		}
	}
	copy(c.txSum[:], h.Sum(nil))
	c.writeDone.Store(true)
}

// writeSlice bounds how long the writer stays inside one gonet Write.
const writeSlice = time.Millisecond

// idle: each goroutine is done, or blocked with nothing it could do: the
// reader inside Read with nothing readable, the writer waiting for the
// peer's FIN or for a writable notification that has not come.
func (c *gvConn) idle() bool {
	readIdle := c.readDone.Load() || c.inRead.Load() && !ready(c.ep, waiter.ReadableEvents)
	writeIdle := c.writeDone.Load() ||
		c.sendAfterEOF && !c.readDone.Load() && !c.inWrite.Load() && !c.waiting.Load() ||
		c.waiting.Load() && len(c.notified) == 0
	return readIdle && writeIdle
}

func (c *gvConn) finished() bool { return c.readDone.Load() && c.writeDone.Load() }

func (c *gvConn) describe() string {
	return fmt.Sprintf("gVisor %s: read %d bytes, done=%v (in Read %v); write done=%v (in Write %v, %d writes, %d timeouts, waiting %v, notified %d, writable %v); state %v",
		c.name, c.rx.n, c.readDone.Load(), c.inRead.Load(), c.writeDone.Load(), c.inWrite.Load(), c.writes.Load(), c.timeouts.Load(), c.waiting.Load(),
		len(c.notified), ready(c.ep, waiter.WritableEvents), gvtcp.EndpointState(c.ep.State()))
}

// gvListener is a gVisor listening endpoint whose connections the test
// goroutine accepts (in a step hook) and hands to gonet.
type gvListener struct {
	tp *tcpPair
	ep tcpip.Endpoint
	wq waiter.Queue
}

func (l *gvListener) ready() bool { return ready(l.ep, waiter.ReadableEvents) }

// gvListen makes gVisor listen on port; accept returns the flow of each
// connection from its remote port, and receives its gvConn.
func (tp *tcpPair) gvListen(port uint16, backlog int, accept func(remote uint16) (string, flow, func(*gvConn))) *gvListener {
	tp.t.Helper()
	l := &gvListener{tp: tp}
	ep, err := tp.gv.NewEndpoint(gvtcp.ProtocolNumber, ipv4.ProtocolNumber, &l.wq)
	if err != nil {
		tp.t.Fatalf("gVisor NewEndpoint(TCP): %v", err)
	}
	l.ep = ep
	tp.closers = append(tp.closers, ep.Close)
	if err := ep.Bind(tcpip.FullAddress{NIC: gvNIC, Addr: gvAddrOf(gvAddr), Port: port}); err != nil {
		tp.t.Fatalf("gVisor Bind(%d): %v", port, err)
	}
	if err := ep.Listen(backlog); err != nil {
		tp.t.Fatalf("gVisor Listen: %v", err)
	}
	tp.hookApps = append(tp.hookApps, l)
	tp.hooks = append(tp.hooks, func() {
		for {
			n, wq, err := ep.Accept(nil)
			if err != nil {
				if _, ok := err.(*tcpip.ErrWouldBlock); !ok {
					tp.t.Errorf("gVisor Accept: %v", err)
				}
				return
			}
			ra, err := n.GetRemoteAddress()
			if err != nil {
				tp.t.Errorf("gVisor accepted endpoint without a remote address: %v", err)
				n.Close()
				continue
			}
			name, f, got := accept(ra.Port)
			c := tp.startGVConn(name, n, wq, f)
			if got != nil {
				got(c)
			}
		}
	})
	return l
}

// gvDialer is a gVisor endpoint connecting to lwgo; a step hook wraps it in
// gonet once connected, or records the error.
type gvDialer struct {
	ep    tcpip.Endpoint
	wq    waiter.Queue
	port  uint16 // local port
	conn  *gvConn
	err   tcpip.Error
	ended bool
}

func (d *gvDialer) ready() bool {
	return !d.ended && ready(d.ep, waiter.WritableEvents|waiter.EventErr|waiter.EventHUp)
}

// gvDial starts a connection from gVisor to lwgo's port; once it is
// established, it runs f as name.
func (tp *tcpPair) gvDial(port uint16, name string, f flow) *gvDialer {
	tp.t.Helper()
	d := &gvDialer{}
	ep, err := tp.gv.NewEndpoint(gvtcp.ProtocolNumber, ipv4.ProtocolNumber, &d.wq)
	if err != nil {
		tp.t.Fatalf("gVisor NewEndpoint(TCP): %v", err)
	}
	d.ep = ep
	tp.closers = append(tp.closers, ep.Close)
	err = ep.Connect(tcpip.FullAddress{NIC: gvNIC, Addr: gvAddrOf(lwAddr), Port: port})
	if _, ok := err.(*tcpip.ErrConnectStarted); !ok {
		tp.t.Fatalf("gVisor Connect: %v, want ErrConnectStarted", err)
	}
	la, lerr := ep.GetLocalAddress()
	if lerr != nil {
		tp.t.Fatalf("gVisor GetLocalAddress: %v", lerr)
	}
	d.port = la.Port
	tp.hookApps = append(tp.hookApps, d)
	tp.hooks = append(tp.hooks, func() {
		if !d.ready() {
			return
		}
		d.ended = true
		if err := d.ep.LastError(); err != nil {
			d.err = err
			return
		}
		d.conn = tp.startGVConn(name, d.ep, &d.wq, f)
	})
	return d
}

// lwListen makes lwgo listen on port; accept returns the lwConn for each
// connection from its remote port.
func (tp *tcpPair) lwListen(port uint16, backlog int, accept func(remote uint16) *lwConn) tcp.Listener {
	tp.t.Helper()
	lc, err := tp.lw.NewTCP()
	if err != nil {
		tp.t.Fatalf("lwgo NewTCP: %v", err)
	}
	if err := lc.Bind(netip.Addr{}, port); err != nil {
		tp.t.Fatalf("lwgo Bind(%d): %v", port, err)
	}
	ln, err := lc.Listen(backlog)
	if err != nil {
		tp.t.Fatalf("lwgo Listen: %v", err)
	}
	ln.SetAcceptor(tcp.AcceptFunc(func(l tcp.Listener, c tcp.Conn, err error) error {
		if err != nil {
			tp.t.Errorf("lwgo accept: %v", err)
			return err
		}
		p := accept(c.RemoteAddr().Port())
		if p == nil {
			tp.t.Errorf("lwgo accepted an unexpected connection from %v", c.RemoteAddr())
			return errs.ErrVal
		}
		p.c, p.start = c, tp.clk.Now()
		if err := c.SetHandler(p); err != nil {
			return err
		}
		p.opened(c)
		p.pump(c)
		return nil
	}))
	return ln
}

// lwDial opens a connection from lwgo to gVisor's port run by p and
// returns its local port.
func (tp *tcpPair) lwDial(port uint16, p *lwConn) uint16 {
	tp.t.Helper()
	c, err := tp.lw.NewTCP()
	if err != nil {
		tp.t.Fatalf("lwgo NewTCP: %v", err)
	}
	p.c, p.start = c, tp.clk.Now()
	if err := c.SetHandler(p); err != nil {
		tp.t.Fatalf("lwgo SetHandler: %v", err)
	}
	if err := c.Connect(netip.AddrPortFrom(gvAddr, port)); err != nil {
		tp.t.Fatalf("lwgo Connect: %v", err)
	}
	return c.LocalAddr().Port()
}

// checkExchange checks both directions of a finished lwgo–gVisor
// connection: counts, byte-for-byte content and SHA-256 at both ends.
func checkExchange(t testing.TB, lw *lwConn, gv *gvConn) {
	t.Helper()
	if lw.err != nil {
		t.Errorf("%s: %v", lw.name, lw.err)
	}
	if lw.written != lw.send || lw.acked != lw.send || gv.rx.n != lw.send || gv.rx.badAt >= 0 {
		t.Errorf("lwgo → gVisor (%s): wrote %d, acked %d, gVisor read %d (first wrong byte %d), want %d",
			lw.name, lw.written, lw.acked, gv.rx.n, gv.rx.badAt, lw.send)
	}
	if tx, rx := lw.txHash.Sum(nil), gv.rx.h.Sum(nil); string(tx) != string(rx) {
		t.Errorf("lwgo → gVisor (%s): SHA-256 sent %x, received %x", lw.name, tx, rx)
	}
	if lw.rx.n != gv.send || lw.rx.badAt >= 0 {
		t.Errorf("gVisor → lwgo (%s): lwgo received %d bytes (first wrong byte %d), want %d", lw.name, lw.rx.n, lw.rx.badAt, gv.send)
	}
	if tx, rx := gv.txSum[:], lw.rx.h.Sum(nil); string(tx) != string(rx) {
		t.Errorf("gVisor → lwgo (%s): SHA-256 sent %x, received %x", lw.name, tx, rx)
	}
}

// gvStacks returns the stacks of the goroutines running gonet, for
// failures in which a gVisor-side goroutine never settles.
func gvStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var b strings.Builder
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "gonet") {
			b.WriteString(g)
			b.WriteString("\n\n")
		}
	}
	return b.String()
}

// ready reports whether ep is ready for any event in mask. gVisor's
// Readiness can report events outside the mask (EventRdHUp once the peer's
// FIN is in), so the result is masked.
func ready(ep tcpip.Endpoint, mask waiter.EventMask) bool { return ep.Readiness(mask)&mask != 0 }
