package core

// Zero-allocation proofs (STYLE §0 rule 4, net/netip TestNoAllocs): the
// steady-state packet paths allocate nothing once the stack is built.

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// ringDev is a device that never allocates: it receives one prebuilt frame
// per arm() and copies transmitted frames into a fixed ring of reused slots.
type ringDev struct {
	mac     wire.MAC
	rx      []byte // the frame to receive
	pending int    // copies of rx still to deliver
	tx      [8][2048]byte
	txLen   [8]int
	txN     int // frames transmitted in total
}

func (d *ringDev) arm(f []byte) { d.rx, d.pending = f, 1 }

func (d *ringDev) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	for n < len(dst) && d.pending > 0 {
		d.pending--
		b, err := pool.Alloc(pbuf.LayerRaw, len(d.rx))
		if err != nil {
			break
		}
		copy(b.Bytes(), d.rx)
		dst[n] = b
		n++
	}
	return n
}

func (d *ringDev) Transmit(frames []*pbuf.Buf) int {
	for _, b := range frames {
		i := d.txN % len(d.tx)
		d.txLen[i] = copy(d.tx[i][:], b.Bytes())
		d.txN++
		b.Free()
	}
	return len(frames)
}

// last returns the most recently transmitted frame.
func (d *ringDev) last() []byte {
	i := (d.txN - 1) % len(d.tx)
	return d.tx[i][:d.txLen[i]]
}

func (d *ringDev) HardwareAddr() wire.MAC { return d.mac }
func (d *ringDev) MTU() int               { return 1500 }
func (d *ringDev) Caps() netifCaps        { return netifCaps{} }
func (d *ringDev) LinkUp() bool           { return true }

// ringStack is a stack on a ringDev at 10.0.0.1/24 that knows peerIP.
func ringStack(t *testing.T) (*Stack, *ringDev) {
	t.Helper()
	dev := &ringDev{mac: rigMAC}
	s := New(Config{Seed: rigSeed})
	n, err := s.AddNetif(dev, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetUp(n)
	if err := s.AddStaticARP(n, peerAddr, peerMAC); err != nil {
		t.Fatal(err)
	}
	s.Poll(0)
	return s, dev
}

// allocRuns is how often noAllocs runs f: its own warm-up, AllocsPerRun's
// warm-up, and 1000 measured runs.
const allocRuns = 1 + 1 + 1000

// noAllocs runs f allocRuns times and fails if it allocates,
// or if it did not do its work (check) or leaked a buffer.
func noAllocs(t *testing.T, s *Stack, f func(), check func() bool) {
	t.Helper()
	f() // warm-up: first-use paths (ARP cache hint, …)
	if n := testing.AllocsPerRun(1000, f); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
	if !check() {
		t.Errorf("the measured path did not do its work")
	}
	checkPools(t, s)
}

func TestNoAllocsICMPEchoReply(t *testing.T) {
	s, dev := ringStack(t)
	req := echoFrame(rigIP, 1, 1, pattern(56, 0))
	sent := dev.txN
	noAllocs(t, s, func() {
		dev.arm(req)
		s.Poll(0)
	}, func() bool {
		d := decode(t, dev.last())
		return dev.txN == sent+allocRuns && d.icmp != nil && d.icmp.Type() == wire.ICMPv4EchoReply
	})
}

func TestNoAllocsUDPReceive(t *testing.T) {
	s, dev := ringStack(t)
	u, _ := s.NewUDP()
	u.Bind(netip.Addr{}, 7)
	got := 0
	u.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		if p.Len() == 512 && src.Port() == 1000 {
			got++
		}
		p.Free()
	})
	f := udpFrame(rigIP, 1000, 7, pattern(512, 1))
	noAllocs(t, s, func() {
		dev.arm(f)
		s.Poll(0)
	}, func() bool { return got == allocRuns })
}

