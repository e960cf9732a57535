// Package apptest runs lwgo's applications in-process for their tests: two
// stacks on an in-memory wire (netif/pipe), optionally impaired
// (netif/fault), in virtual time on one goroutine. Stack A runs the program
// under test, sequential or event-driven; stack B runs the test's peers with
// the raw API and is polled from A's IdleFunc (for sequential programs) or
// alongside A (Run).
package apptest

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

// Addresses of the two stacks.
var (
	AddrA = netip.MustParseAddr("192.0.2.1")
	AddrB = netip.MustParseAddr("192.0.2.2")
)

// Options configure a World. The zero Options give default stacks on a
// perfect wire.
type Options struct {
	Config rawapi.Config // both stacks' configuration (Seed is set per stack)
	// FaultAB impairs frames from A to B, FaultBA from B to A.
	FaultAB, FaultBA fault.Config
	MTU              int // interface MTU; 0: 1500
}

// World is two stacks on a wire and a manual clock.
type World struct {
	Clk    rawapi.ManualClock
	A, B   *rawapi.Stack
	NA, NB *rawapi.Netif
	WA, WB *pipe.End
	// OnIdle functions run after every poll of B: the peers' own steps.
	OnIdle []func()
	// Step is the most the clock advances per idle call or Run step.
	Step rawapi.Duration
}

// New builds a World.
func New(t testing.TB, o Options) *World {
	t.Helper()
	w := &World{Step: rawapi.Millisecond}
	w.WA, w.WB = pipe.New(pipe.Config{QueueLen: 1024, A: pipe.EndConfig{MTU: o.MTU}, B: pipe.EndConfig{MTU: o.MTU}})
	var da, db netif.Device = w.WA, w.WB
	if o.FaultAB != (fault.Config{}) {
		da = fault.New(w.WA, &w.Clk, o.FaultAB)
	}
	if o.FaultBA != (fault.Config{}) {
		db = fault.New(w.WB, &w.Clk, o.FaultBA)
	}
	cfg := o.Config
	cfg.Seed = 1
	w.A = rawapi.New(cfg)
	cfg.Seed = 2
	w.B = rawapi.New(cfg)
	var err error
	if w.NA, err = w.A.AddNetif(da, rawapi.NetifConfig{Name: "a0", Addr: netip.PrefixFrom(AddrA, 24)}); err != nil {
		t.Fatal(err)
	}
	if w.NB, err = w.B.AddNetif(db, rawapi.NetifConfig{Name: "b0", Addr: netip.PrefixFrom(AddrB, 24)}); err != nil {
		t.Fatal(err)
	}
	w.A.SetUp(w.NA)
	w.B.SetUp(w.NB)
	return w
}

// Idle is the IdleFunc of a Seq on A: it polls B, runs OnIdle and advances
// the clock toward until, by at most Step.
func (w *World) Idle(until rawapi.Time) {
	w.B.Poll(w.Clk.Now())
	for _, f := range w.OnIdle {
		f()
	}
	w.Clk.Advance(max(min(until.Sub(w.Clk.Now()), w.Step), 1))
}

// Seq returns a sequential API on A that idles with Idle.
func (w *World) Seq(cfg rawapi.SeqConfig) *rawapi.Seq {
	return rawapi.NewSeq(w.A, &w.Clk, w.Idle, cfg)
}

// Run polls A (through pollA, which may add the program's own timers; nil:
// A.Poll) and B, runs OnIdle, and advances the clock by Step, until done
// reports true or d of virtual time has passed; it reports whether done.
func (w *World) Run(d rawapi.Duration, pollA func(now rawapi.Time), done func() bool) bool {
	end := w.Clk.Now().Add(d)
	for w.Clk.Now() < end {
		if pollA != nil {
			pollA(w.Clk.Now())
		} else {
			w.A.Poll(w.Clk.Now())
		}
		w.B.Poll(w.Clk.Now())
		for _, f := range w.OnIdle {
			f()
		}
		if done != nil && done() {
			return true
		}
		w.Clk.Advance(w.Step)
	}
	return done != nil && done()
}

// CheckPools fails the test if either stack has buffers out.
func (w *World) CheckPools(t testing.TB) {
	t.Helper()
	for _, s := range []*rawapi.Stack{w.A, w.B} {
		if p := s.Pool(); p.Available() != p.Cap() {
			st := s.Stats()
			t.Errorf("pool %d/%d\n%s", p.Available(), p.Cap(), st.String())
		}
	}
}

// Client is a raw-API TCP client on B: it connects, sends Send (then
// half-closes if CloseWrite), and collects what arrives until end of stream.
// OnData, when set, sees the data instead of Got collecting it.
type Client struct {
	rawapi.DefaultHandler
	Conn       rawapi.TCP
	Send       []byte
	CloseWrite bool
	Got        []byte
	OnData     func(p []byte)
	NoRead     bool // never read: the window closes (a stalled client)
	Up         bool
	Done       bool  // end of stream or error
	EOF        bool  // the server closed
	ConnErr    error // the connection's error, if any
	sent       int
}

// Dial starts a Client to addr on w.B.
func (c *Client) Dial(t testing.TB, w *World, addr netip.AddrPort) *Client {
	t.Helper()
	tc, err := w.B.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	c.Conn = tc
	tc.SetHandler(c)
	if err := tc.Connect(addr); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *Client) push(tc rawapi.TCP) error {
	if n := min(tc.SendBuffer(), len(c.Send)-c.sent); n > 0 {
		if err := tc.Write(c.Send[c.sent:c.sent+n], 0); err != nil {
			return err
		}
		c.sent += n
	}
	if c.sent == len(c.Send) && c.CloseWrite {
		c.CloseWrite = false
		return tc.CloseWrite()
	}
	return nil
}

// Connected implements rawapi.TCPHandler.
func (c *Client) Connected(tc rawapi.TCP, err error) error {
	c.Up = true
	return c.push(tc)
}

// Sent implements rawapi.TCPHandler.
func (c *Client) Sent(tc rawapi.TCP, n int) error { return c.push(tc) }

// Recv implements rawapi.TCPHandler.
func (c *Client) Recv(tc rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		c.EOF, c.Done = true, true
		return tc.Close()
	}
	if c.NoRead {
		return rawapi.ErrMem
	}
	if c.OnData != nil {
		c.OnData(p.Bytes())
	} else {
		c.Got = append(c.Got, p.Bytes()...)
	}
	tc.Recved(p.Len())
	p.Free()
	return nil
}

// Err implements rawapi.TCPHandler.
func (c *Client) Err(tc rawapi.TCP, err error) { c.ConnErr, c.Done = err, true }
