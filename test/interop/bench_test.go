package interop

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/lwgo/lwgo/platform/netns"
	"github.com/lwgo/lwgo/platform/tap"
	"github.com/lwgo/lwgo/rawapi"
)

// BenchmarkTAPBulk measures one TCP stream between lwgo and the kernel over
// the TAP, each way, in each TAP mode; BenchmarkVethBulk is the kernel
// talking to itself over a veth pair, the reference. An operation is 1 MiB
// moved; besides MB/s each reports Gbps and the whole process's CPU seconds
// per GB (lwgo's loop, the kernel-side socket's syscalls and the TAP's
// reads and writes; softirq work done outside the process is not counted).
//
// The kernel side is a Go socket opened inside the namespace (netns.Do), in
// this process: 256 KiB writes, 256 KiB reads.
//
//	go test -run '^$' -bench Bulk -benchtime 2s -count 3 ./test/interop/
func BenchmarkTAPBulk(b *testing.B) {
	for _, m := range []struct {
		name string
		tap  tap.Config
	}{
		{"plain", tap.Config{}},
		{"vnet-csum", tap.Config{VnetHdr: true, Offload: tap.OffloadCsum}},
		{"vnet-tso", tap.Config{VnetHdr: true, Offload: tap.OffloadCsum | tap.OffloadTSO4}},
	} {
		b.Run(m.name, func(b *testing.B) {
			r := newRig(b, rigConfig{tap: m.tap, stack: rawapi.Config{
				PoolBufs: 4096,
				TCP:      rawapi.TCPConfig{SndBuf: 1 << 20, RcvBuf: 1 << 20},
			}})
			src := &sourceServer{}
			r.listen(5001, func() rawapi.TCPHandler { return &sourceConn{srv: src} })
			sink := &sinkServer{done: make(chan int64, 1)}
			r.listen(5002, func() rawapi.TCPHandler { return &sinkConn{srv: sink} })

			b.Run("lwgo-to-kernel", func(b *testing.B) {
				total := int64(b.N) << 20
				r.do(func() { src.size = total })
				conn := dialIn(b, r.n, netip.AddrPortFrom(r.addr, 5001))
				meter := startMeter(b, total)
				got, err := io.CopyBuffer(io.Discard, conn, make([]byte, 256<<10))
				meter.stop()
				conn.Close()
				if err != nil || got != total {
					b.Fatalf("kernel read %d of %d bytes: %v", got, total, err)
				}
			})
			b.Run("kernel-to-lwgo", func(b *testing.B) {
				total := int64(b.N) << 20
				conn := dialIn(b, r.n, netip.AddrPortFrom(r.addr, 5002))
				meter := startMeter(b, total)
				writeN(b, conn, total)
				conn.(*net.TCPConn).CloseWrite()
				var got int64
				select {
				case got = <-sink.done:
				case <-time.After(2 * time.Minute):
					b.Fatal("lwgo sink did not finish")
				}
				meter.stop()
				conn.Close()
				if got != total {
					b.Fatalf("lwgo received %d of %d bytes", got, total)
				}
			})
			_, ts, ds := r.stats()
			b.Logf("%s: lwgo TCP retransmits %d, fast retransmits %d, RTOs %d, out-of-order %d; TAP reads %d, super-frames %d → %d segments, no-buf %d",
				m.name, ts.Retransmits, ts.FastRetransmits, ts.Timeouts, ts.OOSeq, ds.RxReads, ds.RxGSO, ds.RxGSOSegs, ds.RxNoBuf)
		})
	}
}

// BenchmarkTAPRR64 measures request/response latency: a kernel socket in
// the namespace sends 64 bytes to lwgo's TCP echo server and waits for them
// to come back; ns/op is the round-trip time. The veth case is the kernel
// echoing to itself, the reference.
func BenchmarkTAPRR64(b *testing.B) {
	b.Run("lwgo", func(b *testing.B) {
		r := newRig(b, rigConfig{})
		r.listen(7, func() rawapi.TCPHandler { return echoNoDelay{} })
		conn := dialIn(b, r.n, netip.AddrPortFrom(r.addr, 7))
		defer conn.Close()
		rr64(b, conn)
	})
	b.Run("kernel-veth", func(b *testing.B) {
		needTier(b)
		a, c, err := netns.NewVethPair(context.Background(), netns.Config{Subnet: 11})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		defer c.Close()
		var ln net.Listener
		if err := c.Do(func() error {
			var err error
			ln, err = net.Listen("tcp4", netip.AddrPortFrom(c.KernelAddr.Addr(), 7).String())
			return err
		}); err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		go func() {
			s, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(s, s)
			s.Close()
		}()
		conn := dialIn(b, a, netip.AddrPortFrom(c.KernelAddr.Addr(), 7))
		defer conn.Close()
		rr64(b, conn)
	})
}

// echoNoDelay is echoConn with Nagle off.
type echoNoDelay struct{ echoConn }

func (e echoNoDelay) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	c.SetNoDelay(true)
	return e.echoConn.Recv(c, p, err)
}