func TestNoAllocsUDPSendTo(t *testing.T) {
	s, dev := ringStack(t)
	u, _ := s.NewUDP()
	u.Bind(netip.Addr{}, 1000)
	data := pattern(512, 2)
	dst := netip.AddrPortFrom(peerAddr, 9)
	sent := dev.txN
	var err error
	noAllocs(t, s, func() { err = u.SendTo(data, dst) }, func() bool {
		d := decode(t, dev.last())
		return err == nil && dev.txN == sent+allocRuns && d.udp != nil && len(d.udp.Payload()) == 512 && d.eth.Dst() == peerMAC
	})
}

func TestNoAllocsPingSend(t *testing.T) {
	s, dev := ringStack(t)
	p, _ := s.NewPing(nil)
	data := pattern(56, 3)
	seq := uint16(0)
	sent := dev.txN
	noAllocs(t, s, func() {
		seq++
		p.Send(peerAddr, seq, data)
	}, func() bool {
		d := decode(t, dev.last())
		return dev.txN == sent+allocRuns && d.icmp != nil && d.icmp.Type() == wire.ICMPv4Echo && d.icmp.Seq() == seq
	})
}

func TestNoAllocsPingReceive(t *testing.T) {
	s, dev := ringStack(t)
	got := 0
	p, _ := s.NewPing(func(p Ping, from netip.Addr, seq uint16, ttl uint8, data []byte) { got++ })
	reply := ipFrame(peerIP, rigIP, wire.ProtoICMP, 1, mkICMP(wire.ICMPv4EchoReply, 0, uint32(p.ID())<<16|1, pattern(56, 0)))
	noAllocs(t, s, func() {
		dev.arm(reply)
		s.Poll(0)
	}, func() bool { return got == allocRuns })
}

func TestNoAllocsARPRequestReply(t *testing.T) {
	s, dev := ringStack(t)
	req := mkEth(wire.BroadcastMAC, otherMAC, wire.EtherTypeARP, mkARP(wire.ARPRequest, otherMAC, otherIP, wire.MAC{}, rigIP))
	sent := dev.txN
	noAllocs(t, s, func() {
		dev.arm(req)
		s.Poll(0)
	}, func() bool {
		d := decode(t, dev.last())
		return dev.txN == sent+allocRuns && d.arp != nil && d.arp.Op() == wire.ARPReply && d.arp.TargetIP() == otherIP
	})
}

// The timers, the fragment path and the drop paths allocate nothing either.
func TestNoAllocsTimersFragmentsAndDrops(t *testing.T) {
	s, dev := ringStack(t)
	u, _ := s.NewUDP()
	u.Bind(netip.Addr{}, 7)
	whole := 0
	u.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		if p.Len() == 3000 {
			whole++
		}
		p.Free()
	})
	msg := mkUDP(peerIP, rigIP, 1, 7, pattern(3000, 4))
	h := wire.IPv4Header{ID: 1, Protocol: wire.ProtoUDP, Src: peerIP, Dst: rigIP}
	frags := [][]byte{}
	for _, fr := range splitFrags(len(msg), 1480) {
		frags = append(frags, mkFrag(h, msg, fr))
	}
	bad := udpFrame(rigIP, 1, 7, []byte("bad"))
	bad[len(bad)-1] ^= 1
	closed := udpFrame(rigIP, 1, 9, []byte("closed"))
	big := pattern(4000, 5)
	dst := netip.AddrPortFrom(peerAddr, 9)
	now := s.Now()
	noAllocs(t, s, func() {
		for _, f := range frags {
			dev.arm(f)
			s.Poll(now)
		}
		dev.arm(bad)
		s.Poll(now)
		dev.arm(closed) // port unreachable out
		s.Poll(now)
		u.SendTo(big, dst) // three fragments out
		now += 1 << 30     // ~1.07 s: one timer tick per run
		s.Poll(now)
	}, func() bool {
		st := s.Stats()
		return whole == allocRuns && st.UDP.ChkErr == allocRuns && st.IPFrag.Xmit == 3*allocRuns
	})
}
