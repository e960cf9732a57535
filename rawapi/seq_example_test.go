package rawapi_test

import (
	"fmt"
	"net/netip"

	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

// ExampleSeq is a sequential client: it dials an echo server, sends a line
// and reads it back with blocking calls. The two stacks share an in-memory
// wire and a manual clock; the client's IdleFunc polls the server's stack
// and lets virtual time pass. A hosted program passes a real clock and an
// IdleFunc that sleeps or waits for its device instead.
func ExampleSeq() {
	var clk rawapi.ManualClock
	wa, wb := pipe.New(pipe.Config{})
	client, server := rawapi.New(rawapi.Config{Seed: 1}), rawapi.New(rawapi.Config{Seed: 2})
	na, _ := client.AddNetif(wa, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.1/24")})
	nb, _ := server.AddNetif(wb, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.2/24")})
	client.SetUp(na)
	server.SetUp(nb)

	// The server: a raw-API echo on port 7.
	lc, _ := server.NewTCP()
	lc.Bind(netip.Addr{}, 7)
	l, _ := lc.Listen(0)
	l.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
		return c.SetHandler(&rawapi.Funcs{OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
			if p == nil {
				return c.Close()
			}
			c.Write(p.Bytes(), rawapi.WriteCopy)
			c.Recved(p.Len())
			p.Free()
			return nil
		}})
	}))

	// The client: blocking calls on a Seq.
	idle := func(until rawapi.Time) {
		server.Poll(clk.Now())
		clk.Advance(min(until.Sub(clk.Now()), rawapi.Millisecond))
	}
	q := rawapi.NewSeq(client, &clk, idle, rawapi.SeqConfig{})
	c, err := q.Dial(netip.MustParseAddrPort("192.0.2.2:7"), 5*rawapi.Second)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	c.Send([]byte("hello, world"), rawapi.Second)
	buf := make([]byte, 64)
	n, err := c.Recv(buf, rawapi.Second)
	fmt.Printf("%q %v\n", buf[:n], err)
	c.CloseWrite()
	_, err = c.Recv(buf, rawapi.Second)
	fmt.Println(err)
	c.Close()
	// Output:
	// "hello, world" <nil>
	// EOF
}

// ExampleTasks runs a sequential echo server as a task on a stack whose
// loop belongs to someone else: the loop polls the stack, then the tasks,
// and sleeps until the earlier deadline. A raw-API client on another stack
// talks to it. Virtual time stands in for the sleep.
func ExampleTasks() {
	var clk rawapi.ManualClock
	wa, wb := pipe.New(pipe.Config{})
	a, b := rawapi.New(rawapi.Config{Seed: 1}), rawapi.New(rawapi.Config{Seed: 2})
	na, _ := a.AddNetif(wa, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.1/24")})
	nb, _ := b.AddNetif(wb, rawapi.NetifConfig{Addr: netip.MustParsePrefix("192.0.2.2/24")})
	a.SetUp(na)
	b.SetUp(nb)

	// The server: blocking calls in a task of A's loop.
	r := rawapi.NewTasks(a)
	q := r.NewSeq(rawapi.SeqConfig{})
	l, _ := q.Listen(netip.MustParseAddrPort("0.0.0.0:7"), 0)
	r.Go(func() {
		c, err := l.Accept(rawapi.Forever)
		if err != nil {
			return
		}
		buf := make([]byte, 64)
		for {
			n, err := c.Recv(buf, 10*rawapi.Second)
			if err != nil {
				fmt.Println("server:", err)
				break
			}
			c.Send(buf[:n], rawapi.Second)
		}
		c.Close()
	})

	// The client: raw API on B.
	done := false
	cc, _ := b.NewTCP()
	cc.SetHandler(&rawapi.Funcs{
		OnConnected: func(c rawapi.TCP, err error) error {
			return c.Write([]byte("hello, world"), rawapi.WriteCopy)
		},
		OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
			if p == nil {
				done = true
				return c.Close()
			}
			fmt.Printf("client: %q\n", p.Bytes())
			c.Recved(p.Len())
			p.Free()
			return c.CloseWrite()
		},
	})
	cc.Connect(netip.MustParseAddrPort("192.0.2.1:7"))

	// A's loop, as its owner runs it; B alongside.
	for !done {
		now := clk.Now()
		next := min(a.Poll(now), r.Poll(now))
		b.Poll(now)
		clk.Advance(max(min(next.Sub(now), rawapi.Millisecond), 1))
	}
	r.Close()
	// Output:
	// client: "hello, world"
	// server: EOF
}
