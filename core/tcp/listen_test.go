package tcp

// Listeners, backlogs and SYN cookies; initial sequence numbers and
// ephemeral ports.

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// fillBacklog puts one connection in SYN-RECEIVED on a listener with
// backlog 1 and moves the peer to another port.
func fillBacklog(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	h := newHarness(t, mod)
	h.listen(1)
	h.peerSYN()
	if s := h.next(); s.flags != wire.FlagSYN|wire.FlagACK {
		t.Fatalf("first SYN: %v", s)
	}
	h.pport++
	return h
}

// A full backlog with BacklogSYNCookies answers with a stateless SYN-ACK;
// the ACK that returns the cookie creates and accepts the connection.
func TestBacklogSYNCookiesHandshakeCompletes(t *testing.T) {
	for _, o := range []synOpts{plainPeer, fullPeer, {mss: 1000, ws: 2, ts: true}} {
		h := fillBacklog(t, nil)
		h.po = o
		h.peerSYN()
		sa := h.next()
		if sa.flags != wire.FlagSYN|wire.FlagACK || sa.ack != h.irs+1 {
			t.Fatalf("%+v: cookie SYN-ACK %v", o, sa)
		}
		if h.l.stats.SYNCookiesSent != 1 || h.pcbOf() != nil {
			t.Fatalf("%+v: a cookie SYN-ACK created state", o)
		}
		if sa.opts.HasTimestamps != o.ts || sa.opts.SACKPermitted != (o.sack && o.ts) ||
			sa.opts.HasWScale != (o.ws >= 0 && o.ts) {
			t.Fatalf("%+v: cookie options %v", o, sa)
		}
		if o.ts && sa.opts.TSVal > uint32(h.now/clock.Time(clock.Millisecond)) {
			t.Errorf("%+v: cookie TSval %d ahead of the clock %d ms", o, sa.opts.TSVal, h.now/clock.Time(clock.Millisecond))
		}
		h.iss, h.pnxt, h.pts = sa.seq, h.irs+1, o.ts
		h.advance(10 * ms)
		h.ack(h.iss + 1)
		if len(h.accepted) != 1 || h.l.stats.SYNCookiesOK != 1 {
			t.Fatalf("%+v: cookie ACK: accepted %d", o, len(h.accepted))
		}
		r := h.accepted[0]
		in := r.c.Info()
		if in.State != Established {
			t.Fatal(in.State)
		}
		// The cookie keeps the largest MSS class at most the peer's.
		wantMSS := uint32(0)
		for _, m := range cookieMSS {
			if uint32(m) <= uint32(o.mss) {
				wantMSS = uint32(m)
			}
		}
		if o.ts {
			if in.SACK != o.sack || (in.SndWScale >= 0) != (o.ws >= 0) || (o.ws >= 0 && int(in.SndWScale) != o.ws) {
				t.Fatalf("%+v: options recovered from the cookie: %+v", o, in)
			}
		}
		if in.SndMSS != wantMSS {
			t.Fatalf("%+v: MSS %d from the cookie, want %d", o, in.SndMSS, wantMSS)
		}
		// Data both ways.
		h.send(h.iss+1, []byte("ping"), 0)
		if string(r.got) != "ping" {
			t.Fatalf("%+v: got %q", o, r.got)
		}
		r.c.Write([]byte("pong"), 0)
		r.c.Output()
		var last *outSeg
		for _, s := range h.drain() {
			last = &s
		}
		if last == nil || string(last.data) != "pong" || last.seq != h.iss+1 || last.ack != h.pnxt {
			t.Fatalf("%+v: reply %v", o, last)
		}
		if o.ts && last.opts.TSVal < sa.opts.TSVal {
			t.Fatalf("%+v: TSval went back from %d (cookie) to %d", o, sa.opts.TSVal, last.opts.TSVal)
		}
	}
}

// The cookie ACK may carry data (and the application sees it after Accept).
func TestBacklogSYNCookieACKWithData(t *testing.T) {
	h := fillBacklog(t, nil)
	h.peerSYN()
	sa := h.next()
	h.iss, h.pnxt = sa.seq, h.irs+1
	h.send(h.iss+1, []byte("hello"), wire.FlagPSH)
	if len(h.accepted) != 1 || string(h.accepted[0].got) != "hello" {
		t.Fatalf("accepted %d", len(h.accepted))
	}
	checkInvariants(t, h.l)
	h.accepted[0].c.Abort()
	h.lst.Close()
	h.advance(clock.Minute)
	checkClean(t, h.l, h.pool)
}

