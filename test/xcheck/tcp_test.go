package xcheck

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
)

const (
	tcpPort    = 5001
	closedPort = 9 // nobody listens there
)

// heavyTCP reports whether the full-size TCP cases run: not with -short,
// not under the race detector (which slows both stacks down tenfold).
func heavyTCP() bool { return !testing.Short() && !tcpRace }

// tcpConfig is lwgo's configuration for the TCP cross-checks: room for
// n connections and their windows.
func tcpConfig(n int) core.Config {
	cfg := core.Config{Seed: 1, PoolBufs: 2048}
	cfg.TCP.MaxPCBs = n + 16
	cfg.TCP.MaxTimeWait = n + 16
	cfg.TCP.SynBacklog = n + 16
	if n > 16 {
		cfg.PoolBufs = 8192
	}
	return cfg
}

// conn is one lwgo–gVisor connection under test.
type conn struct {
	lw *lwConn
	gv *gvConn
	d  *gvDialer // gVisor client only
}

func (c *conn) finished() bool {
	return c.lw.finished() && c.gv != nil && c.gv.finished()
}

// flows returns the flows of a connection's client and server that move up
// bytes client→server and down bytes server→client.
func flows(i int, up, down int64, pattern int) (cli, srv flow) {
	cs, ss := uint64(2*i+101), uint64(2*i+102)
	cli = flow{send: up, recv: down, sendSeed: cs, recvSeed: ss, sendAfterEOF: pattern == serverFirst}
	srv = flow{send: down, recv: up, sendSeed: ss, recvSeed: cs, sendAfterEOF: pattern == requestResponse}
	return cli, srv
}

// Close patterns.
const (
	bothAtOnce      = iota // both ends send at once, FINs cross
	requestResponse        // the client half-closes first; the server answers after the FIN
	serverFirst            // the server sends and half-closes first; the client answers after the FIN
	numPatterns
)

// lwgoClients opens len(specs) connections from lwgo clients to a gVisor
// server at once.
func lwgoClients(tp *tcpPair, specs [][2]flow) []*conn {
	tp.t.Helper()
	conns := make([]*conn, len(specs))
	byPort := map[uint16]*conn{}
	tp.gvListen(tcpPort, len(specs)+16, func(remote uint16) (string, flow, func(*gvConn)) {
		c := byPort[remote]
		if c == nil {
			tp.t.Errorf("gVisor accepted a connection from unknown port %d", remote)
			return "stray", flow{}, nil
		}
		delete(byPort, remote)
		i := indexOf(conns, c)
		return fmt.Sprintf("server %d", i), specs[i][1], func(g *gvConn) { c.gv = g }
	})
	for i, s := range specs {
		c := &conn{lw: tp.newLwConn(fmt.Sprintf("client %d", i), s[0])}
		conns[i] = c
		byPort[tp.lwDial(tcpPort, c.lw)] = c
	}
	return conns
}

func indexOf(cs []*conn, c *conn) int {
	for i := range cs {
		if cs[i] == c {
			return i
		}
	}
	return -1
}

// gvisorClients opens len(specs) connections from gVisor clients to an
// lwgo server at once.
func gvisorClients(tp *tcpPair, specs [][2]flow) []*conn {
	tp.t.Helper()
	conns := make([]*conn, len(specs))
	byPort := map[uint16]*conn{}
	tp.lwListen(tcpPort, len(specs)+16, func(remote uint16) *lwConn {
		c := byPort[remote]
		if c == nil {
			return nil
		}
		delete(byPort, remote)
		return c.lw
	})
	for i, s := range specs {
		c := &conn{lw: tp.newLwConn(fmt.Sprintf("server %d", i), s[1])}
		conns[i] = c
		c.d = tp.gvDial(tcpPort, fmt.Sprintf("client %d", i), s[0])
		byPort[c.d.port] = c
	}
	// The gVisor end appears when the dial completes.
	tp.hooks = append(tp.hooks, func() {
		for _, c := range conns {
			if c.gv == nil && c.d.conn != nil {
				c.gv = c.d.conn
			}
		}
	})
	return conns
}

