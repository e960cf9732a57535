package core

// IPv4 output: routing, source selection, TTL, DF, identification and
// fragmentation (RFC 791, RFC 1122 §3.2.1, §3.3.1).

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// TestRFC1122_3_3_1_RoutesByMaskThenGateway: two interfaces on two subnets,
// a default gateway on the second.
func TestRFC1122_3_3_1_RoutesByMaskThenGateway(t *testing.T) {
	r := newRig(t, Config{})
	mac2 := wire.MAC{2, 0, 0, 0, 0, 0x21}
	dev2 := &testDev{mac: mac2, mtu: 1500, keep: true}
	n2, err := r.s.AddNetif(dev2, NetifConfig{Addr: netip.MustParsePrefix("192.168.1.1/24"),
		Gateway: netip.MustParseAddr("192.168.1.254")})
	if err != nil {
		t.Fatal(err)
	}
	r.s.SetUp(n2)
	r.poll()
	r.dev.sent, dev2.sent = nil, nil
	hostMAC, gwMAC := wire.MAC{2, 0, 0, 0, 1, 7}, wire.MAC{2, 0, 0, 0, 1, 0xfe}
	r.s.AddStaticARP(r.n, peerAddr, peerMAC)
	r.s.AddStaticARP(n2, netip.MustParseAddr("192.168.1.7"), hostMAC)
	r.s.AddStaticARP(n2, netip.MustParseAddr("192.168.1.254"), gwMAC)
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	tests := []struct {
		dst     string
		dev     *testDev
		ethDst  wire.MAC
		src     wire.IPv4Addr
		devName string
	}{
		{"10.0.0.2:9", r.dev, peerMAC, rigIP, "if0"},
		{"192.168.1.7:9", dev2, hostMAC, wire.IPv4Addr{192, 168, 1, 1}, "if1"},
		{"8.8.8.8:53", dev2, gwMAC, wire.IPv4Addr{192, 168, 1, 1}, "if1 via gateway"},
		{"10.0.1.2:9", dev2, gwMAC, wire.IPv4Addr{192, 168, 1, 1}, "if1 via gateway (not on if0's /24)"},
	}
	for _, tc := range tests {
		dst := netip.MustParseAddrPort(tc.dst)
		if err := u.SendTo([]byte("route me"), dst); err != nil {
			t.Fatalf("%s: %v", tc.dst, err)
		}
		if len(r.dev.sent)+len(dev2.sent) != 1 || len(tc.dev.sent) != 1 {
			t.Fatalf("%s: if0 sent %d, if1 sent %d; want one frame on %s", tc.dst, len(r.dev.sent), len(dev2.sent), tc.devName)
		}
		d := decode(t, tc.dev.sent[0])
		r.dev.sent, dev2.sent = nil, nil
		if d.eth.Dst() != tc.ethDst || d.eth.Src() != tc.dev.mac {
			t.Errorf("%s: frame %v > %v, want %v > %v", tc.dst, d.eth.Src(), d.eth.Dst(), tc.dev.mac, tc.ethDst)
		}
		if d.ip.Dst() != dst.Addr().As4() || d.ip.Src() != tc.src {
			t.Errorf("%s: datagram %v > %v, want source %v", tc.dst, d.ip.Src(), d.ip.Dst(), tc.src)
		}
		if !d.udp.IsChecksumValid(d.ip.Src(), d.ip.Dst()) {
			t.Errorf("%s: bad UDP checksum", tc.dst)
		}
	}
	// The gateway goes down with its interface: no route.
	r.s.SetDown(n2)
	if err := u.SendTo([]byte("x"), netip.MustParseAddrPort("8.8.8.8:53")); err != errs.ErrRoute {
		t.Fatalf("via a down interface: %v, want ErrRoute", err)
	}
	r.checkNoLeak()
}

func TestIPOutputNoRoute(t *testing.T) {
	r := newRig(t, Config{})
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	if err := u.SendTo([]byte("x"), netip.MustParseAddrPort("8.8.8.8:53")); err != errs.ErrRoute {
		t.Fatalf("SendTo off-link without a gateway: %v, want ErrRoute", err)
	}
	p, _ := r.s.NewPing(nil)
	if err := p.Send(netip.MustParseAddr("8.8.8.8"), 1, nil); err != errs.ErrRoute {
		t.Fatalf("Ping.Send: %v, want ErrRoute", err)
	}
	if st := r.s.Stats(); st.IP.RtErr != 2 {
		t.Fatalf("rterr=%d", st.IP.RtErr)
	}
	r.s.SetDown(r.n)
	if err := u.SendTo([]byte("x"), peerPort9); err != errs.ErrRoute {
		t.Fatalf("SendTo on a down interface: %v", err)
	}
	r.expectNone()
	r.checkNoLeak()
}

