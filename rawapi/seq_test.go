package rawapi_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

var (
	seqAddrA = netip.MustParseAddr("192.0.2.1")
	seqAddrB = netip.MustParseAddr("192.0.2.2")
)

// seqWorld is two stacks on an in-memory wire in virtual time: the Seq
// under test drives stack A; stack B runs raw-API peers and is polled from
// the Seq's IdleFunc, which also advances the clock, 1 ms at most per call.
type seqWorld struct {
	clk  rawapi.ManualClock
	a, b *rawapi.Stack
	q    *rawapi.Seq
	// onIdle runs in every idle call after B's poll: peers' step functions.
	onIdle []func()
	idles  int
}

type seqWorldConfig struct {
	seq   rawapi.SeqConfig
	tcp   rawapi.TCPConfig
	pool  int
	fault fault.Config // applied to both directions
}

func newSeqWorld(t testing.TB, wc seqWorldConfig) *seqWorld {
	t.Helper()
	w := &seqWorld{}
	wa, wb := pipe.New(pipe.Config{QueueLen: 512})
	var da, db netif.Device = wa, wb
	if wc.fault != (fault.Config{}) {
		fa, fb := wc.fault, wc.fault
		fa.Seed, fb.Seed = 3, 4
		da, db = fault.New(wa, &w.clk, fa), fault.New(wb, &w.clk, fb)
	}
	cfg := rawapi.Config{PoolBufs: wc.pool, TCP: wc.tcp}
	cfg.Seed = 1
	w.a = rawapi.New(cfg)
	cfg.Seed = 2
	w.b = rawapi.New(cfg)
	for _, x := range []struct {
		s    *rawapi.Stack
		d    netif.Device
		addr netip.Addr
	}{{w.a, da, seqAddrA}, {w.b, db, seqAddrB}} {
		n, err := x.s.AddNetif(x.d, rawapi.NetifConfig{Addr: netip.PrefixFrom(x.addr, 24)})
		if err != nil {
			t.Fatal(err)
		}
		x.s.SetUp(n)
	}
	w.q = rawapi.NewSeq(w.a, &w.clk, w.idle, wc.seq)
	return w
}

// idle is the Seq's IdleFunc: poll B, run the peers, let time pass.
func (w *seqWorld) idle(until rawapi.Time) {
	w.idles++
	w.b.Poll(w.clk.Now())
	for _, f := range w.onIdle {
		f()
	}
	d := min(until.Sub(w.clk.Now()), rawapi.Millisecond)
	w.clk.Advance(max(d, 1))
}

// settle lets both stacks finish closing and checks every buffer came back.
func (w *seqWorld) settle(t *testing.T) {
	t.Helper()
	w.q.Sleep(180 * rawapi.Second)
	for _, s := range []*rawapi.Stack{w.a, w.b} {
		if p := s.Pool(); p.Available() != p.Cap() {
			st := s.Stats()
			t.Errorf("pool %d/%d after settling\n%s", p.Available(), p.Cap(), st.String())
		}
	}
}

// listenB opens a listener on B whose connections get the handler mk makes.
func listenB(t testing.TB, s *rawapi.Stack, port uint16, mk func() rawapi.TCPHandler) rawapi.TCPListener {
	t.Helper()
	c, err := s.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(netip.Addr{}, port); err != nil {
		t.Fatal(err)
	}
	l, err := c.Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	l.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
		if err != nil {
			return err
		}
		return c.SetHandler(mk())
	}))
	return l
}

// echoB echoes what it receives and closes on end of stream.
type echoB struct{ rawapi.DefaultHandler }

func (echoB) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return c.Close()
	}
	if c.SendBuffer() < p.Len() {
		return rawapi.ErrMem
	}
	if err := c.Write(p.Bytes(), rawapi.WriteCopy); err != nil {
		return err
	}
	c.Recved(p.Len())
	p.Free()
	return nil
}

// sourceB sends data as the send buffer allows, then closes (or aborts).
type sourceB struct {
	rawapi.DefaultHandler
	data   []byte
	off    int
	abort  bool
	closed bool
}

func (s *sourceB) push(c rawapi.TCP) error {
	if n := min(c.SendBuffer(), len(s.data)-s.off); n > 0 {
		if err := c.Write(s.data[s.off:s.off+n], rawapi.WriteCopy); err != nil {
			return err
		}
		s.off += n
	}
	if s.off == len(s.data) {
		if s.abort {
			if c.SendQueueLen() > 0 {
				return nil // abort once everything is acknowledged
			}
			c.Abort()
			return rawapi.ErrAbort
		}
		if !s.closed {
			s.closed = true
			return c.Close()
		}
	}
	return nil
}

