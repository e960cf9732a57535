package bench

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/platform/hosted"
	"github.com/lwgo/lwgo/rawapi"
)

// The two-goroutine harness: each lwgo stack runs on its own goroutine, as
// two hosts (or a hypervisor and its guest) would, joined by a
// goroutine-safe in-memory link, like gVisor's channel link with one pump
// goroutine per direction. It uses both cores, as gVisor's harness does.

// xring is one direction of the link: preallocated frame slots under a
// mutex, and a wake channel for the receiving side.
type xring struct {
	mu    sync.Mutex
	slots [][]byte // each cap MaxFrame
	lens  []int
	head  int
	n     int
	wake  chan struct{}
	drops atomic.Int64
}

func newXring(n, frame int) *xring {
	r := &xring{slots: make([][]byte, n), lens: make([]int, n), wake: make(chan struct{}, 1)}
	for i := range r.slots {
		r.slots[i] = make([]byte, frame)
	}
	return r
}

// xend is one end of the link: a netif.Device.
type xend struct {
	mac     rawapi.MAC
	mtu     int
	in, out *xring
	timer   *time.Timer // reused by wait: no allocation per wait
}

func (e *xend) Receive(pool *rawapi.Pool, dst []*rawapi.Buf) int {
	r := e.in
	k := 0
	r.mu.Lock()
	for k < len(dst) && r.n > 0 {
		b, err := pool.Alloc(rawapi.LayerRaw, r.lens[r.head])
		if err != nil {
			break
		}
		copy(b.Bytes(), r.slots[r.head][:r.lens[r.head]])
		dst[k] = b
		k++
		r.head = (r.head + 1) % len(r.slots)
		r.n--
	}
	if r.n == 0 {
		r.head = 0 // keep the working set small (cache)
	}
	r.mu.Unlock()
	return k
}

func (e *xend) Transmit(frames []*rawapi.Buf) int {
	r := e.out
	r.mu.Lock()
	for _, b := range frames {
		if r.n == len(r.slots) || b.Len() > len(r.slots[0]) {
			r.drops.Add(1)
		} else {
			i := (r.head + r.n) % len(r.slots)
			r.lens[i] = copy(r.slots[i], b.Bytes())
			r.n++
		}
		b.Free()
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return len(frames)
}

func (e *xend) HardwareAddr() rawapi.MAC { return e.mac }
func (e *xend) MTU() int                 { return e.mtu }
func (e *xend) Caps() netif.Caps         { return netif.Caps{} }
func (e *xend) LinkUp() bool             { return true }

// wait blocks until frames arrive on e or the deadline passes.
func (e *xend) wait(clk *hosted.Clock, deadline rawapi.Time) {
	d := time.Duration(deadline - clk.Now())
	if d <= 0 {
		return
	}
	d = min(d, 2*time.Millisecond)
	if e.timer == nil {
		e.timer = time.NewTimer(d)
	} else {
		e.timer.Reset(d)
	}
	select {
	case <-e.in.wake:
	case <-e.timer.C:
	}
	e.timer.Stop()
}

// atomicSink consumes everything; its count is read from another goroutine.
type atomicSink struct {
	rawapi.DefaultHandler
	n atomic.Int64
}

func (s *atomicSink) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return c.Close()
	}
	s.n.Add(int64(p.Len()))
	c.Recved(p.Len())
	p.Free()
	return nil
}

// lwgoBulk2 is lwgoBulk with each stack on its own goroutine.
func lwgoBulk2(r *iter, mtu int) {
	frame := mtu + 14
	// Deep enough for a whole window in flight: the goroutines run apart.
	ab, ba := newXring(2048, frame), newXring(2048, frame)
	ea := &xend{mac: rawapi.MAC{2, 0, 0, 0, 0, 1}, mtu: mtu, in: ba, out: ab}
	eb := &xend{mac: rawapi.MAC{2, 0, 0, 0, 0, 2}, mtu: mtu, in: ab, out: ba}
	bufSize := 2048
	if mtu > 1500 {
		bufSize = mtu + 256
	}
	cfg := rawapi.Config{PoolBufs: 4096, PoolBufSize: bufSize, RxBudget: 4096}
	cfg.TCP = rawapi.TCPConfig{MaxPCBs: 64, SndBuf: 1 << 20, RcvBuf: 1 << 20, MSS: mtu - 40}
	cfg.Seed = 1
	a := rawapi.New(cfg)
	cfg.Seed = 2
	b := rawapi.New(cfg)
	na, err := a.AddNetif(ea, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.1/24")})
	if err != nil {
		r.Fatal(err)
	}
	nb, err := b.AddNetif(eb, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.2/24")})
	if err != nil {
		r.Fatal(err)
	}
	a.SetUp(na)
	b.SetUp(nb)
	clk := hosted.NewClock()
	srv := &atomicSink{}
	ready := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan struct{})
	// Stack B's goroutine: the server.
	go func() {
		defer close(done)
		lc, err := b.NewTCP()
		if err == nil {
			err = lc.Bind(netip.Addr{}, lwgoServer.Port())
		}
		var ln rawapi.TCPListener
		if err == nil {
			ln, err = lc.Listen(16)
		}
		if err != nil {
			close(ready)
			return
		}
		ln.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
			return c.SetHandler(srv)
		}))
		close(ready)
		for {
			select {
			case <-stop:
				return
			default:
			}
			eb.wait(clk, b.Poll(clk.Now()))
		}
	}()
	<-ready
	cl := &lwgoClient{}
	c, err := a.NewTCP()
	if err != nil {
		r.Fatal(err)
	}
	c.SetHandler(cl)
	if err := c.Connect(lwgoServer); err != nil {
		r.Fatal(err)
	}
	for start := time.Now(); cl.connected == 0; {
		ea.wait(clk, a.Poll(clk.Now()))
		if time.Since(start) > 10*time.Second {
			r.Fatal("lwgo2: connect: not done after 10 s")
		}
	}
	chunk := make([]byte, 64<<10)
	r.setBytes(int64(len(chunk)))
	r.reportAllocs()
	r.resetTimer()
	m := startMeter()
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
			next := a.Poll(clk.Now())
			if c.SendBuffer() == 0 {
				ea.wait(clk, next) // wait for ACKs
			}
		}
		want += int64(len(chunk))
	}
	for start := time.Now(); srv.n.Load() < want; {
		ea.wait(clk, a.Poll(clk.Now()))
		if time.Since(start) > 10*time.Second {
			r.Fatal("lwgo2: drain: not done after 10 s")
		}
	}
	r.stopTimer()
	r.reportBulk(m.stop(), want)
	close(stop)
	<-done
	st := a.TCPStats()
	r.report(float64(st.Retransmits), "rexmits")
	r.report(float64(ab.drops.Load()+ba.drops.Load()), "drops")
	if cl.err != nil {
		r.Fatal(cl.err)
	}
}
