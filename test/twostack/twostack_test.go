// Package twostack runs two lwgo stacks on the in-memory wire (netif/pipe)
// with every fault-injector mode, and checks ARP, ICMP echo, UDP echo and
// IPv4 fragmentation and reassembly end to end, in virtual time.
package twostack

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
)

// mode is one fault-injector configuration, applied to both directions
// with different seeds.
type mode struct {
	name string
	cfg  fault.Config
	mtu  int // interface MTU (0: 1500)
	// lossy: frames can be lost, so only a share of exchanges completes.
	lossy bool
}

var modes = []mode{
	{name: "none"},
	{name: "drop", cfg: fault.Config{DropRate: 0.1}, lossy: true},
	{name: "corrupt", cfg: fault.Config{CorruptRate: 0.2}, lossy: true},
	{name: "duplicate", cfg: fault.Config{DuplicateRate: 0.3}},
	{name: "reorder", cfg: fault.Config{ReorderRate: 0.3}},
	{name: "delay", cfg: fault.Config{Delay: 20 * rawapi.Millisecond, Jitter: 10 * rawapi.Millisecond}},
	{name: "ratelimit", cfg: fault.Config{RateLimit: 1 << 20, Burst: 12000}, lossy: true},
	{name: "mtuclamp", cfg: fault.Config{MTUClamp: 576}, mtu: 576},
	{name: "all", cfg: fault.Config{DropRate: 0.05, CorruptRate: 0.05, DuplicateRate: 0.1, ReorderRate: 0.1,
		Delay: 5 * rawapi.Millisecond, Jitter: 5 * rawapi.Millisecond}, lossy: true},
}

type pair struct {
	clk    rawapi.ManualClock
	a, b   *rawapi.Stack
	na, nb *rawapi.Netif
	fa, fb *fault.Device
}

func newPair(t *testing.T, m mode) *pair {
	t.Helper()
	p := &pair{}
	wa, wb := pipe.New(pipe.Config{QueueLen: 256})
	ca, cb := m.cfg, m.cfg
	ca.Seed, cb.Seed = 11, 22
	p.fa = fault.New(wa, &p.clk, ca)
	p.fb = fault.New(wb, &p.clk, cb)
	p.a = rawapi.New(rawapi.Config{Seed: 1})
	p.b = rawapi.New(rawapi.Config{Seed: 2})
	var err error
	add := func(s *rawapi.Stack, d netif.Device, a netip.Addr) *rawapi.Netif {
		n, err2 := s.AddNetif(d, rawapi.NetifConfig{Addr: netip.PrefixFrom(a, 24), MTU: m.mtu})
		if err2 != nil {
			err = err2
			return nil
		}
		s.SetUp(n)
		return n
	}
	p.na = add(p.a, p.fa, addrA)
	p.nb = add(p.b, p.fb, addrB)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run polls both stacks for d of virtual time, 1 ms at a time.
func (p *pair) run(d rawapi.Duration) {
	end := p.clk.Now().Add(d)
	for p.clk.Now() < end {
		p.a.Poll(p.clk.Now())
		p.b.Poll(p.clk.Now())
		p.clk.Advance(rawapi.Millisecond)
	}
}

// settle runs long enough for every timer (ARP, reassembly) to expire and
// checks that both stacks got every buffer back.
func (p *pair) settle(t *testing.T) {
	t.Helper()
	p.fa.Flush()
	p.fb.Flush()
	p.run(40 * rawapi.Second)
	for _, s := range []*rawapi.Stack{p.a, p.b} {
		if s.Pool().Available() != s.Pool().Cap() || s.ReassPool().Available() != s.ReassPool().Cap() {
			st := s.Stats()
			t.Errorf("buffers not returned: pool %d/%d, reassembly %d/%d\n%s", s.Pool().Available(), s.Pool().Cap(),
				s.ReassPool().Available(), s.ReassPool().Cap(), st.String())
		}
	}
}

func payload(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + seed)
	}
	return b
}

