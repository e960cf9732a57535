package netsim

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/lwgo/lwgo/test/internal/stream"
	"hash"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

// The wire: stack A at .1, stack B at .2 of 198.18.0.0/24 (RFC 2544
// benchmarking space), the pipe's default MACs, Ethernet MTU.
var (
	addrA = netip.MustParseAddr("198.18.0.1")
	addrB = netip.MustParseAddr("198.18.0.2")
)

const (
	// tick is the virtual time one round of polls takes while frames are on
	// the wire: the bare wire's one-way latency.
	tick = 10 * rawapi.Microsecond
	// wallLimit bounds the wall time of one sim, race detector included, so
	// that a livelock fails instead of hanging.
	wallLimit = 5 * time.Minute
	// stallRounds is how many rounds in a row may pass with no frame on the
	// wire, none held by a fault wrapper and no timer armed before the sim
	// declares that nothing can ever happen again.
	stallRounds = 1000
	// serverPort is where B listens.
	serverPort = 5001
)

// heavy reports whether the full-size cases run: not with -short, not under
// the race detector (which slows the stacks down tenfold).
func heavy() bool { return !testing.Short() && !raceEnabled }

// simConfig sets up a sim.
type simConfig struct {
	// stack configures both stacks (Seed is set per stack).
	stack rawapi.Config
	// ab impairs A→B (it wraps A's end of the pipe), ba impairs B→A. The
	// zero fault.Config impairs nothing. MaxHeld defaults to 4096 here.
	ab, ba fault.Config
	// queueLen is the pipe's slots per direction (default 1024).
	queueLen int
	// dropAB and dropBA, if set, drop the TCP segments they return true
	// for, A→B and B→A, after the fault wrappers; rel is the segment's
	// sequence number relative to its sender's ISN (1: the first data byte).
	dropAB, dropBA func(seg segment, rel uint32) bool
}

// sim is two lwgo stacks on a pipe, with one manual clock, polled from the
// test goroutine.
type sim struct {
	t       testing.TB
	clk     rawapi.ManualClock
	a, b    *rawapi.Stack
	na, nb  *rawapi.Netif
	ea, eb  *pipe.End
	fa, fb  *fault.Device
	ta, tb  *tap // what each stack sends, before its fault wrapper
	wa, wb  *tap // what reaches the wire, after it
	cfg     simConfig
	wall    time.Time // wall-clock deadline
	rounds  int       // rounds of polls so far
	stalled int       // consecutive rounds with nothing on the wire or armed
	scratch []byte    // what senders generate into; Write copies it

	peers          []*peer // every connection end, in creation order
	open, peakOpen int     // connection ends established and not finished
}

// newSim builds both stacks, wraps each end of the pipe in its fault
// wrapper, brings both interfaces up and pins each stack's neighbour in its
// ARP cache, so that a burst of first packets does not overflow the ARP
// queue (ARPQueueLen) and wait a second for a retransmission.
func newSim(t testing.TB, cfg simConfig) *sim {
	t.Helper()
	if cfg.queueLen == 0 {
		cfg.queueLen = 1024
	}
	for _, f := range []*fault.Config{&cfg.ab, &cfg.ba} {
		if f.MaxHeld == 0 {
			f.MaxHeld = 4096
		}
	}
	s := &sim{t: t, cfg: cfg, wall: time.Now().Add(wallLimit), scratch: make([]byte, 64<<10)}
	s.ea, s.eb = pipe.New(pipe.Config{QueueLen: cfg.queueLen})
	trace := *traceFlag >= 0
	s.wa = &tap{Device: s.ea, s: s, name: "A→B", trace: trace, drop: cfg.dropAB}
	s.wb = &tap{Device: s.eb, s: s, name: "B→A", trace: trace, drop: cfg.dropBA}
	s.fa = fault.New(s.wa, &s.clk, cfg.ab)
	s.fb = fault.New(s.wb, &s.clk, cfg.ba)
	s.ta = &tap{Device: s.fa, s: s, name: "A sends", trace: trace}
	s.tb = &tap{Device: s.fb, s: s, name: "B sends", trace: trace}
	sc := cfg.stack
	sc.Seed = 0x5eed_a
	sc.TCP.ISNSecret = [16]byte{'n', 'e', 't', 's', 'i', 'm', '-', 'A'}
	s.a = rawapi.New(sc)
	sc.Seed = 0x5eed_b
	sc.TCP.ISNSecret = [16]byte{'n', 'e', 't', 's', 'i', 'm', '-', 'B'}
	s.b = rawapi.New(sc)
	var err error
	if s.na, err = s.a.AddNetif(s.ta, rawapi.NetifConfig{Name: "a0", Addr: netip.PrefixFrom(addrA, 24)}); err != nil {
		t.Fatalf("A AddNetif: %v", err)
	}
	if s.nb, err = s.b.AddNetif(s.tb, rawapi.NetifConfig{Name: "b0", Addr: netip.PrefixFrom(addrB, 24)}); err != nil {
		t.Fatalf("B AddNetif: %v", err)
	}
	if err := s.a.AddStaticARP(s.na, addrB, s.eb.HardwareAddr()); err != nil {
		t.Fatalf("A AddStaticARP: %v", err)
	}
	if err := s.b.AddStaticARP(s.nb, addrA, s.ea.HardwareAddr()); err != nil {
		t.Fatalf("B AddStaticARP: %v", err)
	}
	s.a.SetUp(s.na)
	s.b.SetUp(s.nb)
	return s
}

