package core

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/tcp"
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