func (s *sourceB) Sent(c rawapi.TCP, n int) error { return s.push(c) }

// Recv starts the flow on the client's first byte.
func (s *sourceB) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return nil
	}
	c.Recved(p.Len())
	p.Free()
	return s.push(c)
}

// silentB accepts and never sends nor reads (a stalled peer).
type silentB struct{ rawapi.DefaultHandler }

func (silentB) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return nil
	}
	return rawapi.ErrMem // refuse: the window closes
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestSeqDialSendRecvEchoAndGracefulClose(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.b, 7, func() rawapi.TCPHandler { return echoB{} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 7), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr() != netip.AddrPortFrom(seqAddrB, 7) || c.LocalAddr().Addr() != seqAddrA {
		t.Fatalf("addresses %v → %v", c.LocalAddr(), c.RemoteAddr())
	}
	data := pattern(300_000) // more than the 256 KiB send buffer
	var got []byte
	buf := make([]byte, 4096)
	for sent := 0; sent < len(data); {
		k := min(len(data)-sent, 50_000)
		n, err := c.Send(data[sent:sent+k], 10*rawapi.Second)
		if err != nil || n != k {
			t.Fatalf("Send = %d, %v; want %d", n, err, k)
		}
		sent += n
		for c.Buffered() > 0 {
			n, _ := c.Recv(buf, 0)
			got = append(got, buf[:n]...)
		}
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := c.Recv(buf, 10*rawapi.Second)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Logf("A: %+v\nB: %+v", c.TCP().Info(), w.b.TCPStats())
			t.Fatalf("Recv after %d bytes: %v", len(got), err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("echo returned %d bytes, differing from the %d sent", len(got), len(data))
	}
	if n, err := c.Recv(buf, 0); n != 0 || err != io.EOF {
		t.Fatalf("Recv after EOF = %d, %v; want 0, io.EOF again", n, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != rawapi.ErrClosed {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if _, err := c.Recv(buf, 0); err != rawapi.ErrClosed {
		t.Fatalf("Recv on a closed handle = %v, want ErrClosed", err)
	}
	w.settle(t)
	if st := w.b.TCPStats(); st.RSTsSent+st.Resets != 0 {
		t.Errorf("graceful close produced resets: %+v", st)
	}
}

func TestSeqRecvTimeout(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.b, 9, func() rawapi.TCPHandler { return silentB{} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 9), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	start := w.clk.Now()
	if n, err := c.Recv(buf, 2*rawapi.Second); n != 0 || err != rawapi.ErrTimeout {
		t.Fatalf("Recv = %d, %v; want 0, ErrTimeout", n, err)
	}
	if d := w.clk.Now().Sub(start); d < 2*rawapi.Second || d > 2*rawapi.Second+10*rawapi.Millisecond {
		t.Fatalf("Recv timed out after %d ms, want 2000", d.Milliseconds())
	}
	start = w.clk.Now()
	if _, err := c.Recv(buf, 0); err != rawapi.ErrTimeout {
		t.Fatalf("Recv with zero timeout = %v, want ErrTimeout", err)
	}
	if w.clk.Now() != start {
		t.Fatal("a zero timeout let time pass")
	}
	w.q.Wait(0) // news of the connection
	if err := w.q.Wait(rawapi.Second); err != rawapi.ErrTimeout {
		t.Fatalf("Wait on a quiet world = %v, want ErrTimeout", err)
	}
	c.Close()
	w.settle(t)
}

func TestSeqDialRefusedAndTimeout(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	if _, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 1), 5*rawapi.Second); err != rawapi.ErrReset {
		t.Fatalf("Dial to a closed port = %v, want ErrReset", err)
	}
	start := w.clk.Now()
	nobody := netip.MustParseAddrPort("192.0.2.99:80")
	if _, err := w.q.Dial(nobody, 3*rawapi.Second); err != rawapi.ErrTimeout {
		t.Fatalf("Dial to an absent host = %v, want ErrTimeout", err)
	}
	if d := w.clk.Now().Sub(start); d < 3*rawapi.Second {
		t.Fatalf("Dial gave up after %d ms, want 3000", d.Milliseconds())
	}
	if _, err := w.q.Dial(netip.MustParseAddrPort("198.51.100.1:80"), rawapi.Second); err != rawapi.ErrRoute {
		t.Fatalf("Dial off-link without a gateway = %v, want ErrRoute", err)
	}
	w.settle(t)
}

func TestSeqRecvDataThenEOF(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	data := pattern(70_000)
	listenB(t, w.b, 19, func() rawapi.TCPHandler { return &sourceB{data: data} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 19), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The source starts on the first Sent; nudge it with one byte.
	if _, err := c.Send([]byte{0}, rawapi.Second); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for {
		b, err := c.RecvBuf(5 * rawapi.Second)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("RecvBuf after %d bytes: %v", len(got), err)
		}
		got = append(got, b.Bytes()...)
		b.Free()
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d sent", len(got), len(data))
	}
	if !c.EOF() || c.Err() != nil {
		t.Fatalf("EOF() = %v, Err() = %v", c.EOF(), c.Err())
	}
	c.Close()
	w.settle(t)
}

func TestSeqRecvDataThenReset(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	data := pattern(5000)
	listenB(t, w.b, 19, func() rawapi.TCPHandler { return &sourceB{data: data, abort: true} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 19), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send([]byte{0}, rawapi.Second); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 1000)
	var last error
	for {
		n, err := c.Recv(buf, 5*rawapi.Second)
		got = append(got, buf[:n]...)
		if err != nil {
			last = err
			break
		}
	}
	if last != rawapi.ErrReset {
		t.Fatalf("Recv ended with %v, want ErrReset", last)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes before the reset, want %d", len(got), len(data))
	}
	if _, err := c.Send([]byte("x"), rawapi.Second); err != rawapi.ErrReset {
		t.Fatalf("Send after reset = %v, want ErrReset", err)
	}
	c.Close()
	w.settle(t)
}

func TestSeqSendBlocksOnAClosedWindowAndTimesOut(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{tcp: rawapi.TCPConfig{SndBuf: 32 << 10, RcvBuf: 16 << 10}})
	var peer rawapi.TCP
	listenB(t, w.b, 9, func() rawapi.TCPHandler {
		return &rawapi.Funcs{OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
			peer = c
			if p == nil {
				return c.Close()
			}
			return rawapi.ErrMem // a stalled reader
		}}
	})
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 9), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(100 << 10)
	n, err := c.Send(data, 3*rawapi.Second)
	if err != rawapi.ErrTimeout || n == 0 || n >= len(data) {
		t.Fatalf("Send to a stalled reader = %d, %v; want a partial count and ErrTimeout", n, err)
	}
	// The reader wakes up: the rest goes through.
	if !peer.IsValid() {
		t.Fatal("the peer never saw data")
	}
	var rcvd int
	peer.SetHandler(&rawapi.Funcs{OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
		if p == nil {
			return c.Close()
		}
		rcvd += p.Len()
		c.Recved(p.Len())
		p.Free()
		return nil
	}})
	m, err := c.Send(data[n:], 30*rawapi.Second)
	if err != nil || n+m != len(data) {
		t.Fatalf("second Send = %d, %v; want %d, nil", m, err, len(data)-n)
	}
	c.CloseWrite()
	buf := make([]byte, 10)
	if _, err := c.Recv(buf, 30*rawapi.Second); err != io.EOF {
		t.Fatalf("Recv = %v, want io.EOF once the peer closes", err)
	}
	if rcvd != len(data) {
		t.Fatalf("peer received %d bytes, want %d", rcvd, len(data))
	}
	c.Close()
	w.settle(t)
}

