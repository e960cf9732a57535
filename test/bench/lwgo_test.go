package bench

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

// lwgoPair is two lwgo stacks on an in-memory wire, polled from one goroutine.
type lwgoPair struct {
	clk    rawapi.ManualClock
	a, b   *rawapi.Stack
	wa, wb *pipe.End
	polls  int64 // calls to poll: rounds of both stacks
}

var lwgoServer = netip.MustParseAddrPort("192.0.2.2:5001")

// lwgoQueueLen is the depth of each direction of the in-memory wire. The
// pipe copies every frame into a FIFO ring slot and out again, and its head
// walks the whole ring, so the ring's size is the working set of those two
// copies. With 4096 slots (6 MB per direction at MTU 1500) the copies miss
// the cache: lwgo-1500 bulk ran ~15% slower than with 256 slots (interleaved
// A/B, 4 runs each). 256 slots still hold the bulk loop's flight per poll
// (64 KiB, ~45 frames); the "drops" metric would show otherwise.
const lwgoQueueLen = 256

func newLwgoPair(tb testing.TB, mtu int) *lwgoPair {
	return newLwgoPairTCP(tb, mtu, rawapi.TCPConfig{MaxPCBs: 2048})
}

// newLwgoPairTCP is newLwgoPair with the TCP table sizes (MaxPCBs,
// MaxTimeWait, MaxListeners) taken from tc; buffer sizes and MSS are the
// suite's.
func newLwgoPairTCP(tb testing.TB, mtu int, tc rawapi.TCPConfig) *lwgoPair {
	tb.Helper()
	p := &lwgoPair{}
	p.wa, p.wb = pipe.New(pipe.Config{QueueLen: lwgoQueueLen, A: pipe.EndConfig{MTU: mtu}, B: pipe.EndConfig{MTU: mtu}})
	bufSize := 2048
	if mtu > 1500 {
		bufSize = mtu + 256
	}
	cfg := rawapi.Config{PoolBufs: 4096, PoolBufSize: bufSize, RxBudget: 4096}
	tc.SndBuf, tc.RcvBuf, tc.MSS = 1<<20, 1<<20, mtu-40
	cfg.TCP = tc
	cfg.Seed = 1
	p.a = rawapi.New(cfg)
	cfg.Seed = 2
	p.b = rawapi.New(cfg)
	na, err := p.a.AddNetif(p.wa, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.1/24")})
	if err != nil {
		tb.Fatal(err)
	}
	nb, err := p.b.AddNetif(p.wb, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.2/24")})
	if err != nil {
		tb.Fatal(err)
	}
	p.a.SetUp(na)
	p.b.SetUp(nb)
	return p
}

func (p *lwgoPair) poll() {
	p.polls++
	p.clk.Advance(10 * rawapi.Microsecond)
	p.a.Poll(p.clk.Now())
	p.b.Poll(p.clk.Now())
}

// pollUntil polls until cond holds, failing after a million polls (10 s of
// virtual time) so that a lost segment never hangs a benchmark.
func (p *lwgoPair) pollUntil(tb testing.TB, what string, cond func() bool) {
	for i := 0; !cond(); i++ {
		if i == 1_000_000 {
			tb.Fatalf("lwgo: %s: not done after %d polls", what, i)
		}
		p.poll()
	}
}

// settle polls until no frame is in flight on the wire: a poll delivers a's
// output to b and flushes b's, so an empty wire after a poll is quiet.
func (p *lwgoPair) settle() {
	for range 100 {
		p.poll()
		if p.wa.Pending() == 0 && p.wb.Pending() == 0 {
			return
		}
	}
}

// listen opens a listener on lwgoServer in stack b whose connections get h.
func (p *lwgoPair) listen(tb testing.TB, backlog int, h rawapi.TCPHandler, nodelay bool, accepted *int) {
	tb.Helper()
	lc, err := p.b.NewTCP()
	if err != nil {
		tb.Fatal(err)
	}
	if err := lc.Bind(netip.Addr{}, lwgoServer.Port()); err != nil {
		tb.Fatal(err)
	}
	ln, err := lc.Listen(backlog)
	if err != nil {
		tb.Fatal(err)
	}
	ln.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
		if err != nil {
			return err
		}
		c.SetNoDelay(nodelay)
		if accepted != nil {
			*accepted++
		}
		return c.SetHandler(h)
	}))
}

