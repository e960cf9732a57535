package tcp

// Zero-allocation proofs (STYLE §0 rule 4): the steady-state paths allocate
// nothing once the Layer is built and warmed up.

import (
	"encoding/binary"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// template returns the bytes of p (IPv4 datagram) for injectTemplate.
func (h *harness) template(p pkt) []byte {
	h.t.Helper()
	p.src, p.dst, p.sport, p.dport = h.peer, ipA, h.pport, h.lport
	if p.wnd == 0 {
		p.wnd = int(h.pwnd)
	}
	b, _ := buildSeg(h.pool, &p)
	out := append([]byte(nil), b.Bytes()...)
	b.Free()
	return out
}

// injectTemplate injects a copy of tmpl with seq and ack patched in.
func (h *harness) injectTemplate(tmpl []byte, seq, ack wire.Seq) {
	b, err := h.pool.Alloc(pbuf.LayerLink, len(tmpl))
	if err != nil {
		h.t.Fatal("pool exhausted")
	}
	copy(b.Bytes(), tmpl)
	ip := wire.IPv4(b.Bytes())
	t := wire.TCP(ip[wire.IPv4MinHeaderLen:])
	binary.BigEndian.PutUint32(t[4:], uint32(seq))
	binary.BigEndian.PutUint32(t[8:], uint32(ack))
	t.SetChecksum(0)
	t.SetChecksum(wire.Fold(wire.Checksum(t, wire.PseudoHeaderSum(h.peer, ipA, wire.ProtoTCP, len(t)))))
	h.l.SetNow(h.now)
	h.l.Input(b, ip)
}

// sinkApp is an application that allocates nothing: it consumes data,
// closes on end of stream, counts.
type sinkApp struct {
	c       Conn
	recvd   int
	sent    int
	polls   int
	fins    int
	errs    int
	closeOn bool
}

func (a *sinkApp) Connected(c Conn, err error) error { return nil }
func (a *sinkApp) Recv(c Conn, p *pbuf.Buf, err error) error {
	if p == nil {
		a.fins++
		if a.closeOn {
			return c.Close()
		}
		return nil
	}
	a.recvd += p.Len()
	c.Recved(p.Len())
	p.Free()
	return nil
}
func (a *sinkApp) Sent(c Conn, n int) error { a.sent += n; return nil }
func (a *sinkApp) Poll(c Conn) error        { a.polls++; return nil }
func (a *sinkApp) Err(c Conn, err error)    { a.errs++ }

// noAllocs runs f twice to warm up, then under AllocsPerRun (one more
// warm-up and 1000 measured runs): 1003 runs in all.
func noAllocs(t *testing.T, f func()) {
	t.Helper()
	f()
	f()
	if n := testing.AllocsPerRun(1000, f); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// Write + Output + the peer's ACK.
func TestNoAllocsBulkSend(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	h.out.record = false
	app := &sinkApp{}
	r.c.SetHandler(app)
	c := h.pcbOf()
	data := pattern(0, 4*smss)
	ack := h.template(pkt{flags: wire.FlagACK})
	noAllocs(t, func() {
		if err := r.c.Write(data, 0); err != nil {
			t.Fatal(err)
		}
		r.c.Output()
		h.injectTemplate(ack, h.pnxt, c.snd.NXT)
	})
	if app.sent != 1003*len(data) || r.c.SendQueueLen() != 0 {
		t.Fatalf("sent %d, queue %d", app.sent, r.c.SendQueueLen())
	}
	checkInvariants(t, h.l)
}

// The same with timestamps and SACK negotiated, over the timer.
func TestNoAllocsBulkSendTimestamps(t *testing.T) {
	h, r := established(t, nil, fullPeer)
	h.out.record = false
	app := &sinkApp{}
	r.c.SetHandler(app)
	c := h.pcbOf()
	data := pattern(0, 3*1448)
	ack := h.template(pkt{flags: wire.FlagACK, opts: wire.TCPOptions{HasTimestamps: true, TSVal: 1 << 30}})
	noAllocs(t, func() {
		r.c.Write(data, 0)
		r.c.Output()
		h.now = h.now.Add(time1ms)
		h.tick()
		h.injectTemplate(ack, h.pnxt, c.snd.NXT)
	})
	if app.sent != 1003*len(data) {
		t.Fatalf("sent %d", app.sent)
	}
}

const time1ms = clock.Millisecond

// Data in, Recv, Recved, ACKs out.
func TestNoAllocsBulkReceive(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	h.out.record = false
	app := &sinkApp{}
	r.c.SetHandler(app)
	seg := h.template(pkt{flags: wire.FlagACK, data: pattern(0, smss)})
	noAllocs(t, func() {
		h.injectTemplate(seg, h.pnxt, h.iss+1)
		h.pnxt += smss
	})
	if app.recvd != 1003*smss {
		t.Fatalf("received %d", app.recvd)
	}
	h.tick()
	checkInvariants(t, h.l)
}

// Out-of-order arrival and the fill: SACK blocks, the out-of-order queue.
func TestNoAllocsOutOfOrderReceive(t *testing.T) {
	h, r := established(t, nil, fullPeer)
	h.out.record = false
	h.pts = false
	app := &sinkApp{}
	r.c.SetHandler(app)
	seg := h.template(pkt{flags: wire.FlagACK, data: pattern(0, 1000)})
	noAllocs(t, func() {
		h.injectTemplate(seg, h.pnxt+1000, h.iss+1)
		h.injectTemplate(seg, h.pnxt, h.iss+1)
		h.pnxt += 2000
	})
	if app.recvd != 1003*2000 {
		t.Fatalf("received %d", app.recvd)
	}
}

// A whole connection: connect, accept, data, close on both sides, TIME-WAIT
// and its expiry.
func TestNoAllocsConnectAcceptCloseCycle(t *testing.T) {
	p := newPair(t, nil)
	p.quiet = true
	p.a.out.record, p.b.out.record = false, false
	srv := &sinkApp{closeOn: true}
	lc, _ := p.b.l.NewConn()
	lc.Bind(addrAny, srvPort)
	ln, _ := lc.Listen(0)
	ln.SetAcceptor(AcceptFunc(func(l Listener, c Conn, err error) error {
		srv.c = c
		return c.SetHandler(srv)
	}))
	cli := &sinkApp{}
	msg := []byte("GET / HTTP/1.0\r\n\r\n")
	cycles := 0
	noAllocs(t, func() {
		c, err := p.a.l.NewConn()
		if err != nil {
			t.Fatal(err)
		}
		c.SetHandler(cli)
		if err := c.Connect(addrPortB); err != nil {
			t.Fatal(err)
		}
		p.pump()
		c.Write(msg, 0)
		c.Close()
		p.pump()
		p.advance(p.a.l.cfg.TimeWait + clock.Second)
		cycles++
	})
	if srv.recvd != cycles*len(msg) || srv.fins != cycles {
		t.Fatalf("server received %d bytes and %d FINs in %d cycles", srv.recvd, srv.fins, cycles)
	}
	ln.Close()
	checkClean(t, p.a.l, p.a.pool)
	checkClean(t, p.b.l, p.b.pool)
}

// Timer over many connections with keepalive and poll timers running.
func TestNoAllocsTimerManyConnections(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPCBs = 64 })
	h.po = plainPeer
	h.out.record = false
	app := &sinkApp{}
	for i := range 64 {
		h.pport = peerPort + uint16(i)
		h.out.record = true
		r := h.acceptConn()
		h.out.record = false
		r.c.SetHandler(app)
		r.c.SetPollInterval(50 * clock.Millisecond)
		r.c.SetKeepAlive(true, 200*clock.Millisecond, 100*clock.Millisecond, 255)
	}
	noAllocs(t, func() {
		h.now = h.now.Add(10 * clock.Millisecond)
		h.tick()
	})
	if app.polls < 64*150 || app.errs != 0 {
		t.Fatalf("polls %d errs %d", app.polls, app.errs)
	}
	if h.l.stats.KeepAliveProbes == 0 {
		t.Fatal("no keepalive probes")
	}
}