// clientB is a raw-API client on B that connects, sends msg, reads the
// reply to end of stream, then closes.
type clientB struct {
	rawapi.DefaultHandler
	msg   []byte
	reply []byte
	done  bool
	err   error
}

func (h *clientB) Connected(c rawapi.TCP, err error) error {
	if err := c.Write(h.msg, rawapi.WriteCopy); err != nil {
		return err
	}
	return nil
}

func (h *clientB) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		h.done = true
		return c.Close()
	}
	h.reply = append(h.reply, p.Bytes()...)
	c.Recved(p.Len())
	p.Free()
	return nil
}

func (h *clientB) Err(c rawapi.TCP, err error) { h.err, h.done = err, true }

func dialB(t testing.TB, w *seqWorld, port uint16, h rawapi.TCPHandler) rawapi.TCP {
	t.Helper()
	c, err := w.b.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	c.SetHandler(h)
	if err := c.Connect(netip.AddrPortFrom(seqAddrA, port)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSeqAcceptManyConnectionsInTurn(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{seq: rawapi.SeqConfig{MaxConns: 2}})
	l, err := w.q.Listen(netip.AddrPortFrom(netip.Addr{}, 80), 1)
	if err != nil {
		t.Fatal(err)
	}
	const conns = 40
	var clients []*clientB
	// B starts the next client when the previous one is done.
	w.onIdle = append(w.onIdle, func() {
		if len(clients) == conns || (len(clients) > 0 && !clients[len(clients)-1].done) {
			return
		}
		h := &clientB{msg: []byte("hello " + string(rune('A'+len(clients)%26)))}
		clients = append(clients, h)
		dialB(t, w, 80, h)
	})
	buf := make([]byte, 100)
	for i := range conns {
		c, err := l.Accept(10 * rawapi.Second)
		if err != nil {
			t.Fatalf("Accept %d: %v", i, err)
		}
		n, err := c.Recv(buf, 5*rawapi.Second)
		if err != nil {
			t.Fatalf("conn %d: Recv: %v", i, err)
		}
		reply := append([]byte("re: "), buf[:n]...)
		if _, err := c.Send(reply, 5*rawapi.Second); err != nil {
			t.Fatalf("conn %d: Send: %v", i, err)
		}
		c.Close()
	}
	w.q.Sleep(rawapi.Second)
	for i, h := range clients {
		if !h.done || h.err != nil || string(h.reply) != "re: "+string(h.msg) {
			t.Fatalf("client %d: done %v, err %v, reply %q", i, h.done, h.err, h.reply)
		}
	}
	if len(clients) != conns || l.Refused() != 0 {
		t.Fatalf("%d clients, %d refused", len(clients), l.Refused())
	}
	l.Close()
	w.settle(t)
}

func TestSeqBacklogOverflowResetsTheExcess(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	l, err := w.q.Listen(netip.AddrPortFrom(seqAddrA, 80), 2)
	if err != nil {
		t.Fatal(err)
	}
	var hs []*clientB
	for range 4 {
		h := &clientB{msg: []byte("x")}
		hs = append(hs, h)
		dialB(t, w, 80, h)
	}
	w.q.Sleep(2 * rawapi.Second)
	if l.Pending() != 2 || l.Refused() != 2 {
		t.Fatalf("pending %d, refused %d; want 2, 2", l.Pending(), l.Refused())
	}
	resets := 0
	for _, h := range hs {
		if h.err == rawapi.ErrReset {
			resets++
		}
	}
	if resets != 2 {
		t.Fatalf("%d clients were reset, want 2", resets)
	}
	for i := range 2 {
		c, err := l.Accept(0)
		if err != nil {
			t.Fatalf("Accept %d: %v", i, err)
		}
		buf := make([]byte, 10)
		if n, err := c.Recv(buf, rawapi.Second); n != 1 || err != nil {
			t.Fatalf("Recv = %d, %v", n, err)
		}
		c.Close()
	}
	if _, err := l.Accept(0); err != rawapi.ErrTimeout {
		t.Fatalf("Accept on an empty backlog = %v, want ErrTimeout", err)
	}
	// A pending connection whose peer resets goes away by itself; closing
	// the listener resets the ones still pending.
	h := &clientB{msg: []byte("y")}
	dialB(t, w, 80, h)
	w.q.Sleep(rawapi.Second)
	if l.Pending() != 1 {
		t.Fatalf("pending %d, want 1", l.Pending())
	}
	l.Close()
	w.q.Sleep(rawapi.Second)
	if h.err != rawapi.ErrReset {
		t.Fatalf("pending client after listener close: err %v, want ErrReset", h.err)
	}
	if _, err := l.Accept(0); err != rawapi.ErrClosed {
		t.Fatalf("Accept on a closed listener = %v, want ErrClosed", err)
	}
	w.settle(t)
}

func TestSeqConnTableFullRefuses(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{seq: rawapi.SeqConfig{MaxConns: 1}})
	listenB(t, w.b, 7, func() rawapi.TCPHandler { return echoB{} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 7), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 7), 5*rawapi.Second); err != rawapi.ErrMem {
		t.Fatalf("Dial with a full table = %v, want ErrMem", err)
	}
	c.Close()
	c2, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 7), 5*rawapi.Second)
	if err != nil {
		t.Fatalf("Dial after Close freed the slot: %v", err)
	}
	if c.IsValid() || !c2.IsValid() {
		t.Fatal("the old handle must be stale and the new one valid")
	}
	c2.Close()
	w.settle(t)
}

