package core

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/tcp"
	"github.com/lwgo/lwgo/core/wire"
)

func TestSmokeTCPTransfer(t *testing.T) {
	a, b, da, db, clk := newTestStacks(t, 1500)
	transfer1MiB(t, a, b, da, db, clk)
}

// transfer1MiB sends 1 MiB from a to a server on b (10.0.0.2:80) and checks
// that b got exactly it.
func transfer1MiB(t *testing.T, a, b *Stack, da, db *testDev, clk *clock.Manual) {
	// Server on b: collects everything, closes on FIN.
	var got []byte
	var srvClosed bool
	lc, err := b.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.Bind(netip.Addr{}, 80); err != nil {
		t.Fatal(err)
	}
	ln, err := lc.Listen(4)
	if err != nil {
		t.Fatal(err)
	}
	ln.SetAcceptor(tcp.AcceptFunc(func(l tcp.Listener, c tcp.Conn, err error) error {
		return c.SetHandler(&tcp.Funcs{
			OnRecv: func(c tcp.Conn, p *pbuf.Buf, err error) error {
				if p == nil {
					srvClosed = true
					return c.Close()
				}
				got = append(got, p.Bytes()...)
				c.Recved(p.Len())
				p.Free()
				return nil
			},
		})
	}))
	// Client on a: writes 1 MiB as the send buffer allows.
	msg := make([]byte, 1<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	off := 0
	var connected, cliErr bool
	cc, _ := a.NewTCP()
	fill := func(c tcp.Conn) {
		for off < len(msg) {
			n := min(c.SendBuffer(), len(msg)-off)
			if n == 0 {
				break
			}
			if err := c.Write(msg[off:off+n], 0); err != nil {
				t.Fatalf("write %d: %v", n, err)
			}
			off += n
		}
		if off == len(msg) {
			c.CloseWrite()
		}
		c.Output()
	}
	cc.SetHandler(&tcp.Funcs{
		OnConnected: func(c tcp.Conn, err error) error { connected = true; fill(c); return nil },
		OnSent:      func(c tcp.Conn, n int) error { fill(c); return nil },
		OnErr:       func(c tcp.Conn, err error) { cliErr = true; t.Logf("client err %v", err) },
	})
	if err := cc.Connect(netip.MustParseAddrPort("10.0.0.2:80")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200000 && !srvClosed; i++ {
		a.Poll(clk.Now())
		b.Poll(clk.Now())
		clk.Advance(100 * clock.Microsecond)
	}
	if !connected || !bytes.Equal(got, msg) || cliErr {
		t.Fatalf("connected=%v got %d bytes, want %d\n%+v\n%+v", connected, len(got), len(msg), a.TCPStats(), b.TCPStats())
	}
	t.Logf("virtual time %v ms; client %+v", clk.Now()/1e6, a.TCPStats())
	runPair(clk, a, b, da, db, 1000, clock.Millisecond)
}

// TestTSOTransferThroughASegmentingDevice: a stack whose device offers TSO
// and checksum offload sends 1 MiB as super-segments with partial
// checksums; the device cuts them as a NIC does, and the peer, a stack
// without offloads, receives exactly the data.
func TestTSOTransferThroughASegmentingDevice(t *testing.T) {
	a, b, da, db, clk := newTestStacks(t, 1500)
	da.caps = netifCaps{TxChecksumOffload: true, TSOMax: 65535}
	// The caps count from AddNetif on: build a again around the TSO device.
	a = New(Config{Seed: 1})
	na, err := a.AddNetif(da, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	a.SetUp(na)
	if a.tso == nil || a.tso.Cap() != 16 {
		t.Fatal("no GSO pool for a TSO device")
	}
	transfer1MiB(t, a, b, da, db, clk)
	if st := a.TCPStats(); st.TSOSegs == 0 || da.segmented == 0 || da.bad != 0 {
		t.Fatalf("TSO segments %d, cut by the device %d, contract broken %d times", st.TSOSegs, da.segmented, da.bad)
	}
	if a.tso.Available() != a.tso.Cap() {
		t.Fatalf("GSO pool leak: %d of %d", a.tso.Available(), a.tso.Cap())
	}
	t.Logf("%d super-segments of %d segments sent", a.TCPStats().TSOSegs, a.TCPStats().Xmit)
}

// TestTSOOffTakesNoMemory: Config.TSOBufs < 0 turns TSO off, and a device
// without TSO allocates no GSO pool either.
func TestTSOOffTakesNoMemory(t *testing.T) {
	for _, c := range []struct {
		bufs int
		caps netifCaps
	}{{-1, netifCaps{TxChecksumOffload: true, TSOMax: 65535}}, {0, netifCaps{TxChecksumOffload: true}}, {0, netifCaps{TSOMax: 65535}}} {
		s := New(Config{TSOBufs: c.bufs})
		if _, err := s.AddNetif(&testDev{mtu: 1500, caps: c.caps}, NetifConfig{}); err != nil {
			t.Fatal(err)
		}
		if s.tso != nil {
			t.Errorf("TSOBufs %d caps %+v: a GSO pool was made", c.bufs, c.caps)
		}
	}
}

// TestRFC1191_FragNeededThroughTheStack: an ICMP Fragmentation Needed
// message quoting a segment the client sent reaches its connection through
// IP and ICMP input: the MSS follows the reported MTU, and the transfer
// still completes.
func TestRFC1191_FragNeededThroughTheStack(t *testing.T) {
	a, b, da, db, clk := newTestStacks(t, 1500)
	da.keep = true
	var got int
	lc, _ := b.NewTCP()
	lc.Bind(netip.Addr{}, 80)
	ln, _ := lc.Listen(4)
	ln.SetAcceptor(tcp.AcceptFunc(func(l tcp.Listener, c tcp.Conn, err error) error {
		return c.SetHandler(&tcp.Funcs{OnRecv: func(c tcp.Conn, p *pbuf.Buf, err error) error {
			if p != nil {
				got += p.Len()
				c.Recved(p.Len())
				p.Free()
			}
			return nil
		}})
	}))
	cc, _ := a.NewTCP()
	cc.Connect(netip.MustParseAddrPort("10.0.0.2:80"))
	runPair(clk, a, b, da, db, 100, clock.Millisecond)
	msg := make([]byte, 8000)
	cc.Write(msg, 0)
	cc.Output()
	a.Flush()
	// Quote the last full-sized frame the client sent, as a router
	// would, and drop what is on the wire so that it must be resent.
	var quoted []byte
	for _, f := range da.sent {
		if len(f) == 1514 {
			quoted = f[wire.EthernetHeaderLen:]
		}
	}
	if quoted == nil {
		t.Fatal("no full-sized segment sent")
	}
	db.inbox = nil
	router := wire.IPv4Addr{10, 0, 0, 2}
	icmp := mkICMP(wire.ICMPv4DstUnreachable, 4, 1200, quoted[:wire.IPv4MinHeaderLen+8])
	frame := mkEth(da.mac, db.mac, wire.EtherTypeIPv4,
		mkIPv4(wire.IPv4Header{Protocol: wire.ProtoICMP, Src: router, Dst: wire.IPv4Addr{10, 0, 0, 1}}, icmp))
	da.inbox = append(da.inbox, frame)
	a.Poll(clk.Now())
	if mss := cc.Info().SndMSS; mss != 1200-40 {
		t.Fatalf("MSS %d after Fragmentation Needed with MTU 1200, want %d", mss, 1200-40)
	}
	for _, f := range da.sent[len(da.sent)-1:] {
		if len(f) > wire.EthernetHeaderLen+1200 {
			t.Fatalf("a frame of %d bytes after the PMTU update", len(f))
		}
	}
	runPair(clk, a, b, da, db, 1000, clock.Millisecond)
	if got != len(msg) || a.TCPStats().PMTUUpdates != 1 {
		t.Fatalf("received %d of %d bytes; PMTU updates %d", got, len(msg), a.TCPStats().PMTUUpdates)
	}
}