// poll polls both stacks once and returns the earliest deadline of either
// stack or fault wrapper.
func (s *sim) poll() rawapi.Time {
	now := s.clk.Now()
	next := rawapi.Never
	if d := s.a.Poll(now); d < next {
		next = d
	}
	if d := s.b.Poll(now); d < next {
		next = d
	}
	for _, f := range []*fault.Device{s.fa, s.fb} {
		if d := f.NextDeadline(); d < next {
			next = d
		}
	}
	s.rounds++
	return next
}

// advance moves the clock after a poll: by one tick while frames are on
// the wire or work is left over, otherwise straight to next, or to idleTo
// if that comes first. Nothing armed and no idleTo ahead is a stall.
func (s *sim) advance(next, idleTo rawapi.Time) {
	now := s.clk.Now()
	busy := s.ea.Pending() > 0 || s.eb.Pending() > 0 || next <= now
	if idleTo > now && idleTo < next {
		next = idleTo
	}
	switch {
	case busy:
		s.stalled = 0
		s.clk.Advance(tick)
	case next != rawapi.Never:
		s.stalled = 0
		s.clk.Set(max(next, now.Add(tick)))
	default:
		s.stalled++
		s.clk.Advance(tick)
	}
}

// run polls until done reports true after a poll. It fails the test when
// limit of virtual time has passed, when nothing is on the wire and no
// timer is armed for stallRounds rounds, or at the wall-clock deadline, so
// a lost packet or a livelock never hangs the test.
func (s *sim) run(what string, limit rawapi.Duration, done func() bool) {
	s.t.Helper()
	s.runIdle(what, limit, 0, done)
}

// runIdle is run, except that when nothing is armed the clock jumps to
// idleTo instead of counting a stall.
func (s *sim) runIdle(what string, limit rawapi.Duration, idleTo rawapi.Time, done func() bool) {
	s.t.Helper()
	end := s.clk.Now().Add(limit)
	for {
		next := s.poll()
		if done() {
			return
		}
		if s.t.Failed() {
			s.t.FailNow()
		}
		if s.clk.Now() > end {
			s.t.Fatalf("%s: not done after %v of virtual time\n%s", what, time.Duration(limit), s.dump())
		}
		if s.stalled > stallRounds {
			s.t.Fatalf("%s: stalled: no frame on the wire, none held, no timer armed\n%s", what, s.dump())
		}
		if s.rounds%4096 == 0 && time.Now().After(s.wall) {
			s.t.Fatalf("%s: wall-clock limit %v passed\n%s", what, wallLimit, s.dump())
		}
		s.advance(next, idleTo)
	}
}

// runFor polls for d of virtual time.
func (s *sim) runFor(d rawapi.Duration) {
	s.t.Helper()
	end := s.clk.Now().Add(d)
	s.runIdle(fmt.Sprintf("running for %v", time.Duration(d)), d+rawapi.Second, end, func() bool { return s.clk.Now() >= end })
}

// dump describes both stacks, both wires and the unfinished connections
// for failure messages.
func (s *sim) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "virtual %v after %d rounds\n", time.Duration(s.clk.Now()), s.rounds)
	for _, x := range []struct {
		name string
		st   *rawapi.Stack
		e    *pipe.End
		f    *fault.Device
	}{{"A", s.a, s.ea, s.fa}, {"B", s.b, s.eb, s.fb}} {
		fmt.Fprintf(&b, "%s: pool %d/%d free, pipe %+v\n   fault %+v held=%d\n   tcp %+v\n   %s\n",
			x.name, x.st.Pool().Available(), x.st.Pool().Cap(), x.e.Stats(), x.f.Stats(), x.f.Held(),
			x.st.TCPStats(), strings.ReplaceAll(statsString(x.st), "\n", "\n   "))
	}
	unfinished := 0
	for _, p := range s.peers {
		if !p.finished() {
			if unfinished < 8 {
				fmt.Fprintf(&b, "unfinished: %s\n", p.describe())
			}
			unfinished++
		}
	}
	if unfinished > 0 {
		fmt.Fprintf(&b, "%d of %d connection ends unfinished\n", unfinished, len(s.peers))
	}
	return b.String()
}