// runAll runs until every connection finished, checks each, and returns
// the virtual time the slowest took; bound is the limit.
func runAll(tp *tcpPair, conns []*conn, bound clock.Duration) clock.Duration {
	tp.t.Helper()
	start := tp.clk.Now()
	tp.run(fmt.Sprintf("%d connections", len(conns)), bound, func() bool {
		for _, c := range conns {
			if c.lw.err != nil {
				tp.t.Fatalf("%s: lwgo connection lost: %v\n%s", c.lw.name, c.lw.err, c.lw.describe())
			}
			if c.d != nil && c.d.err != nil {
				tp.t.Fatalf("%s: gVisor connect failed: %v", c.lw.name, c.d.err)
			}
			if !c.finished() {
				return false
			}
		}
		return true
	})
	for _, c := range conns {
		checkExchange(tp.t, c.lw, c.gv)
	}
	return tp.clk.Now().Sub(start)
}

// checkNegotiated checks what the handshake of c agreed on, from lwgo's
// Info and from the SYN options both stacks sent: MSS 1460 each way,
// window scaling (lwgo's 256 KiB window needs a shift of 3), timestamps
// and SACK (RFC 7323, RFC 2018).
func checkNegotiated(t testing.TB, tp *tcpPair, c *conn) {
	t.Helper()
	in := c.lw.info
	if in.SndMSS != 1460 || in.RcvMSS != 1460 || in.SndWScale < 0 || in.RcvWScale != 3 || !in.Timestamps || !in.SACK {
		t.Errorf("lwgo negotiated %+v; want MSS 1460/1460, a send window scale, receive scale 3, timestamps and SACK", in)
	}
	lport := c.lw.c.LocalAddr().Port()
	rport := c.lw.c.RemoteAddr().Port()
	lo, ok1 := tp.lwSYN[lport]
	gvo, ok2 := tp.gvSYN[rport]
	if !ok1 || !ok2 {
		t.Fatalf("SYN options not seen: lwgo %v, gVisor %v", ok1, ok2)
	}
	if lo.MSS != 1460 || lo.WS != 3 || !lo.TS || !lo.SACKPermitted {
		t.Errorf("lwgo's SYN offered %+v, want MSS 1460, WS 3, TS, SACK-permitted", lo)
	}
	if !gvo.TS || !gvo.SACKPermitted || gvo.WS < 0 {
		t.Errorf("gVisor's SYN offered %+v, want WS, TS, SACK-permitted", gvo)
	}
	if int(in.SndWScale) != gvo.WS {
		t.Errorf("lwgo uses send window scale %d, gVisor offered %d", in.SndWScale, gvo.WS)
	}
	t.Logf("lwgo offered MSS=%d WS=%d TS=%v SACK=%v; gVisor offered MSS=%d WS=%d TS=%v SACK=%v",
		lo.MSS, lo.WS, lo.TS, lo.SACKPermitted, gvo.MSS, gvo.WS, gvo.TS, gvo.SACKPermitted)
}

// TestRFC7323_RFC2018_HandshakeLwgoClientGVisorServer: lwgo connects to a
// gVisor listener; both offer and agree on window scaling, timestamps and
// SACK; a small exchange both ways arrives intact and both close.
func TestRFC7323_RFC2018_HandshakeLwgoClientGVisorServer(t *testing.T) {
	tp := newTCPPair(t, tcpOptions{lw: tcpConfig(1)})
	cli, srv := flows(0, 1000, 3000, bothAtOnce)
	conns := lwgoClients(tp, [][2]flow{{cli, srv}})
	tp.run("handshake", clock.Second, func() bool { return conns[0].lw.established })
	checkNegotiated(t, tp, conns[0])
	runAll(tp, conns, clock.Second)
}

// TestRFC7323_RFC2018_HandshakeGVisorClientLwgoServer: gVisor connects to
// an lwgo listener; the same.
func TestRFC7323_RFC2018_HandshakeGVisorClientLwgoServer(t *testing.T) {
	tp := newTCPPair(t, tcpOptions{lw: tcpConfig(1)})
	cli, srv := flows(0, 3000, 1000, bothAtOnce)
	conns := gvisorClients(tp, [][2]flow{{cli, srv}})
	tp.run("handshake", clock.Second, func() bool { return conns[0].lw.established })
	checkNegotiated(t, tp, conns[0])
	runAll(tp, conns, clock.Second)
}

// bulkTCPSize is 64 MiB, or 4 MiB with -short or under the race detector.
func bulkTCPSize() int64 {
	if heavyTCP() {
		return 64 << 20
	}
	return 4 << 20
}