// dial opens a connection from stack a to lwgoServer; cl counts it in
// Connected.
func (p *lwgoPair) dial(tb testing.TB, cl *lwgoClient) rawapi.TCP {
	c, err := p.a.NewTCP()
	if err != nil {
		tb.Fatal(err)
	}
	c.SetHandler(cl)
	if err := c.Connect(lwgoServer); err != nil {
		tb.Fatal(err)
	}
	return c
}

// lwgoClient is the client side's handler, shared by all its connections:
// it counts connections completed, bytes received and errors.
type lwgoClient struct {
	rawapi.DefaultHandler
	connected int
	got       int64
	err       error
}

func (h *lwgoClient) Connected(c rawapi.TCP, err error) error {
	h.connected++
	return nil
}

func (h *lwgoClient) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return c.Close()
	}
	h.got += int64(p.Len())
	c.Recved(p.Len())
	p.Free()
	return nil
}

func (h *lwgoClient) Err(c rawapi.TCP, err error) { h.err = err }

// sink is a server that consumes everything and closes on end of stream.
type sink struct {
	rawapi.DefaultHandler
	n    int64
	eofs int
}

func (s *sink) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		s.eofs++
		return c.Close()
	}
	s.n += int64(p.Len())
	c.Recved(p.Len())
	p.Free()
	return nil
}

// echo is a server that sends back what it receives.
type echo struct{ rawapi.DefaultHandler }

func (echo) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return c.Close()
	}
	if err := c.Write(p.Bytes(), rawapi.WriteCopy); err != nil {
		return err // refused: offered again once the send buffer drains
	}
	c.Recved(p.Len())
	p.Free()
	return nil
}

// lwgoBulk sends r.n chunks of 64 KiB from a to b through one connection.
func lwgoBulk(r *iter, mtu int) {
	p := newLwgoPair(r, mtu)
	srv := &sink{}
	p.listen(r, 16, srv, false, nil)
	cl := &lwgoClient{}
	c := p.dial(r, cl)
	p.pollUntil(r, "connect", func() bool { return cl.connected == 1 })
	chunk := make([]byte, 64<<10)
	r.setBytes(int64(len(chunk)))
	r.reportAllocs()
	r.resetTimer()
	m := startMeter() // after ResetTimer, which allocates
	polls0 := p.polls
	var want int64
	for range r.n {
		for off := 0; off < len(chunk); {
			n := min(c.SendBuffer(), len(chunk)-off)
			if n > 0 {
				if err := c.Write(chunk[off:off+n], 0); err != nil {
					r.Fatal(err)
				}
				c.Output()
				off += n
			}
			p.poll()
		}
		want += int64(len(chunk))
	}
	p.pollUntil(r, "drain", func() bool { return srv.n >= want })
	r.stopTimer()
	r.reportBulk(m.stop(), want)
	st := p.a.TCPStats()
	r.report(float64(st.Retransmits), "rexmits")
	r.report(float64(st.Timeouts), "rtos")
	r.report(float64(p.wa.Stats().DroppedFull+p.wb.Stats().DroppedFull), "drops")
	r.report(float64(p.polls-polls0)/float64(r.n), "polls/op")
	if cl.err != nil {
		r.Fatal(cl.err)
	}
}

// lwgoRR64 runs r.n 64-byte request/response round trips against an echo
// server, Nagle off on both ends, delayed ACK as configured (40 ms: the
// ACKs ride on the next segment).
func lwgoRR64(r *iter) {
	p := newLwgoPair(r, 1500)
	p.listen(r, 16, echo{}, true, nil)
	cl := &lwgoClient{}
	c := p.dial(r, cl)
	c.SetNoDelay(true)
	p.pollUntil(r, "connect", func() bool { return cl.connected == 1 })
	req := make([]byte, 64)
	r.reportAllocs()
	r.resetTimer()
	m := startMeter() // after ResetTimer, which allocates
	for range r.n {
		want := cl.got + int64(len(req))
		if err := c.Write(req, 0); err != nil {
			r.Fatal(err)
		}
		c.Output()
		p.pollUntil(r, "response", func() bool { return cl.got >= want })
	}
	r.stopTimer()
	r.reportPerOp(m.stop(), r.n)
	if cl.err != nil {
		r.Fatal(cl.err)
	}
}