func TestSeqUDP(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{seq: rawapi.SeqConfig{UDPQueue: 4}})
	echo, err := w.b.NewUDP()
	if err != nil {
		t.Fatal(err)
	}
	echo.Bind(netip.Addr{}, 7)
	echo.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		u.SendTo(p.Bytes(), src)
		p.Free()
	})
	u, err := w.q.OpenUDP(netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	if u.LocalAddr().Port() == 0 {
		t.Fatal("no ephemeral port")
	}
	dst := netip.AddrPortFrom(seqAddrB, 7)
	buf := make([]byte, 2000)
	for i := range 10 {
		msg := pattern(100 + i*150)
		if err := u.SendTo(msg, dst, rawapi.Second); err != nil {
			t.Fatal(err)
		}
		n, src, err := u.RecvFrom(buf, 2*rawapi.Second)
		if err != nil || src != dst || !bytes.Equal(buf[:n], msg) {
			t.Fatalf("datagram %d: %d bytes from %v, err %v", i, n, src, err)
		}
	}
	// Truncation to the caller's buffer.
	u.SendTo(pattern(500), dst, rawapi.Second)
	if n, _, err := u.RecvFrom(buf[:10], 2*rawapi.Second); n != 10 || err != nil {
		t.Fatalf("truncated RecvFrom = %d, %v", n, err)
	}
	// Timeout on a quiet socket.
	if _, _, err := u.RecvFrom(buf, rawapi.Second); err != rawapi.ErrTimeout {
		t.Fatalf("RecvFrom = %v, want ErrTimeout", err)
	}
	// Overflow: six datagrams into a queue of four.
	for range 6 {
		u.SendTo([]byte("z"), dst, rawapi.Second)
	}
	w.q.Sleep(rawapi.Second)
	if u.Pending() != 4 || u.Drops() != 2 {
		t.Fatalf("pending %d, drops %d; want 4, 2", u.Pending(), u.Drops())
	}
	// Close frees the queued datagrams.
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.RecvFrom(buf, 0); err != rawapi.ErrClosed {
		t.Fatalf("RecvFrom on a closed socket = %v", err)
	}
	echo.Close()
	w.settle(t)
}

