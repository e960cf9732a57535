package tcp

// RFC 9293 §3.5 and §3.6 figure exchanges, replayed segment by segment.
// Sequence numbers are relative to the ISNs the Layers chose (the figures'
// 100 and 300).

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

// Figure 6, basic three-way handshake, with the Layer as TCP Peer B (passive):
//
//	    TCP Peer A                                           TCP Peer B
//	1.  CLOSED                                               LISTEN
//	2.  SYN-SENT    --> <SEQ=100><CTL=SYN>               --> SYN-RECEIVED
//	3.  ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>  <-- SYN-RECEIVED
//	4.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK>       --> ESTABLISHED
//	5.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK><DATA> --> ESTABLISHED
func TestRFC9293_Figure6_ThreeWayHandshake_Passive(t *testing.T) {
	h := newHarness(t, nil)
	h.listen(0)
	// 2.
	h.inject(pkt{seq: 100, flags: wire.FlagSYN, opts: wire.TCPOptions{MSS: 1460}})
	if got := h.state(); got != SynReceived {
		t.Fatalf("after SYN: %v, want SYN-RECEIVED", got)
	}
	// 3.
	sa := h.expectSegment(func(s *outSeg) {
		if s.flags != wire.FlagSYN|wire.FlagACK || s.ack != 101 {
			t.Fatalf("want <ACK=101><CTL=SYN,ACK>, got %v", s)
		}
		if s.opts.MSS != 1460 {
			t.Errorf("SYN-ACK MSS %d, want 1460 (MUST-14)", s.opts.MSS)
		}
		if s.opts.HasWScale || s.opts.HasTimestamps || s.opts.SACKPermitted {
			t.Errorf("SYN-ACK offers options the SYN did not: %v", s)
		}
	})
	iss := sa.seq
	h.expectNothing()
	if len(h.accepted) != 0 {
		t.Fatal("accepted before the handshake completed")
	}
	// 4.
	h.inject(pkt{seq: 101, ack: iss + 1, flags: wire.FlagACK})
	if got := h.state(); got != Established || len(h.accepted) != 1 {
		t.Fatalf("after ACK: %v, %d accepted", got, len(h.accepted))
	}
	r := h.accepted[0]
	if r.c.State() != Established {
		t.Fatalf("handle state %v", r.c.State())
	}
	if got := r.c.RemoteAddr(); got != netip.MustParseAddrPort("10.0.0.2:40000") {
		t.Errorf("RemoteAddr %v", got)
	}
	h.expectNothing()
	// 5.
	h.inject(pkt{seq: 101, ack: iss + 1, flags: wire.FlagACK | wire.FlagPSH, data: []byte("hello")})
	if string(r.got) != "hello" {
		t.Fatalf("received %q", r.got)
	}
	h.expectNothing() // the ACK is delayed
	h.advance(h.l.cfg.DelayedACK)
	h.expect(wire.FlagACK, iss+1, 106)
}