// bulkTCPBound bounds a bulk connection's virtual time: 10 µs a round in
// which frames moved, 1 ms an idle one. Measured: 2.2–2.7 ms for 64 MiB
// each way (the spread comes from gVisor's goroutine scheduling); a single
// retransmission timeout (200 ms at least) would still fit, two would not.
const bulkTCPBound = 500 * clock.Millisecond

// TestTCPBulkHeavy64MiB: 64 MiB each way at once on one connection, with
// lwgo as the client and with gVisor as the client, arrive byte for byte
// (SHA-256 compared at both ends) within bulkTCPBound of virtual time.
func TestTCPBulkHeavy64MiB(t *testing.T) {
	n := bulkTCPSize()
	for _, tc := range []struct {
		name string
		open func(*tcpPair, [][2]flow) []*conn
	}{{"lwgo-client", lwgoClients}, {"gvisor-client", gvisorClients}} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTCPPair(t, tcpOptions{lw: tcpConfig(1), wall: 3 * time.Minute})
			cli, srv := flows(0, n, n, bothAtOnce)
			start := time.Now()
			took := runAll(tp, tc.open(tp, [][2]flow{{cli, srv}}), bulkTCPBound)
			t.Logf("%d bytes each way: %v virtual, %v wall; lwgo %d retransmits, gVisor %d",
				n, time.Duration(took), time.Since(start).Round(time.Millisecond), tp.lw.TCPStats().Retransmits,
				tp.gv.Stats().TCP.Retransmits.Value())
		})
	}
}

// parallelTCP is the number of connections open at once.
const parallelTCP = 128

// parallelTCPBound bounds the virtual time of the parallel connections.
// Measured: 170–190 µs.
const parallelTCPBound = 100 * clock.Millisecond

// parallelSpecs are n connections' flows: 16 to 64 KiB each way, in the
// three close patterns.
func parallelSpecs(n int) [][2]flow {
	g := newGen(0xc0ffee)
	var b [8]byte
	specs := make([][2]flow, n)
	for i := range specs {
		g.Fill(b[:])
		up := int64(16<<10) + int64(uint32(b[0])|uint32(b[1])<<8)%(48<<10+1)
		down := int64(16<<10) + int64(uint32(b[2])|uint32(b[3])<<8)%(48<<10+1)
		specs[i][0], specs[i][1] = flows(i, up, down, i%numPatterns)
	}
	return specs
}

// TestTCPParallel128Connections: 128 connections open at once, lwgo the
// clients and gVisor the server, then the other way round; each moves 16 to
// 64 KiB each way and closes both ways in one of three patterns.
func TestTCPParallel128Connections(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(*tcpPair, [][2]flow) []*conn
	}{{"lwgo-clients", lwgoClients}, {"gvisor-clients", gvisorClients}} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTCPPair(t, tcpOptions{lw: tcpConfig(parallelTCP), queue: 1 << 16, wall: 2 * time.Minute})
			start := time.Now()
			tp.warmARP() // 128 SYNs at once would overflow lwgo's ARP queue
			took := runAll(tp, tc.open(tp, parallelSpecs(parallelTCP)), parallelTCPBound)
			t.Logf("%d connections: %v virtual, %v wall", parallelTCP, time.Duration(took), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestRFC9293_HalfClose: one end half-closes and the other keeps sending
// after the FIN, which must arrive (RFC 9293 §3.6: CLOSE means "I have no
// more to send"); both ways, with each stack as client and as server.
func TestRFC9293_HalfClose(t *testing.T) {
	for _, tc := range []struct {
		name    string
		open    func(*tcpPair, [][2]flow) []*conn
		pattern int
	}{
		{"lwgo-client-closes-first", lwgoClients, requestResponse},
		{"gvisor-server-closes-first", lwgoClients, serverFirst},
		{"gvisor-client-closes-first", gvisorClients, requestResponse},
		{"lwgo-server-closes-first", gvisorClients, serverFirst},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTCPPair(t, tcpOptions{lw: tcpConfig(1)})
			cli, srv := flows(0, 20000, 300000, tc.pattern)
			conns := tc.open(tp, [][2]flow{{cli, srv}})
			runAll(tp, conns, 2*clock.Second)
		})
	}
}

