package tcp

// The raw API's contract: handles, callbacks, closing, errors.

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// checkStale verifies that every method of a stale handle reports ErrClosed
// or a zero value and sends nothing.
func checkStale(t *testing.T, h *harness, c Conn) {
	t.Helper()
	n := h.out.count
	if c.IsValid() {
		t.Fatal("handle still valid")
	}
	for name, err := range map[string]error{
		"Write":      c.Write([]byte("x"), 0),
		"Output":     c.Output(),
		"Close":      c.Close(),
		"CloseWrite": c.CloseWrite(),
		"CloseRead":  c.CloseRead(),
		"SetHandler": c.SetHandler(&rec{}),
		"Bind":       c.Bind(netip.Addr{}, 1234),
		"Connect":    c.Connect(netip.MustParseAddrPort("10.0.0.2:1")),
	} {
		if err != errs.ErrClosed {
			t.Errorf("%s on a stale handle: %v, want ErrClosed", name, err)
		}
	}
	if _, err := c.Listen(1); err != errs.ErrClosed {
		t.Errorf("Listen on a stale handle: %v", err)
	}
	c.Abort()
	c.Recved(100)
	c.SetNoDelay(true)
	c.SetKeepAlive(true, 0, 0, 0)
	c.SetPollInterval(clock.Second)
	c.SetUserTimeout(clock.Second)
	if c.State() != Closed || c.SendBuffer() != 0 || c.SendQueueLen() != 0 || c.MSS() != 0 ||
		c.LocalAddr().IsValid() || c.RemoteAddr().IsValid() || c.Info() != (Info{}) {
		t.Errorf("stale handle reports state %v sndbuf %d queue %d mss %d", c.State(), c.SendBuffer(), c.SendQueueLen(), c.MSS())
	}
	if h.out.count != n {
		t.Errorf("a stale handle sent %d segments", h.out.count-n)
	}
}

func TestStaleHandleAfterClose(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.Close()
	h.drain()
	checkStale(t, h, r.c)
	if h.state() != FinWait1 {
		t.Fatalf("the close went on in %v", h.state())
	}
}

func TestStaleHandleAfterAbort(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.Abort()
	// RFC 9293 §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>.
	h.expect(wire.FlagRST|wire.FlagACK, h.iss+1, h.irs+1)
	if len(r.errs) != 1 || r.errs[0] != errs.ErrAbort || r.errValid {
		t.Fatalf("Err %v (valid inside %v), want one ErrAbort on a stale handle", r.errs, r.errValid)
	}
	checkStale(t, h, r.c)
	checkClean(t, h.l, h.pool)
}

func TestStaleHandleInsideErrOnReset(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	var inside error
	r.onErr = func(c Conn, err error) { inside = c.Write([]byte("x"), 0) }
	h.inject(pkt{seq: h.irs + 1, flags: wire.FlagRST})
	if len(r.errs) != 1 || r.errs[0] != errs.ErrReset {
		t.Fatalf("Err %v, want ErrReset (MUST-12)", r.errs)
	}
	if r.errValid || inside != errs.ErrClosed {
		t.Fatalf("inside Err: valid %v, Write %v", r.errValid, inside)
	}
	h.expectNothing()
	checkClean(t, h.l, h.pool)
}

// A stale handle whose slot holds a new connection touches nothing.
func TestStaleHandleNeverAffectsNewConnectionInSameSlot(t *testing.T) {
	h, old := established(t, nil, plainPeer)
	oldSlot := old.c.idx
	old.c.Abort()
	h.drain()
	h.irs = 50000
	h.pport++
	r := h.acceptConn()
	if r.c.idx != oldSlot {
		t.Fatalf("new connection in slot %d, old in %d: the test needs the same slot", r.c.idx, oldSlot)
	}
	if old.c == r.c || old.c.IsValid() {
		t.Fatal("old handle equals or validates against the new connection")
	}
	checkStale(t, h, old.c)
	if r.c.State() != Established || len(r.errs) != 0 {
		t.Fatalf("new connection: %v %v", r.c.State(), r.errs)
	}
	h.expectNothing()
}

func TestErrTimeoutAfterMaxRetries(t *testing.T) {
	h, r := established(t, func(c *Config) { c.MaxRetries = 3 }, plainPeer)
	r.c.Write([]byte("lost"), 0)
	r.c.Output()
	h.expect(wire.FlagACK|wire.FlagPSH, h.iss+1, h.irs+1)
	for i := range 3 {
		h.advance(h.pcbOf().rtt.rto)
		h.expectSegment(func(s *outSeg) {
			if s.seq != h.iss+1 || len(s.data) != 4 {
				t.Fatalf("retransmission %d: %v", i+1, s)
			}
		})
	}
	h.advance(h.pcbOf().rtt.rto)
	h.expect(wire.FlagRST|wire.FlagACK, h.iss+5, h.irs+1)
	if len(r.errs) != 1 || r.errs[0] != errs.ErrTimeout || r.errValid {
		t.Fatalf("Err %v, want ErrTimeout", r.errs)
	}
	checkClean(t, h.l, h.pool)
}