// A forged or stale cookie draws <SEQ=SEG.ACK><CTL=RST> and creates nothing.
func TestBacklogSYNCookieInvalid(t *testing.T) {
	h := fillBacklog(t, nil)
	h.peerSYN()
	sa := h.next()
	h.inject(pkt{seq: h.irs + 1, ack: sa.seq + 2, flags: wire.FlagACK})
	h.expect(wire.FlagRST, sa.seq+2, 0)
	h.inject(pkt{seq: h.irs + 2, ack: sa.seq + 1, flags: wire.FlagACK}) // other ISN
	h.expect(wire.FlagRST, sa.seq+1, 0)
	// The right one, three periods later.
	h.advance(3 * cookiePeriod)
	h.drain() // the first connection's SYN-ACKs
	h.inject(pkt{seq: h.irs + 1, ack: sa.seq + 1, flags: wire.FlagACK})
	h.expect(wire.FlagRST, sa.seq+1, 0)
	if len(h.accepted) != 0 || h.l.stats.SYNCookiesBad != 3 {
		t.Fatalf("accepted %d bad %d", len(h.accepted), h.l.stats.SYNCookiesBad)
	}
}

func TestBacklogDrop(t *testing.T) {
	h := fillBacklog(t, func(c *Config) { c.Backlog = BacklogDrop })
	h.peerSYN()
	h.expectNothing()
	if h.l.stats.BacklogDrops != 1 || h.pcbOf() != nil {
		t.Fatal("not dropped")
	}
}

func TestBacklogReset(t *testing.T) {
	h := fillBacklog(t, func(c *Config) { c.Backlog = BacklogReset })
	h.peerSYN()
	h.expect(wire.FlagRST|wire.FlagACK, 0, h.irs+1)
	if h.l.stats.BacklogDrops != 1 || h.pcbOf() != nil {
		t.Fatal("not refused")
	}
}

// Completing a handshake frees its backlog slot.
func TestBacklogSlotFreedOnAccept(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Backlog = BacklogDrop })
	h.listen(1)
	for i := range 4 {
		h.pport = peerPort + uint16(i)
		h.acceptConn()
	}
	if len(h.accepted) != 4 {
		t.Fatal(len(h.accepted))
	}
}

// Without an acceptor (or when it fails) a completed connection is reset.
func TestAcceptorMissingOrFailing(t *testing.T) {
	h := newHarness(t, nil)
	h.listen(0)
	h.lst.SetAcceptor(AcceptFunc(func(l Listener, c Conn, err error) error { return errs.ErrMem }))
	h.peerSYN()
	sa := h.next()
	h.pnxt = h.irs + 1
	h.ack(sa.seq + 1)
	h.expectSegment(func(s *outSeg) {
		if !s.flags.Has(wire.FlagRST) {
			t.Fatalf("want RST, got %v", s)
		}
	})
	checkClean(t, h.l, h.pool)
}

// Closing a listener resets its half-open connections and frees the port.
func TestListenerClose(t *testing.T) {
	h := newHarness(t, nil)
	ln := h.listen(0)
	h.peerSYN()
	h.next()
	ln.Close()
	h.expectSegment(func(s *outSeg) {
		if !s.flags.Has(wire.FlagRST) {
			t.Fatalf("want RST, got %v", s)
		}
	})
	if ln.IsValid() || ln.SetAcceptor(nil) != errs.ErrClosed {
		t.Fatal("listener handle still valid")
	}
	h.inject(pkt{seq: 5, flags: wire.FlagSYN})
	h.expect(wire.FlagRST|wire.FlagACK, 0, 6)
	checkClean(t, h.l, h.pool)
	h.listen(0) // the port is free again
}

// A SYN that arrived as a link-layer broadcast is dropped (MUST-57).
func TestSYNToBroadcastDropped(t *testing.T) {
	h := newHarness(t, nil)
	h.listen(0)
	h.inject(pkt{seq: 1, flags: wire.FlagSYN, flagsIn: pbuf.LinkBroadcast})
	h.expectNothing()
	if h.pcbOf() != nil {
		t.Fatal("connection from a broadcast SYN")
	}
}

// RFC 6528: ISN = M + F(4-tuple, secret): different per tuple, advancing
// with a 4 µs clock for one tuple (MUST-8, MUST-9, SHLD-1).
func TestRFC6528_ISN(t *testing.T) {
	h := newHarness(t, nil)
	id := tuple{local: ipA, remote: ipB, lport: 80, rport: 40000}
	seen := map[wire.Seq]bool{}
	var prev wire.Seq
	sameDelta := 0
	for i := range 200 {
		id.rport = 40000 + uint16(i)
		s := h.l.isn(id)
		if seen[s] {
			t.Fatalf("ISN %d repeats", uint32(s))
		}
		seen[s] = true
		if i > 1 && s-prev == 1 {
			sameDelta++
		}
		prev = s
	}
	if sameDelta > 2 {
		t.Fatalf("ISNs of neighbouring tuples are sequential")
	}
	id.rport = 40000
	a := h.l.isn(id)
	h.advance(clock.Second)
	b := h.l.isn(id)
	if b-a != 250000 {
		t.Fatalf("ISN advanced %d in 1 s, want 250000 (one per 4 µs)", uint32(b-a))
	}
	// Another secret, other ISNs.
	h2 := newHarness(t, func(c *Config) { c.ISNSecret[3] ^= 1 })
	h2.now = h.now
	h2.l.SetNow(h.now)
	if h2.l.isn(id) == b {
		t.Fatal("ISN independent of the secret")
	}
	// On the wire: two SYN-ACKs for two tuples at the same instant differ.
	h.listen(0)
	h.peerSYN()
	s1 := h.next()
	h.pport++
	h.peerSYN()
	s2 := h.next()
	if s1.seq == s2.seq || s2.seq-s1.seq == 1 {
		t.Fatalf("ISS %d and %d", uint32(s1.seq), uint32(s2.seq))
	}
}