// TestRFC9293_ConnectToClosedGVisorPortIsReset: gVisor answers lwgo's SYN
// to a port nobody listens on with a RST, and lwgo reports ErrReset
// (RFC 9293 §3.10.7.1, §3.10.7.3).
func TestRFC9293_ConnectToClosedGVisorPortIsReset(t *testing.T) {
	tp := newTCPPair(t, tcpOptions{lw: tcpConfig(1)})
	p := tp.newLwConn("client", flow{})
	tp.lwDial(closedPort, p)
	tp.run("connect to a closed gVisor port", clock.Second, func() bool { return p.err != nil || p.established })
	if !errors.Is(p.err, errs.ErrReset) {
		t.Fatalf("lwgo connect to a closed port: established=%v err=%v, want ErrReset", p.established, p.err)
	}
	if n := tp.gv.Stats().TCP.ResetsSent.Value(); n != 1 {
		t.Errorf("gVisor sent %d RSTs, want 1", n)
	}
	if st := tp.lw.TCPStats(); st.Resets != 1 || st.AttemptFails != 1 {
		t.Errorf("lwgo counted %d resets and %d failed attempts, want 1 and 1", st.Resets, st.AttemptFails)
	}
}

// TestRFC9293_ConnectToClosedLwgoPortIsRefused: lwgo answers gVisor's SYN
// to a port nobody listens on with a RST, and gVisor's connect fails with
// ECONNREFUSED.
func TestRFC9293_ConnectToClosedLwgoPortIsRefused(t *testing.T) {
	tp := newTCPPair(t, tcpOptions{lw: tcpConfig(1)})
	d := tp.gvDial(closedPort, "client", flow{})
	tp.run("connect to a closed lwgo port", clock.Second, func() bool { return d.ended })
	if _, ok := d.err.(*tcpip.ErrConnectionRefused); !ok {
		t.Fatalf("gVisor connect to a closed lwgo port: %v, want %v", d.err, &tcpip.ErrConnectionRefused{})
	}
	if st := tp.lw.TCPStats(); st.NoPort != 1 || st.RSTsSent != 1 {
		t.Errorf("lwgo counted %d segments for no port and sent %d RSTs, want 1 and 1", st.NoPort, st.RSTsSent)
	}
}

// lossTCPSize is what each lossy connection moves each way: 8 MiB, or
// 1 MiB with -short or under the race detector.
func lossTCPSize() int64 {
	if heavyTCP() {
		return 8 << 20
	}
	return 1 << 20
}

// TestTCPLossHeavy: with 1 % and 5 % of the TCP frames lost in each
// direction (seeded), one connection with each stack as the client moves
// 8 MiB each way exactly and finishes within the stated virtual time.
func TestTCPLossHeavy(t *testing.T) {
	n := lossTCPSize()
	for _, tc := range []struct {
		name  string
		loss  float64
		bound clock.Duration
	}{
		// Measured over seven runs each: 0.4–2.0 s at 1 %, 25–50 s at 5 %
		// (lwgo: 110–150 retransmission timeouts for 500 lost frames each
		// way; the spread comes from gVisor's goroutine scheduling).
		{"1%", 0.01, 10 * clock.Second},
		{"5%", 0.05, 120 * clock.Second},
	} {
		for _, dir := range []struct {
			name string
			open func(*tcpPair, [][2]flow) []*conn
		}{{"lwgo-client", lwgoClients}, {"gvisor-client", gvisorClients}} {
			t.Run(tc.name+"/"+dir.name, func(t *testing.T) {
				tp := newTCPPair(t, tcpOptions{lw: tcpConfig(1), lossToGV: tc.loss, lossToLW: tc.loss, seed: 42, wall: 2 * time.Minute})
				cli, srv := flows(0, n, n, bothAtOnce)
				start := time.Now()
				took := runAll(tp, dir.open(tp, [][2]flow{{cli, srv}}), tc.bound)
				if tp.dropped[0] == 0 || tp.dropped[1] == 0 {
					t.Errorf("dropped %d lwgo→gVisor and %d gVisor→lwgo frames: the case tested nothing", tp.dropped[0], tp.dropped[1])
				}
				t.Logf("%d bytes each way at %v loss: %v virtual, %v wall; dropped %d/%d; lwgo %d retransmits (%d timeouts), gVisor %d (%d timeouts)",
					n, tc.name, time.Duration(took), time.Since(start).Round(time.Millisecond), tp.dropped[0], tp.dropped[1],
					tp.lw.TCPStats().Retransmits, tp.lw.TCPStats().Timeouts,
					tp.gv.Stats().TCP.Retransmits.Value(), tp.gv.Stats().TCP.Timeouts.Value())
			})
		}
	}
}
