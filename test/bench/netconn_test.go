package bench

import (
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// netPair is a client and a server speaking net.Conn: two gVisor stacks
// (gvisor_test.go) or the kernel over loopback (linux_test.go).
type netPair struct {
	ln    net.Listener
	dial  func() (net.Conn, error)
	close func()
}

// netTimeout bounds every blocking step, so a lost packet fails the
// benchmark instead of hanging it.
const netTimeout = 30 * time.Second

// serve runs f on every accepted connection, one at a time, on one
// goroutine; it returns a function that closes the listener and waits.
func (p *netPair) serve(tb testing.TB, f func(net.Conn) error) (stop func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return // listener closed
			}
			if err := f(c); err != nil && !errors.Is(err, net.ErrClosed) {
				tb.Errorf("server: %v", err)
			}
			c.Close()
		}
	})
	return func() {
		p.ln.Close()
		wg.Wait()
	}
}

func (p *netPair) mustDial(tb testing.TB) net.Conn {
	c, err := p.dial()
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	return c
}

// netBulk sends r.n chunks of 64 KiB through one connection; the server
// reads with a 256 KiB buffer. The clock stops when the server has it all.
func netBulk(r *iter, p *netPair) {
	defer p.close()
	chunk := make([]byte, 64<<10)
	want := int64(r.n) * int64(len(chunk))
	done := make(chan int64, 1)
	stop := p.serve(r, func(c net.Conn) error {
		buf := make([]byte, 256<<10)
		var got int64
		for got < want {
			n, err := c.Read(buf)
			got += int64(n)
			if err != nil {
				done <- got
				return err
			}
		}
		done <- got
		return nil
	})
	defer stop()
	c := p.mustDial(r)
	defer c.Close()
	r.setBytes(int64(len(chunk)))
	r.reportAllocs()
	r.resetTimer()
	m := startMeter() // after ResetTimer, which allocates
	for range r.n {
		if _, err := c.Write(chunk); err != nil {
			r.Fatalf("write: %v", err)
		}
	}
	select {
	case got := <-done:
		if got != want {
			r.Fatalf("server got %d bytes of %d", got, want)
		}
	case <-time.After(netTimeout):
		r.Fatal("bulk: server never got everything")
	}
	r.stopTimer()
	r.reportBulk(m.stop(), want)
}

// netRR64 runs r.n 64-byte round trips against an echo server.
func netRR64(r *iter, p *netPair) {
	defer p.close()
	stop := p.serve(r, func(c net.Conn) error {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
	})
	defer stop()
	c := p.mustDial(r)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true) // Go's default already; gVisor's is off too
	}
	req, resp := make([]byte, 64), make([]byte, 64)
	r.reportAllocs()
	r.resetTimer()
	m := startMeter() // after ResetTimer, which allocates
	for range r.n {
		if _, err := c.Write(req); err != nil {
			r.Fatalf("write: %v", err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			r.Fatalf("read: %v", err)
		}
	}
	r.stopTimer()
	r.reportPerOp(m.stop(), r.n)
	c.Close()
}

// netConnect runs r.n serial connections: dial, write 1 byte, close; the
// server accepts, reads the byte and end of stream, and closes.
func netConnect(r *iter, p *netPair) {
	defer p.close()
	done := make(chan error, 1)
	stop := p.serve(r, func(c net.Conn) error {
		var b [2]byte
		_, err := io.ReadFull(c, b[:1])
		if err == nil {
			_, err = c.Read(b[:])
			if err == io.EOF {
				err = nil
			} else if err == nil {
				err = errors.New("more than one byte")
			}
		}
		c.Close()
		done <- err
		return nil
	})
	defer stop()
	one := []byte{'x'}
	r.reportAllocs()
	r.resetTimer()
	m := startMeter() // after ResetTimer, which allocates
	for range r.n {
		c := p.mustDial(r)
		if _, err := c.Write(one); err != nil {
			r.Fatalf("write: %v", err)
		}
		c.Close()
		select {
		case err := <-done:
			if err != nil {
				r.Fatalf("server: %v", err)
			}
		case <-time.After(netTimeout):
			r.Fatal("connect: server never finished")
		}
	}
	r.stopTimer()
	r.reportPerOp(m.stop(), r.n)
}

// netConnMemory opens n connections, keeps both ends open and idle, and
// reports the heap growth and goroutines per connection (both ends). One
// warm-up connection, opened before the baseline, is not counted.
func netConnMemory(r *iter, n int, newPair func() *netPair) {
	for range r.n {
		p := newPair()
		accepted := make(chan net.Conn, n+1)
		go func() {
			for {
				c, err := p.ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
		clients := make([]net.Conn, 0, n+1)
		servers := make([]net.Conn, 0, n+1)
		open := func() {
			clients = append(clients, p.mustDial(r))
			select {
			case c := <-accepted:
				servers = append(servers, c)
			case <-time.After(netTimeout):
				r.Fatal("accept timed out")
			}
		}
		open() // warm-up
		before, g0 := heapInUse(), runtime.NumGoroutine()
		for range n {
			open()
		}
		after, g1 := heapInUse(), runtime.NumGoroutine()
		r.report(float64(int64(after)-int64(before))/float64(n), "growth-B/conn")
		r.report(float64(g1-g0)/float64(n), "goroutines/conn")
		for _, c := range clients {
			c.Close()
		}
		for _, c := range servers {
			c.Close()
		}
		p.ln.Close()
		p.close()
	}
}