// Close with received data the application has not consumed resets the
// connection (RFC 9293 §3.10.4, SHLD-3).
func TestCloseWithUnreadDataSendsRST(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.noRecved = true
	h.send(h.iss+1, []byte("unread"), 0)
	h.drain()
	r.c.Close()
	h.expect(wire.FlagRST|wire.FlagACK, h.iss+1, h.irs+7)
	h.expectNothing()
	if h.state() != Closed || len(r.errs) != 0 {
		t.Fatalf("state %v errs %v", h.state(), r.errs)
	}
	checkClean(t, h.l, h.pool)
}

// Close with refused (undelivered) data resets too.
func TestCloseWithRefusedDataSendsRST(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.refuse = 1
	h.send(h.iss+1, []byte("refused"), 0)
	h.drain()
	r.c.Close()
	h.expect(wire.FlagRST|wire.FlagACK, h.iss+1, h.irs+8)
	checkClean(t, h.l, h.pool)
}

// CloseWrite sends FIN but keeps receiving (MAY-1 half-duplex close).
func TestCloseWriteHalfCloseKeepsReceiving(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	a := h.iss + 1
	if err := r.c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	h.expect(wire.FlagFIN|wire.FlagACK, a, h.irs+1)
	if err := r.c.Write([]byte("x"), 0); err != errs.ErrNotConn {
		t.Fatalf("Write after CloseWrite: %v", err)
	}
	h.ack(a + 1)
	if r.c.State() != FinWait2 {
		t.Fatalf("state %v", r.c.State())
	}
	for i := range 3 {
		h.send(a+1, pattern(i*100, 100), 0)
	}
	if !bytes.Equal(r.got, pattern(0, 300)) {
		t.Fatalf("half-closed connection received %d bytes", len(r.got))
	}
	h.drain()
	h.send(a+1, nil, wire.FlagFIN)
	if r.fin != 1 {
		t.Fatal("end of stream not delivered")
	}
	h.expectSegment(func(s *outSeg) {
		if s.ack != h.pnxt {
			t.Fatalf("FIN not acknowledged: %v", s)
		}
	})
	if h.state() != TimeWait || r.c.IsValid() {
		t.Fatalf("state %v valid %v", h.state(), r.c.IsValid())
	}
}

// The FIN-WAIT-2 timeout bounds a connection the application closed
// (lwIP TCP_FIN_WAIT_TIMEOUT), also when Close follows CloseWrite.
func TestFinWait2TimeoutAfterCloseWriteThenClose(t *testing.T) {
	h, r := established(t, func(c *Config) { c.FinWait2Timeout = 10 * clock.Second }, plainPeer)
	r.c.CloseWrite()
	h.drain()
	h.ack(h.iss + 2)
	if h.state() != FinWait2 {
		t.Fatalf("state %v", h.state())
	}
	r.c.Close()
	h.advance(10 * clock.Second)
	if h.state() != Closed {
		t.Fatalf("FIN-WAIT-2 after the timeout: %v", h.state())
	}
	checkClean(t, h.l, h.pool)
}

func TestFinWait2TimeoutAfterClose(t *testing.T) {
	h, r := established(t, func(c *Config) { c.FinWait2Timeout = 10 * clock.Second }, plainPeer)
	r.c.Close()
	h.drain()
	h.ack(h.iss + 2)
	h.advance(10*clock.Second - 1)
	if h.state() != FinWait2 {
		t.Fatalf("state %v before the timeout", h.state())
	}
	h.advance(1)
	if h.state() != Closed {
		t.Fatalf("state %v after the timeout", h.state())
	}
	h.expectNothing()
	checkClean(t, h.l, h.pool)
}

// RFC 9293 USER TIMEOUT: unacknowledged data older than the timeout drops
// the connection with ErrTimeout, before MaxRetries would.
func TestUserTimeout(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.SetUserTimeout(5 * clock.Second)
	r.c.Write([]byte("data"), 0)
	r.c.Output()
	start := h.now
	h.advance(20 * clock.Second)
	if len(r.errs) != 1 || r.errs[0] != errs.ErrTimeout {
		t.Fatalf("Err %v, want ErrTimeout", r.errs)
	}
	segs := h.drain()
	last := segs[len(segs)-1]
	if !last.flags.Has(wire.FlagRST) {
		t.Fatalf("last segment %v, want RST", &last)
	}
	// Retransmissions at 1, 3, 7 s (RTO 1, 2, 4 s); the user timeout counts
	// from the first retransmission, so the drop comes at the expiry at or
	// after 1+5 s: 15 s.
	if el := last.at.Sub(start); el < 5*clock.Second || el > 16*clock.Second {
		t.Fatalf("dropped after %v", el)
	}
	if h.l.stats.UserTimeouts != 1 {
		t.Errorf("UserTimeouts %d", h.l.stats.UserTimeouts)
	}
}