func rr64(b *testing.B, conn net.Conn) {
	conn.(*net.TCPConn).SetNoDelay(true)
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	b.ResetTimer()
	for range b.N {
		if _, err := conn.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVethBulk is the kernel-to-kernel reference: the same stream over
// a veth pair between two namespaces (MTU 1500, the veth's default offloads:
// TSO/GSO/GRO on).
func BenchmarkVethBulk(b *testing.B) {
	needTier(b)
	a, c, err := netns.NewVethPair(context.Background(), netns.Config{Subnet: 10})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close(); c.Close() })
	var ln net.Listener
	if err := c.Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(c.KernelAddr.Addr(), 5001).String())
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	b.Run("kernel-to-kernel", func(b *testing.B) {
		total := int64(b.N) << 20
		accepted := make(chan net.Conn, 1)
		go func() {
			s, err := ln.Accept()
			if err != nil {
				accepted <- nil
				return
			}
			accepted <- s
		}()
		conn := dialIn(b, a, netip.AddrPortFrom(c.KernelAddr.Addr(), 5001))
		s := <-accepted
		if s == nil {
			b.Fatal("accept failed")
		}
		meter := startMeter(b, total)
		go func() { writeN(b, conn, total); conn.(*net.TCPConn).CloseWrite() }()
		got, err := io.CopyBuffer(io.Discard, s, make([]byte, 256<<10))
		meter.stop()
		conn.Close()
		s.Close()
		if err != nil || got != total {
			b.Fatalf("read %d of %d bytes: %v", got, total, err)
		}
	})
}

// dialIn connects from inside namespace n.
func dialIn(b testing.TB, n *netns.Net, to netip.AddrPort) net.Conn {
	b.Helper()
	var conn net.Conn
	err := n.Do(func() error {
		var err error
		conn, err = net.DialTimeout("tcp4", to.String(), 5*time.Second)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return conn
}

func writeN(b *testing.B, conn net.Conn, total int64) {
	chunk := make([]byte, 256<<10)
	for left := total; left > 0; {
		n, err := conn.Write(chunk[:min(int64(len(chunk)), left)])
		if err != nil {
			b.Errorf("write: %v", err)
			return
		}
		left -= int64(n)
	}
}

// meter times a transfer and reports Gbps and CPU seconds per GB.
type meter struct {
	b     *testing.B
	total int64
	start time.Time
	ru    syscall.Rusage
}

func startMeter(b *testing.B, total int64) *meter {
	b.SetBytes(1 << 20)
	m := &meter{b: b, total: total}
	syscall.Getrusage(syscall.RUSAGE_SELF, &m.ru)
	b.ResetTimer()
	m.start = time.Now()
	return m
}

func (m *meter) stop() {
	elapsed := time.Since(m.start)
	m.b.StopTimer()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano()+ru.Stime.Nano()-m.ru.Utime.Nano()-m.ru.Stime.Nano()) * time.Nanosecond
	gb := float64(m.total) / 1e9
	m.b.ReportMetric(gb*8/elapsed.Seconds(), "Gbps")
	m.b.ReportMetric(cpu.Seconds()/gb, "cpu-s/GB")
}

// sourceServer sends size bytes on each connection, then closes.
type sourceServer struct {
	size int64
}

type sourceConn struct {
	rawapi.DefaultHandler
	srv     *sourceServer
	left    int64
	started bool
	closed  bool
}

var sourceChunk = func() []byte { b, _ := body(1 << 20); return b }()

func (h *sourceConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		if h.closed {
			return nil
		}
		return h.push(c)
	}
	c.Recved(p.Len())
	p.Free()
	return nil
}

func (h *sourceConn) Sent(c rawapi.TCP, n int) error { return h.push(c) }

// Start implements starter: the source speaks first. (Returning Output's
// ErrClosed after push closed the handle would make the acceptor abort the
// connection: a RST after the first flight.)
func (h *sourceConn) Start(c rawapi.TCP) error {
	if err := h.push(c); err != nil || h.closed {
		return err
	}
	return c.Output()
}

func (h *sourceConn) push(c rawapi.TCP) error {
	if !h.started {
		h.started = true
		h.left = h.srv.size
	}
	for h.left > 0 {
		n := int(min(int64(c.SendBuffer()), h.left, int64(len(sourceChunk))))
		if n <= 0 {
			break
		}
		if err := c.Write(sourceChunk[:n], rawapi.WriteCopy|rawapi.WriteMore); err != nil {
			if errors.Is(err, rawapi.ErrMem) {
				break
			}
			return nil
		}
		h.left -= int64(n)
	}
	if h.left == 0 && !h.closed {
		h.closed = true
		return c.Close()
	}
	return nil
}

// sinkServer counts what each connection receives and reports it at the
// peer's FIN.
type sinkServer struct {
	done chan int64
}

type sinkConn struct {
	rawapi.DefaultHandler
	srv *sinkServer
	n   int64
}

func (h *sinkConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		select {
		case h.srv.done <- h.n:
		default:
		}
		return c.Close()
	}
	h.n += int64(p.Len())
	c.Recved(p.Len())
	p.Free()
	return nil
}