// lwgoConnect runs r.n serial connections: dial, accept, 1 byte from the
// client, close on both sides (the server closes at end of stream), until
// the wire is quiet.
func lwgoConnect(r *iter) {
	p := newLwgoPair(r, 1500)
	srv := &sink{}
	p.listen(r, 16, srv, false, nil)
	cl := &lwgoClient{}
	one := []byte{'x'}
	r.reportAllocs()
	r.resetTimer()
	m := startMeter() // after ResetTimer, which allocates
	for i := range r.n {
		c := p.dial(r, cl)
		p.pollUntil(r, "connect", func() bool { return cl.connected == i+1 })
		if err := c.Write(one, 0); err != nil {
			r.Fatal(err)
		}
		if err := c.Close(); err != nil {
			r.Fatal(err)
		}
		p.pollUntil(r, "server close", func() bool { return srv.eofs == i+1 })
		p.settle()
	}
	r.stopTimer()
	r.reportPerOp(m.stop(), r.n)
	if srv.n != int64(r.n) || cl.err != nil {
		r.Fatalf("lwgo connect: server got %d bytes of %d, client error %v", srv.n, r.n, cl.err)
	}
}

// lwgoConnMemory measures, for n idle established connections (both ends
// in this process):
//
//   - growth: the heap allocated while opening them into stacks sized for
//     them. lwgo preallocates its tables in New, so this should be ~0.
//   - prealloc: what sizing the stacks for n connections costs: the heap of
//     a pair with MaxPCBs = MaxTimeWait = n, less a pair sized for 1, per
//     connection (two PCBs, two TIME-WAIT records, the tuple tables).
//   - prealloc-noTW: the same with MaxTimeWait = 1, i.e. without the
//     TIME-WAIT records.
//
// The packet pool is the same in every pair and cancels out: an idle
// connection holds no buffer.
func lwgoConnMemory(r *iter, n int) {
	for range r.n {
		growth, gor := lwgoConnGrowth(r, n)
		r.report(growth, "growth-B/conn")
		r.report(gor, "goroutines/conn")
		h0 := heapInUse()
		full := newLwgoPairTCP(r, 1500, rawapi.TCPConfig{MaxPCBs: n, MaxTimeWait: n})
		h1 := heapInUse()
		runtime.KeepAlive(full)
		full = nil
		h2 := heapInUse()
		noTW := newLwgoPairTCP(r, 1500, rawapi.TCPConfig{MaxPCBs: n, MaxTimeWait: 1})
		h3 := heapInUse()
		runtime.KeepAlive(noTW)
		noTW = nil
		h4 := heapInUse()
		one := newLwgoPairTCP(r, 1500, rawapi.TCPConfig{MaxPCBs: 1, MaxTimeWait: 1})
		h5 := heapInUse()
		runtime.KeepAlive(one)
		base := float64(int64(h5) - int64(h4))
		r.report((float64(int64(h1)-int64(h0))-base)/float64(n), "prealloc-B/conn")
		r.report((float64(int64(h3)-int64(h2))-base)/float64(n), "prealloc-noTW-B/conn")
	}
}

// lwgoConnGrowth opens n connections into a pair sized for them and
// returns the heap growth and the goroutines started, per connection.
func lwgoConnGrowth(r *iter, n int) (float64, float64) {
	p := newLwgoPairTCP(r, 1500, rawapi.TCPConfig{MaxPCBs: n + 8})
	accepted := 0
	srv := &sink{}
	p.listen(r, 1024, srv, false, &accepted)
	cl := &lwgoClient{}
	conns := make([]rawapi.TCP, 0, n+1)
	conns = append(conns, p.dial(r, cl)) // warm-up, not counted
	p.pollUntil(r, "warm-up", func() bool { return accepted == 1 && cl.connected == 1 })
	p.settle()
	before, g0 := heapInUse(), runtime.NumGoroutine()
	for len(conns) < n+1 {
		for range min(64, n+1-len(conns)) {
			conns = append(conns, p.dial(r, cl))
		}
		p.pollUntil(r, "accept", func() bool { return accepted == len(conns) && cl.connected == len(conns) })
	}
	p.settle()
	after, g1 := heapInUse(), runtime.NumGoroutine()
	for _, c := range conns {
		if !c.IsValid() {
			r.Fatal("lwgo: a connection died while idle")
		}
	}
	runtime.KeepAlive(p)
	return float64(int64(after)-int64(before)) / float64(n), float64(g1-g0) / float64(n)
}