// RFC 1122 §3.2.1.3: 0.0.0.0 is a source only while the interface has no
// address, and then only to the broadcast (DHCP).
func TestRFC1122_3_2_1_3_UnspecifiedSourceOnlyForBroadcast(t *testing.T) {
	r := newRig(t, Config{})
	if err := r.s.SetAddr(r.n, netip.Prefix{}, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	r.chk.addrs = append(r.chk.addrs, wire.IPv4Addr{}) // the DHCP case is legal
	u, _ := r.bindRecorder(netip.Addr{}, 68)
	if err := u.SendTo([]byte("x"), peerPort9); err != errs.ErrRoute {
		t.Fatalf("unicast without an address: %v, want ErrRoute", err)
	}
	if err := u.SendTo([]byte("discover"), netip.MustParseAddrPort("255.255.255.255:67")); err != nil {
		t.Fatal(err)
	}
	d := decode(t, r.expectOne())
	if d.ip.Src() != (wire.IPv4Addr{}) || d.ip.Dst() != wire.IPv4Broadcast || d.eth.Dst() != wire.BroadcastMAC {
		t.Fatalf("DHCP-style broadcast: %s", describe(d.eth))
	}
	// And it receives the limited broadcast meanwhile.
	_, got := r.bindRecorder(netip.Addr{}, 67)
	f := udpFrame(wire.IPv4Broadcast, 67, 67, []byte("offer"))
	copy(f, wire.BroadcastMAC[:])
	r.inject(f, udpFrame(rigIP, 67, 67, []byte("unicast to an address we lost")))
	if len(*got) != 1 {
		t.Fatalf("received %d, want only the broadcast", len(*got))
	}
	if st := r.s.Stats(); st.IPDrop.NotForUs != 1 {
		t.Fatalf("notforus=%d", st.IPDrop.NotForUs)
	}
}

// RFC 1122 §3.2.1.7: the default TTL is configurable, the transport can set
// it, and TTL 0 is never sent.
func TestRFC1122_3_2_1_7_TTLDefaultAndConfigurable(t *testing.T) {
	ttlOf := func(r *rig, send func()) uint8 {
		t.Helper()
		send()
		return decode(t, r.expectOne()).ip.TTL()
	}
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	udp := func() { u.SendTo([]byte("x"), peerPort9) }
	if ttl := ttlOf(r, udp); ttl != 64 {
		t.Fatalf("default TTL %d, want 64", ttl)
	}
	u.SetTTL(7)
	if ttl := ttlOf(r, udp); ttl != 7 {
		t.Fatalf("SetTTL(7): %d", ttl)
	}
	u.SetTTL(0)
	if ttl := ttlOf(r, udp); ttl != 64 {
		t.Fatalf("SetTTL(0): %d, want the default, never 0", ttl)
	}
	u.SetTOS(0xb8)
	udp()
	if tos := decode(t, r.expectOne()).ip.TOS(); tos != 0xb8 {
		t.Fatalf("SetTOS(0xb8): TOS %#x (RFC 1122 §3.2.1.6)", tos)
	}

	r = newRig(t, Config{TTL: 200})
	r.learn(peerMAC, peerIP)
	u, _ = r.bindRecorder(netip.Addr{}, 1000)
	if ttl := ttlOf(r, func() { u.SendTo([]byte("x"), peerPort9) }); ttl != 200 {
		t.Fatalf("Config.TTL 200: %d", ttl)
	}
	p, _ := r.s.NewPing(nil)
	if ttl := ttlOf(r, func() { p.Send(peerAddr, 1, nil) }); ttl != 200 {
		t.Fatalf("ping TTL %d", ttl)
	}
	r.inject(echoFrame(rigIP, 1, 1, nil))
	if d := decode(t, r.expectOne()); d.ip.TTL() != 200 {
		t.Fatalf("echo reply TTL %d", d.ip.TTL())
	}
}

// DF on a datagram larger than the MTU: not sent, ErrVal, counted.
func TestIPOutputDontFragmentOversize(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	hdr := make([]byte, wire.UDPHeaderLen)
	big := make([]byte, 1500)
	err := r.s.ipOutputParts(hdr, big, &ipParams{dst: peerIP, proto: 253, df: true})
	r.s.flush()
	if err != errs.ErrVal {
		t.Fatalf("DF oversize: %v, want ErrVal", err)
	}
	r.expectNone()
	if st := r.s.Stats(); st.IPDrop.FragDF != 1 {
		t.Fatalf("frag_df=%d", st.IPDrop.FragDF)
	}
	// Within the MTU, DF goes out set.
	if err := r.s.ipOutputParts(hdr, big[:1400], &ipParams{dst: peerIP, proto: 253, df: true}); err != nil {
		t.Fatal(err)
	}
	r.s.flush()
	out := r.dev.sent
	r.dev.sent = nil
	if len(out) != 1 || decode(t, out[0]).ip.Flags()&wire.IPv4DontFragment == 0 {
		t.Fatalf("DF datagram: %d frames", len(out))
	}
	// The whole-datagram limit: 65507 bytes of UDP data.
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	if err := u.SendTo(make([]byte, 65508), peerPort9); err != errs.ErrVal {
		t.Fatalf("65508-byte UDP: %v, want ErrVal", err)
	}
	r.checkNoLeak()
}

// RFC 791 / RFC 6864: each datagram gets its own ID; fragments share theirs.
func TestIPOutputIdentificationDiffers(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	p, _ := r.s.NewPing(nil)
	seen := map[uint16]bool{}
	for i := range 6 {
		if i%2 == 0 {
			u.SendTo([]byte("x"), peerPort9)
		} else {
			p.Send(peerAddr, uint16(i), nil)
		}
		id := decode(t, r.expectOne()).ip.ID()
		if seen[id] {
			t.Fatalf("IP ID %d reused", id)
		}
		seen[id] = true
	}
	u.SendTo(make([]byte, 4000), peerPort9)
	out := r.sent()
	if len(out) != 3 {
		t.Fatalf("%d fragments", len(out))
	}
	id := decode(t, out[0]).ip.ID()
	for _, f := range out {
		if decode(t, f).ip.ID() != id {
			t.Fatalf("fragments with different IDs")
		}
	}
	if seen[id] {
		t.Fatalf("fragmented datagram reused ID %d", id)
	}
}

// An 8 KiB UDP datagram leaves as MTU-sized fragments with the right
// offsets and MF bits, and a second stack reassembles it.
func TestIPOutputFragments8KiBAndPeerReassembles(t *testing.T) {
	for _, mtu := range []int{1500, 576} {
		r := newRig(t, Config{})
		if mtu != 1500 {
			r.n.MTU = mtu // as NetifConfig.MTU would set it
		}
		r.learn(peerMAC, peerIP)
		u, _ := r.bindRecorder(netip.Addr{}, 1000)
		data := pattern(8192, 0x42)
		if err := u.SendTo(data, peerPort9); err != nil {
			t.Fatal(err)
		}
		out := r.sent()
		step := (mtu - 20) &^ 7
		total := 8 + len(data)
		if want := (total + step - 1) / step; len(out) != want {
			t.Fatalf("MTU %d: %d fragments, want %d", mtu, len(out), want)
		}
		for i, f := range out {
			d := decode(t, f)
			last := i == len(out)-1
			wantLen := step
			if last {
				wantLen = total - i*step
			}
			if d.ip.FragOffset() != i*step || (d.ip.Flags()&wire.IPv4MoreFragments != 0) == last ||
				len(d.ip.Payload()) != wantLen || len(d.ip) > mtu || d.eth.Dst() != peerMAC {
				t.Fatalf("MTU %d fragment %d: %s", mtu, i, describe(f))
			}
		}
		if st := r.s.Stats(); st.IPFrag.Xmit != uint64(len(out)) || st.UDP.Xmit != 1 {
			t.Fatalf("frag xmit=%d udp xmit=%d", st.IPFrag.Xmit, st.UDP.Xmit)
		}
		// The peer: a second stack at 10.0.0.2, fragments delivered out of order.
		pdev := &testDev{mac: peerMAC, mtu: 1500}
		ps := New(Config{Seed: 7})
		pn, err := ps.AddNetif(pdev, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.2/24")})
		if err != nil {
			t.Fatal(err)
		}
		ps.SetUp(pn)
		pu, _ := ps.NewUDP()
		pu.Bind(netip.Addr{}, 9)
		var got []byte
		var from netip.AddrPort
		pu.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
			got, from = bytes.Clone(p.Bytes()), src
			p.Free()
		})
		for i := len(out) - 1; i >= 0; i-- {
			pdev.inbox = append(pdev.inbox, out[i])
		}
		ps.Poll(0)
		if !bytes.Equal(got, data) || from != netip.MustParseAddrPort("10.0.0.1:1000") {
			t.Fatalf("MTU %d: peer received %d bytes from %v", mtu, len(got), from)
		}
		checkPools(t, ps)
		r.checkNoLeak()
	}
}

// NetifConfig.MTU lowers the device's MTU; values below 68 are refused.
func TestNetifMTUConfig(t *testing.T) {
	s := New(Config{Seed: rigSeed})
	dev := &testDev{mac: rigMAC, mtu: 1500}
	n, err := s.AddNetif(dev, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.1/24"), MTU: 1000})
	if err != nil || n.MTU != 1000 {
		t.Fatalf("MTU 1000: %v %v", n, err)
	}
	if _, err := s.AddNetif(&testDev{mtu: 60}, NetifConfig{}); err != errs.ErrVal {
		t.Fatalf("device MTU 60: %v", err)
	}
	if _, err := s.AddNetif(&testDev{mtu: 9000}, NetifConfig{}); err != errs.ErrVal {
		t.Fatalf("jumbo MTU beyond a pool buffer: %v", err)
	}
	s2 := New(Config{MaxNetifs: 1})
	s2.AddNetif(&testDev{mtu: 1500}, NetifConfig{})
	if _, err := s2.AddNetif(&testDev{mtu: 1500}, NetifConfig{}); err != errs.ErrMem {
		t.Fatalf("beyond MaxNetifs: %v", err)
	}
}