// pingAll sends count echo requests of size bytes from s to dst, one every
// 200 ms, and returns how many distinct sequence numbers were answered with
// the exact payload, and how many answers were wrong.
func (p *pair) pingAll(t *testing.T, s *rawapi.Stack, dst netip.Addr, count, size int) (ok, bad int) {
	t.Helper()
	data := payload(size, 7)
	seen := map[uint16]bool{}
	pg, err := s.NewPing(func(_ rawapi.Ping, from netip.Addr, seq uint16, _ uint8, got []byte) {
		if from != dst || !bytes.Equal(got, data) {
			bad++
			return
		}
		seen[seq] = true
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for i := range count {
		pg.Send(dst, uint16(i), data)
		p.run(200 * rawapi.Millisecond)
	}
	p.run(rawapi.Second)
	return len(seen), bad
}

// udpEcho sends count datagrams of size bytes from A to an echo server on B
// and returns how many came back exact and how many came back wrong.
func (p *pair) udpEcho(t *testing.T, count, size int) (ok, bad int) {
	t.Helper()
	srv, err := p.b.NewUDP()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.Bind(netip.Addr{}, 7)
	srv.SetRecv(func(u rawapi.UDP, b *rawapi.Buf, src netip.AddrPort, _ netip.Addr) {
		u.SendTo(b.Bytes(), src)
		b.Free()
	})
	cli, err := p.a.NewUDP()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	sent := map[string]bool{}
	got := map[string]bool{}
	cli.SetRecv(func(_ rawapi.UDP, b *rawapi.Buf, _ netip.AddrPort, _ netip.Addr) {
		if k := string(b.Bytes()); sent[k] {
			got[k] = true
		} else {
			bad++
			t.Logf("bad datagram: %d bytes: %s", b.Len(), diffAny(sent, b.Bytes()))
		}
		b.Free()
	})
	for i := range count {
		d := payload(size, i)
		sent[string(d)] = true
		if err := cli.SendTo(d, netip.AddrPortFrom(addrB, 7)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		p.run(100 * rawapi.Millisecond)
	}
	p.run(rawapi.Second)
	return len(got), bad
}

// expect checks an exchange: all must complete on a lossless link; on a
// lossy one, at least a quarter of single-frame exchanges and at least one
// fragmented exchange (12 frames must all survive, 28 % of the time at 10 %
// loss); a wrong answer is never acceptable.
func expect(t *testing.T, m mode, what string, ok, bad, count int, fragmented bool) {
	t.Helper()
	// The Internet checksum detects every single-bit error, but two errors
	// can cancel (RFC 1071 §2: it is a sum): a datagram whose fragments
	// were corrupted twice can pass. Single-frame exchanges must never
	// deliver corruption; fragmented ones are excused under corruption.
	if bad != 0 && !(fragmented && m.cfg.CorruptRate > 0) {
		t.Errorf("%s: %d corrupted answers delivered", what, bad)
	}
	want := count
	switch {
	case m.lossy && fragmented:
		want = 1
	case m.lossy:
		want = count / 4
	}
	if ok < want {
		t.Errorf("%s: %d of %d completed, want at least %d", what, ok, count, want)
	}
}

func TestTwoStacksUnderFaults(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p := newPair(t, m)
			// ARP both ways: pinging resolves each side's neighbour.
			ok, bad := p.pingAll(t, p.a, addrB, 20, 56)
			expect(t, m, "ping A→B", ok, bad, 20, false)
			if _, found := p.a.LookupARP(p.na, addrB); !found && ok > 0 {
				t.Errorf("A has no ARP entry for B after %d answered pings", ok)
			}
			if _, found := p.b.LookupARP(p.nb, addrA); !found && ok > 0 {
				t.Errorf("B has no ARP entry for A after answering")
			}
			ok, bad = p.pingAll(t, p.b, addrA, 20, 56)
			expect(t, m, "ping B→A", ok, bad, 20, false)
			// Fragmented echoes both ways.
			ok, bad = p.pingAll(t, p.a, addrB, 20, 8192)
			expect(t, m, "ping A→B 8 KiB", ok, bad, 20, true)
			ok, bad = p.pingAll(t, p.b, addrA, 20, 8192)
			expect(t, m, "ping B→A 8 KiB", ok, bad, 20, true)
			// UDP echo, small and fragmented 8 KiB datagrams.
			ok, bad = p.udpEcho(t, 20, 512)
			expect(t, m, "udp 512 B", ok, bad, 20, false)
			ok, bad = p.udpEcho(t, 20, 8192)
			expect(t, m, "udp 8 KiB", ok, bad, 20, true)
			p.settle(t)
			if testing.Verbose() {
				sa := p.a.Stats()
				fmt.Printf("%s: faults A→B %+v\n%s", m.name, p.fa.Stats(), sa.String())
			}
		})
	}
}

// TestCorruptionNeverDelivered floods corrupted traffic and checks that
// every datagram the application sees is exact: checksums catch every
// single-bit error the link introduces.
func TestCorruptionNeverDelivered(t *testing.T) {
	p := newPair(t, mode{name: "corrupt-all", cfg: fault.Config{CorruptRate: 1}, lossy: true})
	ok, bad := p.udpEcho(t, 50, 1000)
	if bad != 0 {
		t.Fatalf("%d corrupted datagrams delivered", bad)
	}
	if ok != 0 {
		t.Fatalf("%d datagrams survived a link that corrupts every frame", ok)
	}
	st := p.b.Stats()
	if st.IP.ChkErr+st.UDP.ChkErr+st.Link.Drop+st.ARP.Drop+st.IP.Drop == 0 {
		t.Fatalf("no checksum failures counted:\n%s", (&st).String())
	}
	p.settle(t)
}

// diffAny describes how got differs from the closest datagram in sent.
func diffAny(sent map[string]bool, got []byte) string {
	best, bestN := "", -1
	for k := range sent {
		if len(k) != len(got) {
			continue
		}
		n := 0
		for i := range got {
			if got[i] != k[i] {
				n++
			}
		}
		if bestN < 0 || n < bestN {
			best, bestN = k, n
		}
	}
	if bestN < 0 {
		return "no datagram of that length was sent"
	}
	out := fmt.Sprintf("%d bytes differ:", bestN)
	for i := range got {
		if got[i] != best[i] {
			out += fmt.Sprintf(" [%d] %02x→%02x", i, best[i], got[i])
		}
	}
	return out
}