// Figure 6 with the Layer as TCP Peer A (active).
func TestRFC9293_Figure6_ThreeWayHandshake_Active(t *testing.T) {
	h := newHarness(t, nil)
	r := h.connectSYN() // 2.
	if r.c.State() != SynSent {
		t.Fatalf("state %v, want SYN-SENT", r.c.State())
	}
	iss := h.iss
	// 3.
	h.inject(pkt{seq: 300, ack: iss + 1, flags: wire.FlagSYN | wire.FlagACK, opts: wire.TCPOptions{MSS: 1460}})
	if r.c.State() != Established || r.connected != 1 {
		t.Fatalf("state %v connected %d", r.c.State(), r.connected)
	}
	// 4.
	h.expect(wire.FlagACK, iss+1, 301)
	// 5.
	if err := r.c.Write([]byte("data"), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	s := h.expect(wire.FlagACK|wire.FlagPSH, iss+1, 301)
	if string(s.data) != "data" {
		t.Fatalf("data %q", s.data)
	}
}

// Figure 6 between two Layers, both ends checked after every segment.
func TestRFC9293_Figure6_ThreeWayHandshake_Pair(t *testing.T) {
	p := newPair(t, nil)
	var rb *rec
	lc, _ := p.b.l.NewConn()
	lc.Bind(netip.Addr{}, srvPort)
	ln, _ := lc.Listen(0)
	ln.SetAcceptor(AcceptFunc(func(l Listener, c Conn, err error) error {
		rb = &rec{c: c}
		return c.SetHandler(rb)
	}))
	ra := &rec{}
	c, _ := p.a.l.NewConn()
	ra.c = c
	c.SetHandler(ra)
	if err := c.Connect(netip.AddrPortFrom(netip.AddrFrom4(ipB), srvPort)); err != nil {
		t.Fatal(err)
	}
	id := tuple{local: ipA, remote: ipB, lport: c.LocalAddr().Port(), rport: srvPort}
	rid := tuple{local: ipB, remote: ipA, lport: srvPort, rport: id.lport}
	states := func(step string, wa, wb State) {
		t.Helper()
		if a, b := stateOf(p.a.l, id), stateOf(p.b.l, rid); a != wa || b != wb {
			t.Fatalf("%s: A %v B %v, want %v %v\n%s", step, a, b, wa, wb, p.transcript())
		}
	}
	states("1", SynSent, Closed)
	p.deliverOne(p.b)
	states("2", SynSent, SynReceived)
	p.deliverOne(p.a)
	states("3", Established, SynReceived)
	p.deliverOne(p.b)
	states("4", Established, Established)
	if ra.connected != 1 || rb == nil {
		t.Fatal("callbacks missing")
	}
	c.Write([]byte("x"), 0)
	c.Output()
	p.deliverOne(p.b)
	states("5", Established, Established)
	if string(rb.got) != "x" {
		t.Fatalf("B got %q", rb.got)
	}
	syn, sa, ack := p.a.out.segs[0], p.b.out.segs[0], p.a.out.segs[1]
	if syn.flags != wire.FlagSYN || sa.flags != wire.FlagSYN|wire.FlagACK || sa.ack != syn.seq+1 ||
		ack.flags != wire.FlagACK || ack.seq != syn.seq+1 || ack.ack != sa.seq+1 {
		t.Fatalf("exchange:\n%s", p.transcript())
	}
}

// Figure 7, simultaneous open, between two Layers:
//
//	    TCP Peer A                                       TCP Peer B
//	1.  CLOSED                                           CLOSED
//	2.  SYN-SENT     --> <SEQ=100><CTL=SYN>              ...
//	3.  SYN-RECEIVED <-- <SEQ=300><CTL=SYN>              <-- SYN-SENT
//	4.               ... <SEQ=100><CTL=SYN>              --> SYN-RECEIVED
//	5.               --> <SEQ=100><ACK=301><CTL=SYN,ACK> ...
//	6.  ESTABLISHED  <-- <SEQ=300><ACK=101><CTL=SYN,ACK> <-- SYN-RECEIVED
//	7.               ... <SEQ=100><ACK=301><CTL=SYN,ACK> --> ESTABLISHED
func TestRFC9293_Figure7_SimultaneousOpen(t *testing.T) {
	p := newPair(t, nil)
	ra, rb := &rec{}, &rec{}
	ca, _ := p.a.l.NewConn()
	cb, _ := p.b.l.NewConn()
	ra.c, rb.c = ca, cb
	ca.SetHandler(ra)
	cb.SetHandler(rb)
	ca.Bind(netip.Addr{}, 5000)
	cb.Bind(netip.Addr{}, 6000)
	id := tuple{local: ipA, remote: ipB, lport: 5000, rport: 6000}
	rid := tuple{local: ipB, remote: ipA, lport: 6000, rport: 5000}
	states := func(step string, wa, wb State) {
		t.Helper()
		if a, b := stateOf(p.a.l, id), stateOf(p.b.l, rid); a != wa || b != wb {
			t.Fatalf("%s: A %v B %v, want %v %v\n%s", step, a, b, wa, wb, p.transcript())
		}
	}
	// 2. and 3.: both send SYN before either arrives.
	if err := ca.Connect(netip.MustParseAddrPort("10.0.0.2:6000")); err != nil {
		t.Fatal(err)
	}
	if err := cb.Connect(netip.MustParseAddrPort("10.0.0.1:5000")); err != nil {
		t.Fatal(err)
	}
	states("2", SynSent, SynSent)
	synA, synB := p.a.out.segs[0], p.b.out.segs[0]
	// 3. A receives B's SYN.
	p.deliverOne(p.a)
	states("3", SynReceived, SynSent)
	// 5. A answers with SYN,ACK.
	if sa := p.a.out.segs[1]; sa.flags != wire.FlagSYN|wire.FlagACK || sa.seq != synA.seq || sa.ack != synB.seq+1 {
		t.Fatalf("A's SYN-ACK %v", &sa)
	}
	// 4. B receives A's SYN.
	p.deliverOne(p.b)
	states("4", SynReceived, SynReceived)
	if sb := p.b.out.segs[1]; sb.flags != wire.FlagSYN|wire.FlagACK || sb.seq != synB.seq || sb.ack != synA.seq+1 {
		t.Fatalf("B's SYN-ACK %v", &sb)
	}
	// 6. A receives B's SYN,ACK.
	p.deliverOne(p.a)
	states("6", Established, SynReceived)
	// 7. B receives A's SYN,ACK.
	p.deliverOne(p.b)
	states("7", Established, Established)
	if ra.connected != 1 || rb.connected != 1 {
		t.Fatalf("Connected: A %d B %d", ra.connected, rb.connected)
	}
	// Whatever is left settles without a storm, and data flows.
	p.pump()
	if n := len(p.trace); n > 6 {
		t.Errorf("%d segments for a simultaneous open:\n%s", n, p.transcript())
	}
	ca.Write([]byte("ping"), 0)
	ca.Output()
	cb.Write([]byte("pong"), 0)
	cb.Output()
	p.advance(clock.Second)
	if string(ra.got) != "pong" || string(rb.got) != "ping" {
		t.Fatalf("A got %q, B got %q\n%s", ra.got, rb.got, p.transcript())
	}
}

// Figure 9, half-open connection discovery, active side crashed; the Layer
// is TCP Peer B with a live connection, the scripted peer A has forgotten it:
//
//	    TCP Peer A                                           TCP Peer B
//	1.  (CRASH)                               (send 300,receive 100)
//	2.  CLOSED                                           ESTABLISHED
//	3.  SYN-SENT --> <SEQ=400><CTL=SYN>              --> (??)
//	4.  (!!)     <-- <SEQ=300><ACK=100><CTL=ACK>     <-- ESTABLISHED
//	5.  SYN-SENT --> <SEQ=100><CTL=RST>              --> (Abort!!)
//	6.  SYN-SENT                                         CLOSED
//	7.  SYN-SENT --> <SEQ=400><CTL=SYN>              -->
func TestRFC9293_Figure9_HalfOpenDiscovery(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	sndNxt, rcvNxt := h.iss+1, h.irs+1
	// 3. A new SYN on the same 4-tuple: RFC 5961 §4 answers with an ACK.
	h.inject(pkt{seq: h.irs + 400_000, flags: wire.FlagSYN, opts: wire.TCPOptions{MSS: 1460}})
	// 4.
	ch := h.expect(wire.FlagACK, sndNxt, rcvNxt)
	if h.state() != Established {
		t.Fatalf("state %v", h.state())
	}
	// 5. A resets with the sequence number B acknowledged.
	h.inject(pkt{seq: ch.ack, flags: wire.FlagRST})
	// 6.
	if h.state() != Closed || r.c.IsValid() {
		t.Fatalf("state %v, handle valid %v", h.state(), r.c.IsValid())
	}
	if len(r.errs) != 1 || r.errs[0] != errs.ErrReset || r.errValid {
		t.Fatalf("Err calls %v (handle valid inside: %v), want one ErrReset", r.errs, r.errValid)
	}
	h.expectNothing()
	// 7. A's retransmitted SYN opens a new connection.
	h.inject(pkt{seq: h.irs + 400_000, flags: wire.FlagSYN, opts: wire.TCPOptions{MSS: 1460}})
	h.expectSegment(func(s *outSeg) {
		if s.flags != wire.FlagSYN|wire.FlagACK || s.ack != h.irs+400_001 {
			t.Fatalf("want SYN-ACK, got %v", s)
		}
	})
	checkInvariants(t, h.l)
}

// Figure 9 with the Layer as TCP Peer A: in SYN-SENT, an ACK that does not
// acknowledge our SYN draws <SEQ=SEG.ACK><CTL=RST>, and the SYN is retried.
func TestRFC9293_Figure9_HalfOpenDiscovery_SynSentSide(t *testing.T) {
	h := newHarness(t, nil)
	r := h.connectSYN()
	// 4. The old connection's ACK.
	h.inject(pkt{seq: 300, ack: 100, flags: wire.FlagACK})
	// 5.
	h.expect(wire.FlagRST, 100, 0)
	if r.c.State() != SynSent || len(r.errs) != 0 {
		t.Fatalf("state %v errs %v", r.c.State(), r.errs)
	}
	// 7. The SYN is retransmitted on the timer.
	h.advance(h.l.cfg.InitialRTO)
	h.expect(wire.FlagSYN, h.iss, 0)
}

// Figure 12, normal close sequence, the Layer as A (closes first) against a
// scripted B:
//
//	    TCP Peer A                                           TCP Peer B
//	1.  ESTABLISHED                                          ESTABLISHED
//	2.  (Close)
//	    FIN-WAIT-1  --> <SEQ=100><ACK=300><CTL=FIN,ACK>  --> CLOSE-WAIT
//	3.  FIN-WAIT-2  <-- <SEQ=300><ACK=101><CTL=ACK>      <-- CLOSE-WAIT
//	4.                                                       (Close)
//	    TIME-WAIT   <-- <SEQ=300><ACK=101><CTL=FIN,ACK>  <-- LAST-ACK
//	5.  TIME-WAIT   --> <SEQ=101><ACK=301><CTL=ACK>      --> CLOSED
//	6.  (2 MSL)
//	    CLOSED
func TestRFC9293_Figure12_NormalClose(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	a, b := h.iss+1, h.irs+1
	// 2.
	if err := r.c.Close(); err != nil {
		t.Fatal(err)
	}
	h.expect(wire.FlagFIN|wire.FlagACK, a, b)
	if h.state() != FinWait1 {
		t.Fatalf("state %v", h.state())
	}
	// 3.
	h.ack(a + 1)
	if h.state() != FinWait2 {
		t.Fatalf("state %v", h.state())
	}
	h.expectNothing()
	// 4.
	h.send(a+1, nil, wire.FlagFIN)
	if h.state() != TimeWait {
		t.Fatalf("state %v", h.state())
	}
	// 5.
	h.expect(wire.FlagACK, a+1, b+1)
	h.expectNothing()
	// 6.
	h.advance(h.l.cfg.TimeWait - 1)
	if h.state() != TimeWait {
		t.Fatalf("TIME-WAIT ended early: %v", h.state())
	}
	h.advance(1)
	if h.state() != Closed {
		t.Fatalf("state %v after 2 MSL", h.state())
	}
	if len(r.errs) != 0 {
		t.Errorf("Err called after Close: %v", r.errs)
	}
	checkClean(t, h.l, h.pool)
}

// Figure 12 with the Layer as B (the passive closer): CLOSE-WAIT, then
// LAST-ACK, then CLOSED when the FIN is acknowledged.
func TestRFC9293_Figure12_NormalClose_PassiveCloser(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	a, b := h.irs+1, h.iss+1 // A is the scripted peer here
	// 2.
	h.send(b, nil, wire.FlagFIN)
	if h.state() != CloseWait || r.fin != 1 {
		t.Fatalf("state %v, end of stream delivered %d times", h.state(), r.fin)
	}
	// 3. The FIN is acknowledged at once.
	h.expect(wire.FlagACK, b, a+1)
	// 4.
	r.c.Close()
	h.expect(wire.FlagFIN|wire.FlagACK, b, a+1)
	if h.state() != LastAck {
		t.Fatalf("state %v", h.state())
	}
	// 5.
	h.ack(b + 1)
	if h.state() != Closed {
		t.Fatalf("state %v", h.state())
	}
	h.expectNothing()
	checkClean(t, h.l, h.pool)
}

// Figure 12 between two Layers.
func TestRFC9293_Figure12_NormalClose_Pair(t *testing.T) {
	p := newPair(t, func(c *Config) { c.DelayedACK = -1 })
	ra := &rec{}
	rb := p.dial(ra)
	id := tuple{local: ipA, remote: ipB, lport: ra.c.LocalAddr().Port(), rport: srvPort}
	rid := tuple{local: ipB, remote: ipA, lport: srvPort, rport: id.lport}
	states := func(step string, wa, wb State) {
		t.Helper()
		if a, b := stateOf(p.a.l, id), stateOf(p.b.l, rid); a != wa || b != wb {
			t.Fatalf("%s: A %v B %v, want %v %v\n%s", step, a, b, wa, wb, p.transcript())
		}
	}
	p.trace = nil
	ra.c.Close()
	states("2", FinWait1, Established)
	p.deliverOne(p.b)
	states("2", FinWait1, CloseWait)
	p.deliverOne(p.a)
	states("3", FinWait2, CloseWait)
	rb.c.Close()
	states("4", FinWait2, LastAck)
	p.deliverOne(p.a)
	states("4", TimeWait, LastAck)
	p.deliverOne(p.b)
	states("5", TimeWait, Closed)
	if len(p.trace) != 4 {
		t.Fatalf("want 4 segments:\n%s", p.transcript())
	}
	p.advance(p.a.l.cfg.TimeWait)
	states("6", Closed, Closed)
	checkClean(t, p.a.l, p.a.pool)
	checkClean(t, p.b.l, p.b.pool)
}

// Figure 13, simultaneous close sequence, between two Layers:
//
//	    TCP Peer A                                           TCP Peer B
//	1.  ESTABLISHED                                          ESTABLISHED
//	2.  (Close)                                              (Close)
//	    FIN-WAIT-1  --> <SEQ=100><ACK=300><CTL=FIN,ACK>  ... FIN-WAIT-1
//	                <-- <SEQ=300><ACK=100><CTL=FIN,ACK>  <--
//	                ... <SEQ=100><ACK=300><CTL=FIN,ACK>  -->
//	3.  CLOSING     --> <SEQ=101><ACK=301><CTL=ACK>      ... CLOSING
//	                <-- <SEQ=301><ACK=101><CTL=ACK>      <--
//	                ... <SEQ=101><ACK=301><CTL=ACK>      -->
//	4.  TIME-WAIT                                            TIME-WAIT
//	    (2 MSL)                                              (2 MSL)
//	    CLOSED                                               CLOSED
func TestRFC9293_Figure13_SimultaneousClose(t *testing.T) {
	p := newPair(t, nil)
	ra := &rec{}
	rb := p.dial(ra)
	id := tuple{local: ipA, remote: ipB, lport: ra.c.LocalAddr().Port(), rport: srvPort}
	rid := tuple{local: ipB, remote: ipA, lport: srvPort, rport: id.lport}
	states := func(step string, wa, wb State) {
		t.Helper()
		if a, b := stateOf(p.a.l, id), stateOf(p.b.l, rid); a != wa || b != wb {
			t.Fatalf("%s: A %v B %v, want %v %v\n%s", step, a, b, wa, wb, p.transcript())
		}
	}
	p.a.out.segs, p.b.out.segs, p.trace = nil, nil, nil
	ra.c.Close()
	rb.c.Close()
	states("2", FinWait1, FinWait1)
	fa, fb := p.a.out.segs[0], p.b.out.segs[0]
	if fa.flags != wire.FlagFIN|wire.FlagACK || fb.flags != wire.FlagFIN|wire.FlagACK ||
		fa.ack != fb.seq || fb.ack != fa.seq {
		t.Fatalf("FINs:\n%s", p.transcript())
	}
	p.deliverOne(p.a)
	p.deliverOne(p.b)
	states("3", Closing, Closing)
	aa, ab := p.a.out.segs[1], p.b.out.segs[1]
	if aa.flags != wire.FlagACK || aa.seq != fa.seq+1 || aa.ack != fb.seq+1 ||
		ab.flags != wire.FlagACK || ab.seq != fb.seq+1 || ab.ack != fa.seq+1 {
		t.Fatalf("ACKs:\n%s", p.transcript())
	}
	p.deliverOne(p.a)
	p.deliverOne(p.b)
	states("4", TimeWait, TimeWait)
	p.pump()
	if len(p.trace) != 4 {
		t.Fatalf("want 4 segments:\n%s", p.transcript())
	}
	p.advance(p.a.l.cfg.TimeWait)
	states("4", Closed, Closed)
	checkClean(t, p.a.l, p.a.pool)
	checkClean(t, p.b.l, p.b.pool)
}

// RFC 9293 §3.10.7.3, SYN-SENT: a RST is acceptable only with an ACK of our
// SYN (then "connection reset"); a RST without ACK is dropped.
func TestRFC9293_SynSentRST(t *testing.T) {
	h := newHarness(t, nil)
	r := h.connectSYN()
	h.inject(pkt{seq: 0, flags: wire.FlagRST})
	h.inject(pkt{seq: 0, ack: h.iss + 5, flags: wire.FlagRST | wire.FlagACK})
	if r.c.State() != SynSent || len(r.errs) != 0 {
		t.Fatalf("state %v errs %v after unacceptable RSTs", r.c.State(), r.errs)
	}
	h.expectNothing()
	h.inject(pkt{seq: 0, ack: h.iss + 1, flags: wire.FlagRST | wire.FlagACK})
	if len(r.errs) != 1 || r.errs[0] != errs.ErrReset || r.c.IsValid() {
		t.Fatalf("errs %v", r.errs)
	}
	checkClean(t, h.l, h.pool)
}

// MUST-11: a RST in SYN-RECEIVED reached from an active open (simultaneous
// open) fails the connection; from a passive open it returns to LISTEN (see
// TestSynReceivedRSTReturnsToListen).
func TestRFC9293_SynReceivedFromActiveOpenRST(t *testing.T) {
	h := newHarness(t, nil)
	r := h.connectSYN()
	h.inject(pkt{seq: h.irs, flags: wire.FlagSYN, opts: wire.TCPOptions{MSS: 1460}})
	h.expect(wire.FlagSYN|wire.FlagACK, h.iss, h.irs+1)
	if r.c.State() != SynReceived {
		t.Fatal(r.c.State())
	}
	h.inject(pkt{seq: h.irs + 1, flags: wire.FlagRST})
	if len(r.errs) != 1 || r.errs[0] != errs.ErrReset {
		t.Fatalf("errs %v", r.errs)
	}
	checkClean(t, h.l, h.pool)
}

// SetPollInterval runs Handler.Poll at that interval; output follows a nil
// return.
func TestPollInterval(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	polls := 0
	app := &pollApp{rec: r, poll: func(c Conn) error {
		polls++
		if polls == 3 {
			c.Write([]byte("tick"), 0) // Poll's nil return sends it
		}
		return nil
	}}
	r.c.SetHandler(app)
	r.c.SetPollInterval(500 * ms)
	h.advance(500*ms - 1)
	if polls != 0 {
		t.Fatal("polled early")
	}
	h.advance(1)
	h.advance(1000 * ms)
	if polls != 3 {
		t.Fatalf("%d polls in 1.5 s", polls)
	}
	if s := h.next(); string(s.data) != "tick" {
		t.Fatalf("sent %v", s)
	}
	r.c.SetPollInterval(0)
	h.ack(h.iss + 5)
	h.advance(10 * clock.Second)
	if polls != 3 {
		t.Fatal("polled after SetPollInterval(0)")
	}
}

type pollApp struct {
	*rec
	poll func(Conn) error
}

func (a *pollApp) Poll(c Conn) error { return a.poll(c) }

// CLOSE in SYN-RECEIVED (reached by a simultaneous open) queues the FIN
// until the handshake completes (RFC 9293 §3.10.4); the close then runs its
// course.
func TestRFC9293_CloseInSynReceived(t *testing.T) {
	p := newPair(t, nil)
	ra, rb := &rec{}, &rec{onFin: func(c Conn) error { return c.Close() }}
	ca, _ := p.a.l.NewConn()
	cb, _ := p.b.l.NewConn()
	ra.c, rb.c = ca, cb
	ca.SetHandler(ra)
	cb.SetHandler(rb)
	ca.Bind(addrAny, 5000)
	cb.Bind(addrAny, 6000)
	ca.Connect(netip.MustParseAddrPort("10.0.0.2:6000"))
	cb.Connect(netip.MustParseAddrPort("10.0.0.1:5000"))
	p.deliverOne(p.a) // A: SYN-RECEIVED
	if ca.State() != SynReceived {
		t.Fatal(ca.State())
	}
	ca.Write([]byte("last words"), 0)
	ca.Close()
	p.advance(5 * clock.Second)
	if string(rb.got) != "last words" || rb.fin != 1 {
		t.Fatalf("B got %q fin %d\n%s", rb.got, rb.fin, p.transcript())
	}
	p.advance(2 * clock.Minute)
	checkClean(t, p.a.l, p.a.pool)
	checkClean(t, p.b.l, p.b.pool)
}

// Data written in SYN-SENT goes out with the handshake's completion.
func TestWriteInSynSent(t *testing.T) {
	h := newHarness(t, nil)
	r := h.connectSYN()
	if err := r.c.Write([]byte("early"), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	h.expectNothing()
	h.inject(pkt{seq: h.irs, ack: h.iss + 1, flags: wire.FlagSYN | wire.FlagACK, opts: wire.TCPOptions{MSS: 1460}})
	s := h.next()
	if s.seq != h.iss+1 || s.ack != h.irs+1 || string(s.data) != "early" {
		t.Fatalf("got %v", s)
	}
	h.expectNothing()
}