// finish lets every TIME-WAIT record expire, then checks that both stacks
// have every packet buffer back and can open Config.TCP.MaxPCBs
// connections again (no connection slot leaked).
func (s *sim) finish() {
	s.t.Helper()
	tw := max(s.a.Config().TCP.TimeWait, s.b.Config().TCP.TimeWait)
	if tw == 0 {
		tw = 60 * rawapi.Second
	}
	s.runFor(tw + 2*rawapi.Second)
	for _, x := range []struct {
		name string
		st   *rawapi.Stack
		f    *fault.Device
	}{{"A", s.a, s.fa}, {"B", s.b, s.fb}} {
		if n := x.f.Held(); n != 0 {
			s.t.Errorf("%s's fault wrapper still holds %d frames", x.name, n)
		}
		if n := x.st.Stats().IPDrop.FragDF; n != 0 {
			s.t.Errorf("%s: IP dropped %d datagrams larger than the MTU with DF set: TCP segments too large for the MTU", x.name, n)
		}
		if pl := x.st.Pool(); pl.Available() != pl.Cap() {
			s.t.Errorf("%s: %d of %d packet buffers free after TIME-WAIT (leak)\n%s", x.name, pl.Available(), pl.Cap(), s.dump())
		}
		maxPCBs := x.st.Config().TCP.MaxPCBs
		if maxPCBs == 0 {
			maxPCBs = 128
		}
		conns := make([]rawapi.TCP, 0, maxPCBs)
		for i := range maxPCBs {
			c, err := x.st.NewTCP()
			if err != nil {
				s.t.Errorf("%s: NewTCP #%d of MaxPCBs=%d after TIME-WAIT: %v (connection slots leaked)", x.name, i, maxPCBs, err)
				break
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if st := x.st.TCPStats(); st.TimeWaitRecycled != 0 {
			s.t.Errorf("%s: %d TIME-WAIT records recycled early: MaxTimeWait too small for the test", x.name, st.TimeWaitRecycled)
		}
	}
}

// checkClean checks that nothing was lost anywhere: no fault configured, no
// pipe drop, no retransmission, no checksum error.
func (s *sim) checkClean() {
	s.t.Helper()
	for _, x := range []struct {
		name string
		st   *rawapi.Stack
		e    *pipe.End
	}{{"A", s.a, s.ea}, {"B", s.b, s.eb}} {
		ps := x.e.Stats()
		if ps.DroppedFull+ps.DroppedNoBuf+ps.DroppedOversize+ps.DroppedLinkDown != 0 {
			s.t.Errorf("%s: pipe dropped frames on a clean link: %+v", x.name, ps)
		}
		ts := x.st.TCPStats()
		if ts.Retransmits != 0 || ts.Timeouts != 0 || ts.ChkErr != 0 || ts.RSTsSent != 0 || ts.Resets != 0 {
			s.t.Errorf("%s: retransmits=%d timeouts=%d chkerr=%d rsts-sent=%d resets=%d on a clean link\n%+v",
				x.name, ts.Retransmits, ts.Timeouts, ts.ChkErr, ts.RSTsSent, ts.Resets, ts)
		}
	}
}

// listen makes B listen on serverPort; accept returns the peer that takes
// each connection.
func (s *sim) listen(backlog int, accept func(c rawapi.TCP) *peer) rawapi.TCPListener {
	s.t.Helper()
	lc, err := s.b.NewTCP()
	if err != nil {
		s.t.Fatalf("B NewTCP: %v", err)
	}
	if err := lc.Bind(netip.Addr{}, serverPort); err != nil {
		s.t.Fatalf("B Bind: %v", err)
	}
	ln, err := lc.Listen(backlog)
	if err != nil {
		s.t.Fatalf("B Listen: %v", err)
	}
	ln.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
		if err != nil {
			s.t.Errorf("B accept: %v", err)
			return err
		}
		p := accept(c)
		if p == nil {
			s.t.Errorf("B accepted an unexpected connection from %v", c.RemoteAddr())
			return rawapi.ErrVal
		}
		p.c = c
		p.start = s.clk.Now()
		if err := c.SetHandler(p); err != nil {
			return err
		}
		p.established(c)
		p.pump(c)
		return nil
	}))
	return ln
}

