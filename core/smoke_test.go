package core

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
)

func newTestStacks(t *testing.T, mtu int) (*Stack, *Stack, *testDev, *testDev, *clock.Manual) {
	t.Helper()
	da, db := newTestPair(mtu)
	a, b := New(Config{Seed: 1}), New(Config{Seed: 2})
	na, err := a.AddNetif(da, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := b.AddNetif(db, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.2/24")})
	if err != nil {
		t.Fatal(err)
	}
	a.SetUp(na)
	b.SetUp(nb)
	return a, b, da, db, &clock.Manual{}
}

func TestSmokePingAndUDP(t *testing.T) {
	a, b, da, db, clk := newTestStacks(t, 1500)
	var got []uint16
	p, err := a.NewPing(func(p Ping, from netip.Addr, seq uint16, ttl uint8, data []byte) {
		got = append(got, seq)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := p.Send(netip.MustParseAddr("10.0.0.2"), uint16(i), []byte("hello")); err != nil {
			t.Fatal(err)
		}
		runPair(clk, a, b, da, db, 20, clock.Millisecond)
	}
	if len(got) != 3 {
		t.Fatalf("replies %v\n%s\n%s", got, a.stats.String(), b.stats.String())
	}
	// UDP echo with an 8 KiB fragmented datagram.
	srv, _ := b.NewUDP()
	srv.Bind(netip.Addr{}, 7)
	srv.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		u.SendTo(p.Bytes(), src)
		p.Free()
	})
	cli, _ := a.NewUDP()
	var echoed []byte
	cli.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		echoed = append([]byte(nil), p.Bytes()...)
		p.Free()
	})
	msg := bytes.Repeat([]byte("0123456789abcdef"), 512)
	if err := cli.SendTo(msg, netip.MustParseAddrPort("10.0.0.2:7")); err != nil {
		t.Fatal(err)
	}
	runPair(clk, a, b, da, db, 50, clock.Millisecond)
	if !bytes.Equal(echoed, msg) {
		t.Fatalf("echo len %d\n%s\n%s", len(echoed), a.stats.String(), b.stats.String())
	}
	if a.pool.Available() != a.pool.Cap() || b.pool.Available() != b.pool.Cap() {
		t.Fatalf("leak: %d/%d %d/%d", a.pool.Available(), a.pool.Cap(), b.pool.Available(), b.pool.Cap())
	}
}