func TestSeqAlloc(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{pool: 64})
	b, err := w.q.Alloc(1000, 0)
	if err != nil || b.Len() != 1000 {
		t.Fatalf("Alloc = %v, %v", b, err)
	}
	b.Free()
	if _, err := w.q.Alloc(1<<20, rawapi.Second); err != rawapi.ErrVal {
		t.Fatalf("Alloc too large = %v, want ErrVal", err)
	}
	var held []*rawapi.Buf
	for {
		b, err := w.a.Pool().Alloc(0, 10)
		if err != nil {
			break
		}
		held = append(held, b)
	}
	start := w.clk.Now()
	if _, err := w.q.Alloc(10, 500*rawapi.Millisecond); err != rawapi.ErrTimeout {
		t.Fatalf("Alloc from an empty pool = %v, want ErrTimeout", err)
	}
	if d := w.clk.Now().Sub(start); d < 500*rawapi.Millisecond {
		t.Fatalf("Alloc gave up after %d ms", d.Milliseconds())
	}
	for _, b := range held {
		b.Free()
	}
	// SendBuf takes ownership.
	listenB(t, w.b, 7, func() rawapi.TCPHandler { return echoB{} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 7), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = w.q.Alloc(5, 0)
	copy(b.Bytes(), "hello")
	if n, err := c.SendBuf(b, rawapi.Second); n != 5 || err != nil {
		t.Fatalf("SendBuf = %d, %v", n, err)
	}
	buf := make([]byte, 10)
	if n, err := c.Recv(buf, rawapi.Second); string(buf[:n]) != "hello" || err != nil {
		t.Fatalf("Recv = %q, %v", buf[:n], err)
	}
	c.Close()
	w.settle(t)
}