// dial opens a connection from A to B's serverPort with p as its handler
// and returns the local port.
func (s *sim) dial(p *peer) uint16 {
	s.t.Helper()
	c, err := s.a.NewTCP()
	if err != nil {
		s.t.Fatalf("A NewTCP: %v", err)
	}
	p.c = c
	p.start = s.clk.Now()
	if err := c.SetHandler(p); err != nil {
		s.t.Fatalf("A SetHandler: %v", err)
	}
	if err := c.Connect(netip.AddrPortFrom(addrB, serverPort)); err != nil {
		s.t.Fatalf("A Connect: %v", err)
	}
	return c.LocalAddr().Port()
}

// gen is the deterministic byte stream of test/internal/stream: each end
// can produce or check any length in any pieces.
type gen = stream.Gen

func newGen(seed uint64) gen { return *stream.New(seed) }

// flow is what one end sends and what it expects to receive.
type flow struct {
	send, recv         int64  // bytes
	sendSeed, recvSeed uint64 // streams
	// sendAfterEOF holds this end's data until the peer's FIN: the
	// request/response pattern, in which the peer closes first.
	sendAfterEOF bool
}

// peer is one end of a connection: it writes flow.send bytes as the send
// buffer allows (SendBuffer, never more), then closes its direction; it
// checks every received byte against the expected stream, and closes the
// connection once it has seen end of stream and all its data is
// acknowledged. Both ends hash what they send and receive (SHA-256).
type peer struct {
	s    *sim
	name string
	c    rawapi.TCP
	flow

	tx, rx         gen
	txHash, rxHash hash.Hash
	written, acked int64
	rcvd           int64
	badAt          int64 // offset of the first wrong byte received, or -1
	finQueued, eof bool
	closed         bool // Close called, or the stack closed it after LAST-ACK
	isOpen         bool // counted in sim.open
	err            error
	info           rawapi.TCPInfo // at establishment
	// pollEvery, if set, makes the stack call Poll that often, and Poll
	// retries the writes: a connection with nothing in flight gets no Sent
	// callback, so when the pool left it no send buffer it must retry on
	// its own (lwIP applications use tcp_poll for this).
	pollEvery rawapi.Duration
	// hold keeps pump from writing until the test clears it.
	hold        bool
	start, done rawapi.Time
}

func (s *sim) newPeer(name string, f flow) *peer {
	p := &peer{s: s, name: name, flow: f, tx: newGen(f.sendSeed), rx: newGen(f.recvSeed),
		txHash: sha256.New(), rxHash: sha256.New(), badAt: -1}
	s.peers = append(s.peers, p)
	return p
}

func (p *peer) finished() bool { return p.closed || p.err != nil }

func (p *peer) describe() string {
	return fmt.Sprintf("%s: %v, wrote %d/%d acked %d, received %d/%d eof=%v fin=%v closed=%v err=%v info=%+v",
		p.name, p.c.LocalAddr(), p.written, p.send, p.acked, p.rcvd, p.recv, p.eof, p.finQueued, p.closed, p.err, p.c.Info())
}

// pump writes what the send buffer takes, queues the FIN after the last
// byte, and closes when everything is done.
func (p *peer) pump(c rawapi.TCP) {
	if p.closed || p.hold || (p.sendAfterEOF && !p.eof) {
		return
	}
	for p.written < p.send {
		n := int(min(int64(c.SendBuffer()), int64(len(p.s.scratch)), p.send-p.written))
		if n <= 0 {
			break
		}
		buf := p.s.scratch[:n]
		p.tx.Fill(buf)
		if err := c.Write(buf, 0); err != nil {
			p.s.t.Errorf("%s: Write of %d bytes, no more than SendBuffer, failed: %v", p.name, n, err)
			return
		}
		p.txHash.Write(buf)
		p.written += int64(n)
	}
	if p.written == p.send && !p.finQueued {
		if err := c.CloseWrite(); err != nil {
			p.s.t.Errorf("%s: CloseWrite: %v", p.name, err)
		}
		p.finQueued = true
	}
	if err := c.Output(); err != nil {
		p.s.t.Errorf("%s: Output: %v", p.name, err)
	}
	p.maybeClose(c)
}

// allDone: end of stream seen, all data written and acknowledged, FIN queued.
func (p *peer) allDone() bool { return p.eof && p.finQueued && p.acked == p.send }

