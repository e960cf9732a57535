package tcp

// Bulk transfer between two Layers over a lossy link: correctness and a
// bound on the time it takes (no stalls waiting for timers that should not
// be needed).

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
)

// streamApp writes n bytes of fuzzStream-like pattern as the send buffer
// allows and checks what it receives.
type streamApp struct {
	t            *testing.T
	c            Conn
	data         []byte
	off          int
	recvd        []byte
	fin, errored bool
}

func (a *streamApp) fill(c Conn) {
	for a.off < len(a.data) {
		n := min(c.SendBuffer(), len(a.data)-a.off)
		if n == 0 {
			break
		}
		if err := c.Write(a.data[a.off:a.off+n], 0); err != nil {
			a.t.Fatalf("Write(%d): %v", n, err)
		}
		a.off += n
	}
	if a.off == len(a.data) {
		c.CloseWrite()
	}
	c.Output()
}

func (a *streamApp) Connected(c Conn, err error) error { a.fill(c); return nil }
func (a *streamApp) Recv(c Conn, p *pbuf.Buf, err error) error {
	if p == nil {
		a.fin = true
		return nil
	}
	a.recvd = append(a.recvd, p.Bytes()...)
	c.Recved(p.Len())
	p.Free()
	return nil
}
func (a *streamApp) Sent(c Conn, n int) error { a.fill(c); return nil }
func (a *streamApp) Poll(c Conn) error        { return nil }
func (a *streamApp) Err(c Conn, err error) {
	// ErrClosed reports the end of a connection closed in both directions
	// (LAST-ACK done); anything else is a failure.
	if err != errs.ErrClosed {
		a.errored = true
		a.t.Logf("Err %v after writing %d and receiving %d bytes", err, a.off, len(a.recvd))
	}
}

func TestBulkTransferOverLossyLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss int // per mille
		mod  func(*Config)
	}{
		{"clean", 0, nil},
		{"1% loss", 10, nil},
		{"5% loss", 50, nil},
		{"5% loss, no options", 50, func(c *Config) { c.NoTimestamps, c.NoSACK, c.NoWindowScale = true, true, true }},
		{"small buffers", 20, func(c *Config) { c.SndBuf, c.RcvBuf = 8<<10, 4<<10 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			el, p := lossyTransfer(t, tc.mod, tc.loss, 1<<20)
			t.Logf("%v virtual; A retransmits %d timeouts %d fast %d", el, p.a.l.stats.Retransmits, p.a.l.stats.Timeouts, p.a.l.stats.FastRetransmits)
		})
	}
}

// lossyTransfer sends size bytes each way over a pair that drops loss per
// mille of segments and returns the virtual time it took.
func lossyTransfer(t *testing.T, mod func(*Config), loss, size int) (clock.Duration, *pair) {
	t.Helper()
	// Pools large enough for both send buffers and a full window in
	// flight: losses are the link's only.
	p := newPairCfg(t, mod, mod, 1024)
	p.quiet = true
	p.a.out.record, p.b.out.record = false, false
	rnd := uint32(99)
	p.filter = func(*node, []byte) int {
		rnd = rnd*1664525 + 1013904223
		if int(rnd>>16)%1000 < loss {
			return 1
		}
		return 0
	}
	ca := &streamApp{t: t, data: pattern(0, size)}
	cb := &streamApp{t: t, data: pattern(7, size)}
	lc, _ := p.b.l.NewConn()
	lc.Bind(addrAny, srvPort)
	ln, _ := lc.Listen(0)
	ln.SetAcceptor(AcceptFunc(func(l Listener, c Conn, err error) error {
		cb.c = c
		c.SetHandler(cb)
		cb.fill(c)
		return nil
	}))
	c, _ := p.a.l.NewConn()
	ca.c = c
	c.SetHandler(ca)
	c.Connect(addrPortB)
	start := p.now
	for !(ca.fin && cb.fin) && p.now.Sub(start) < 10*clock.Minute {
		p.advance(100 * ms)
	}
	el := p.now.Sub(start)
	if len(ca.recvd) != size || len(cb.recvd) != size || string(ca.recvd) != string(cb.data) || string(cb.recvd) != string(ca.data) {
		t.Fatalf("after %v: A got %d, B got %d bytes (fin %v %v)\nA %+v\nB %+v", el, len(ca.recvd), len(cb.recvd),
			ca.fin, cb.fin, p.a.l.stats, p.b.l.stats)
	}
	if ca.errored || cb.errored {
		t.Fatal("connection error")
	}
	if limit := 30 * clock.Second; el > limit {
		t.Errorf("%d bytes each way took %v of virtual time, want under %v", size, el, limit)
	}
	if loss == 0 && p.a.l.stats.Retransmits+p.b.l.stats.Retransmits != 0 {
		t.Errorf("retransmissions on a clean link")
	}
	return el, p
}