func TestSeqWaitReportsNewsFromOtherCalls(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	l, err := w.q.Listen(netip.AddrPortFrom(netip.Addr{}, 80), 0)
	if err != nil {
		t.Fatal(err)
	}
	w.q.Wait(0) // consume news of the setup, if any
	dialB(t, w, 80, &clientB{msg: []byte("x")})
	if err := w.q.Wait(5 * rawapi.Second); err != nil {
		t.Fatalf("Wait = %v, want nil after a connection arrived", err)
	}
	c, err := l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	// The data may have come during Accept's or Wait's polls; either way a
	// Wait now must not block past it.
	buf := make([]byte, 10)
	for c.Buffered() == 0 {
		if err := w.q.Wait(5 * rawapi.Second); err != nil {
			t.Fatalf("Wait = %v with data on the way", err)
		}
	}
	if n, err := c.Recv(buf, 0); n != 1 || err != nil {
		t.Fatalf("Recv = %d, %v", n, err)
	}
	c.Close()
	l.Close()
	w.settle(t)
}

func TestSeqOverLossyWire(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{fault: fault.Config{DropRate: 0.05, ReorderRate: 0.05}})
	listenB(t, w.b, 7, func() rawapi.TCPHandler { return echoB{} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 7), 30*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(200_000)
	got := make([]byte, 0, len(data))
	buf := make([]byte, 8192)
	for sent := 0; sent < len(data); {
		n, err := c.Send(data[sent:min(sent+8192, len(data))], 60*rawapi.Second)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		sent += n
		for c.Buffered() > 0 {
			n, _ := c.Recv(buf, 0)
			got = append(got, buf[:n]...)
		}
	}
	for len(got) < len(data) {
		n, err := c.Recv(buf, 60*rawapi.Second)
		if err != nil {
			t.Fatalf("Recv after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("echo differs")
	}
	c.Close()
}

// TestSeqNoAllocs: once set up, Send, Recv, RecvBuf, Wait, SendTo and
// RecvFrom allocate nothing.
func TestSeqNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.b, 7, func() rawapi.TCPHandler { return echoB{} })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 7), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	echo, _ := w.b.NewUDP()
	echo.Bind(netip.Addr{}, 7)
	echo.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		u.SendTo(p.Bytes(), src)
		p.Free()
	})
	u, _ := w.q.OpenUDP(netip.AddrPort{})
	dst := netip.AddrPortFrom(seqAddrB, 7)
	msg := pattern(1000)
	buf := make([]byte, 2000)
	var failed error
	round := func() {
		if _, err := c.Send(msg, 5*rawapi.Second); err != nil {
			failed = err
		}
		for got := 0; got < len(msg); {
			if c.Buffered() == 0 {
				b, err := c.RecvBuf(5 * rawapi.Second)
				if err != nil {
					failed = err
					return
				}
				got += b.Len()
				b.Free()
				continue
			}
			n, err := c.Recv(buf, 5*rawapi.Second)
			if err != nil {
				failed = err
				return
			}
			got += n
		}
		if err := u.SendTo(msg, dst, rawapi.Second); err != nil {
			failed = err
		}
		if _, _, err := u.RecvFrom(buf, rawapi.Second); err != nil {
			failed = err
		}
		w.q.Wait(0)
	}
	round() // warm up: ARP, windows
	if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
		t.Fatalf("a round allocates %v times, want 0", allocs)
	}
	if failed != nil {
		t.Fatal(failed)
	}
	c.Close()
	u.Close()
}

func TestSeqErrorsAreComparable(t *testing.T) {
	// The package's errors are constants: errors.Is and == agree.
	var err error = rawapi.ErrTimeout
	if !errors.Is(err, rawapi.ErrTimeout) || err != rawapi.ErrTimeout {
		t.Fatal("ErrTimeout is not comparable")
	}
}

// TestSeqSmallRecvQueueRefusesAndRecovers: with a queue of two buffers the
// stack holds the rest (refused data) and offers it again; nothing is lost.
func TestSeqSmallRecvQueueRefusesAndRecovers(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{seq: rawapi.SeqConfig{RecvQueue: 2}})
	data := pattern(100_000)
	src := &sourceB{data: data}
	listenB(t, w.b, 19, func() rawapi.TCPHandler { return src })
	c, err := w.q.Dial(netip.AddrPortFrom(seqAddrB, 19), 5*rawapi.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send([]byte{0}, rawapi.Second); err != nil {
		t.Fatal(err)
	}
	w.q.Sleep(rawapi.Second) // let the queue fill
	var got []byte
	buf := make([]byte, 3000)
	for len(got) < len(data) {
		n, err := c.Recv(buf, 10*rawapi.Second)
		if err != nil {
			t.Fatalf("Recv after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	if _, err := c.Recv(buf, 10*rawapi.Second); err != io.EOF {
		t.Fatalf("Recv at the end = %v, want io.EOF", err)
	}
	c.Close()
	w.settle(t)
}