func (p *peer) maybeClose(c rawapi.TCP) {
	if p.closed || !p.allDone() {
		return
	}
	if err := c.Close(); err != nil {
		p.s.t.Errorf("%s: Close: %v", p.name, err)
	}
	p.setClosed()
}

func (p *peer) setClosed() {
	p.closed = true
	p.done = p.s.clk.Now()
	p.leave()
}

func (p *peer) leave() {
	if p.isOpen {
		p.isOpen = false
		p.s.open--
	}
}

// Connected implements rawapi.TCPHandler.
func (p *peer) Connected(c rawapi.TCP, err error) error {
	if err != nil {
		p.s.t.Errorf("%s: Connected with %v", p.name, err)
		return nil
	}
	p.established(c)
	p.pump(c)
	return nil
}

// Recv implements rawapi.TCPHandler.
func (p *peer) Recv(c rawapi.TCP, b *rawapi.Buf, err error) error {
	if err != nil {
		p.s.t.Errorf("%s: Recv with %v", p.name, err)
	}
	if b == nil {
		if p.eof {
			p.s.t.Errorf("%s: second end of stream", p.name)
		}
		p.eof = true
		if p.rcvd != p.recv {
			p.s.t.Errorf("%s: end of stream after %d bytes, want %d", p.name, p.rcvd, p.recv)
		}
		p.pump(c)
		return nil
	}
	data := b.Bytes()
	if p.eof {
		p.s.t.Errorf("%s: %d bytes after end of stream", p.name, len(data))
	}
	p.rxHash.Write(data)
	if p.badAt < 0 {
		want := p.s.scratch[:len(data)] // not in use: Recv never runs inside pump
		p.rx.Fill(want)
		for i := range data {
			if data[i] != want[i] {
				p.badAt = p.rcvd + int64(i)
				p.s.t.Errorf("%s: received byte %d is %#02x, want %#02x", p.name, p.badAt, data[i], want[i])
				break
			}
		}
	}
	p.rcvd += int64(len(data))
	if p.rcvd > p.recv {
		p.s.t.Errorf("%s: received %d bytes, more than the %d sent", p.name, p.rcvd, p.recv)
	}
	c.Recved(len(data))
	b.Free()
	return nil
}

// Sent implements rawapi.TCPHandler.
func (p *peer) Sent(c rawapi.TCP, n int) error {
	p.acked += int64(n)
	if p.acked > p.written {
		p.s.t.Errorf("%s: %d bytes acknowledged of %d written", p.name, p.acked, p.written)
	}
	p.pump(c)
	return nil
}

// Poll implements rawapi.TCPHandler.
func (p *peer) Poll(c rawapi.TCP) error {
	p.pump(c)
	return nil
}

// established records the negotiated options and arms the poll timer.
func (p *peer) established(c rawapi.TCP) {
	p.info = c.Info()
	p.isOpen = true
	p.s.open++
	p.s.peakOpen = max(p.s.peakOpen, p.s.open)
	if p.pollEvery > 0 {
		c.SetPollInterval(p.pollEvery)
	}
}

// Err implements rawapi.TCPHandler. ErrClosed after everything is done is
// the normal end of a connection whose LAST-ACK completed before Close.
func (p *peer) Err(c rawapi.TCP, err error) {
	if errors.Is(err, rawapi.ErrClosed) && p.allDone() {
		p.setClosed()
		return
	}
	p.err = err
	p.leave()
	p.s.t.Errorf("%s: connection lost: %v (%s)", p.name, err, p.describe())
}

// check verifies one connection after both ends finished: counts, hashes,
// and the virtual time it took against bound.
func checkPair(t testing.TB, cli, srv *peer, bound rawapi.Duration) rawapi.Duration {
	t.Helper()
	for _, x := range [2][2]*peer{{cli, srv}, {srv, cli}} {
		from, to := x[0], x[1]
		if from.written != from.send || from.acked != from.send || to.rcvd != from.send {
			t.Errorf("%s → %s: wrote %d, acked %d, received %d, want %d", from.name, to.name, from.written, from.acked, to.rcvd, from.send)
		}
		if tx, rx := from.txHash.Sum(nil), to.rxHash.Sum(nil); string(tx) != string(rx) {
			t.Errorf("%s → %s: SHA-256 sent %x, received %x", from.name, to.name, tx, rx)
		}
	}
	took := max(cli.done, srv.done).Sub(cli.start)
	if took > bound {
		t.Errorf("%s ↔ %s took %v of virtual time, bound %v", cli.name, srv.name, time.Duration(took), time.Duration(bound))
	}
	return took
}

func statsString(st *rawapi.Stack) string {
	s := st.Stats()
	return s.String()
}