// Ephemeral ports are random in 49152–65535 (RFC 6056).
func TestEphemeralPortsRandom(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPCBs = 64 })
	seen := map[uint16]bool{}
	var ports []uint16
	for range 60 {
		c, err := h.l.NewConn()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:80")); err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().Port()
		if p < 49152 || seen[p] {
			t.Fatalf("port %d (seen %v)", p, seen[p])
		}
		seen[p] = true
		ports = append(ports, p)
	}
	seq := 0
	for i := 1; i < len(ports); i++ {
		if ports[i] == ports[i-1]+1 {
			seq++
		}
	}
	if seq > 3 {
		t.Fatalf("ports are sequential: %v", ports)
	}
}

// Bind and Connect argument checks (MUST-46: no OPEN to broadcast or
// multicast).
func TestBindConnectChecks(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.l.NewConn()
	for _, a := range []string{"255.255.255.255:80", "224.0.0.1:80", "0.0.0.0:80", "10.0.0.2:0", "[::1]:80"} {
		if err := c.Connect(netip.MustParseAddrPort(a)); err != errs.ErrVal {
			t.Errorf("Connect(%s): %v, want ErrVal", a, err)
		}
	}
	if err := c.Bind(netip.MustParseAddr("10.9.9.9"), 80); err != errs.ErrVal {
		t.Errorf("Bind to a foreign address: %v", err)
	}
	h.listen(0)
	if err := c.Bind(netip.Addr{}, srvPort); err != errs.ErrInUse {
		t.Errorf("Bind to a listening port: %v", err)
	}
	if err := c.Bind(netip.Addr{}, 0); err != nil {
		t.Fatal(err)
	}
	if p := c.LocalAddr().Port(); p < 49152 {
		t.Fatalf("ephemeral %d", p)
	}
	h.out.routeErr = true
	if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:80")); err != errs.ErrRoute {
		t.Errorf("Connect without a route: %v", err)
	}
	h.out.routeErr = false
	if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:80")); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:80")); err != errs.ErrIsConn {
		t.Errorf("second Connect: %v", err)
	}
	// All PCBs in use: NewConn fails with ErrMem.
	for {
		if _, err := h.l.NewConn(); err != nil {
			if err != errs.ErrMem {
				t.Fatal(err)
			}
			break
		}
	}
	_ = bytes.Equal
}

// The race of SYN cookies: a full backlog answers the SYN with a cookie, the
// peer's retransmitted SYN finds room and gets a normal SYN-ACK with another
// ISS, and the peer answers the cookie. The ACK carries a valid cookie for
// the connection's SYN: it must complete the connection, not draw a RST.
func TestBacklogSYNCookieRaceWithRetransmittedSYN(t *testing.T) {
	h := newHarness(t, nil)
	h.listen(1)
	h.l.lst[0].pending = 1 // the backlog is full for this SYN
	h.peerSYN()
	cookie := h.next()
	if cookie.flags != wire.FlagSYN|wire.FlagACK || h.l.stats.SYNCookiesSent != 1 {
		t.Fatalf("cookie SYN-ACK: %v", cookie)
	}
	h.l.lst[0].pending = 0 // room again
	h.peerSYN()            // the retransmission
	normal := h.next()
	if normal.flags != wire.FlagSYN|wire.FlagACK || normal.seq == cookie.seq {
		t.Fatalf("second SYN-ACK %v, cookie %v", normal, cookie)
	}
	h.iss, h.pnxt = cookie.seq, h.irs+1
	h.ack(cookie.seq + 1)
	for _, s := range h.drain() {
		if s.flags.Has(wire.FlagRST) {
			t.Fatalf("the cookie's ACK drew a RST: %v", s)
		}
	}
	if len(h.accepted) != 1 || h.accepted[0].c.State() != Established {
		t.Fatalf("accepted %d connections", len(h.accepted))
	}
	h.send(cookie.seq+1, []byte("hi"), 0)
	if string(h.accepted[0].got) != "hi" {
		t.Fatalf("got %q after the cookie ACK", h.accepted[0].got)
	}
}