// After LAST-ACK completes, the 4-tuple is free: a stray segment for it is
// answered as for no connection and never reaches the slot's next tenant.
func TestClosedConnectionLeavesNoDemuxEntry(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	h.send(h.iss+1, nil, wire.FlagFIN)
	r.c.Close()
	h.drain()
	h.ack(h.iss + 2)
	if h.state() != Closed {
		t.Fatalf("state %v", h.state())
	}
	// A new connection takes the slot.
	oldPort := h.pport
	h.pport = oldPort + 1
	h.irs = 77777
	r2 := h.acceptConn()
	// A segment for the old tuple.
	h.pport = oldPort
	h.inject(pkt{seq: h.irs + 2, ack: h.iss + 2, flags: wire.FlagACK, data: []byte("stray")})
	h.expectSegment(func(s *outSeg) {
		if !s.flags.Has(wire.FlagRST) || s.dport != oldPort {
			t.Fatalf("want RST to the old tuple, got %v", s)
		}
	})
	if len(r2.got) != 0 || r2.c.State() != Established {
		t.Fatalf("the stray segment reached the new connection: %q %v", r2.got, r2.c.State())
	}
}

// Recv returning ErrMem refuses the data: it stays queued (counted against
// the window) and is offered again, the same bytes, on a later Timer (lwIP
// refused_data).
func TestRefusedDataIsOfferedAgain(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.refuse = 1
	h.send(h.iss+1, []byte("first"), 0)
	if r.offers != 1 || len(r.got) != 0 {
		t.Fatalf("offers %d got %q", r.offers, r.got)
	}
	if n := h.pcbOf().rcv.readyLen; n != 5 {
		t.Fatalf("refused bytes held: %d", n)
	}
	h.drain()
	// Nothing else is going on: the Layer must still come back to it.
	if h.l.NextDeadline() == clock.Never {
		t.Fatal("no timer armed to offer the refused data again")
	}
	h.advance(clock.Second)
	if r.offers != 2 || string(r.got) != "first" {
		t.Fatalf("offers %d got %q", r.offers, r.got)
	}
	// Later data and the FIN follow in order.
	h.send(h.iss+1, []byte("second"), wire.FlagFIN)
	if string(r.got) != "firstsecond" || r.fin != 1 {
		t.Fatalf("got %q fin %d", r.got, r.fin)
	}
}

// A FIN behind refused data waits for it.
func TestFinWaitsBehindRefusedData(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.refuse = 2
	h.send(h.iss+1, []byte("data"), wire.FlagFIN)
	if r.fin != 0 {
		t.Fatal("end of stream delivered before the data")
	}
	h.advance(5 * clock.Second)
	if string(r.got) != "data" || r.fin != 1 {
		t.Fatalf("got %q fin %d", r.got, r.fin)
	}
}

// The application may Close (and Free p) from inside Recv, even with data
// still unread: the RST path must not free the buffer it handed over.
func TestCloseInsideRecv(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.onRecv = func(c Conn, p *pbuf.Buf) error {
		err := c.Close()
		p.Free()
		return err
	}
	h.send(h.iss+1, []byte("quit"), 0)
	h.expectSegment(func(s *outSeg) {
		if !s.flags.Has(wire.FlagRST) {
			t.Fatalf("want RST (data not Recved before Close), got %v", s)
		}
	})
	checkClean(t, h.l, h.pool)
}

// Same, with more data queued behind the buffer being delivered.
func TestCloseInsideRecvWithMoreQueued(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.refuse = 2
	h.send(h.iss+1, []byte("one"), 0)
	h.send(h.iss+1, []byte("two"), 0)
	if n := h.pcbOf().rcv.readyLen; n != 6 {
		t.Fatalf("%d bytes refused, want 6", n)
	}
	h.drain()
	r.onRecv = func(c Conn, p *pbuf.Buf) error {
		c.Recved(p.Len())
		p.Free()
		return c.Close()
	}
	h.advance(clock.Second)
	h.expectSegment(func(s *outSeg) {
		if !s.flags.Has(wire.FlagRST) {
			t.Fatalf("want RST (data still queued at Close), got %v", s)
		}
	})
	checkClean(t, h.l, h.pool)
}

// Abort from inside Recv returns ErrAbort; the buffer is the application's.
func TestAbortInsideRecv(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.onRecv = func(c Conn, p *pbuf.Buf) error {
		p.Free()
		c.Abort()
		return errs.ErrAbort
	}
	h.send(h.iss+1, []byte("x"), 0)
	h.send(h.iss+1, []byte("y"), 0) // after the abort: no connection
	if len(r.errs) != 1 || r.errs[0] != errs.ErrAbort {
		t.Fatalf("errs %v", r.errs)
	}
	checkClean(t, h.l, h.pool)
}
