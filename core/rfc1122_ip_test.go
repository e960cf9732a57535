package core

// RFC 1122 §3.2 (IP and ICMP) requirements, one scripted test each: hand-built
// frames in, the exact response or drop counter out.

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

func TestRFC1122_3_2_1_1_DiscardsVersionNot4(t *testing.T) {
	for _, ver := range []byte{0, 5, 6, 15} {
		r := newRig(t, Config{})
		r.learn(peerMAC, peerIP)
		f := echoFrame(rigIP, 1, 1, []byte("x"))
		ip := wire.IPv4(f[wire.EthernetHeaderLen:])
		ip[0] = ver<<4 | 5
		ip.UpdateChecksum()
		r.inject(f)
		r.expectNone()
		st := r.s.Stats()
		if st.IPDrop.BadVersion != 1 || st.IP.Drop != 1 || st.ICMP.Recv != 0 {
			t.Errorf("version %d: badversion=%d drop=%d icmp.recv=%d", ver, st.IPDrop.BadVersion, st.IP.Drop, st.ICMP.Recv)
		}
		r.checkNoLeak()
	}
}

func TestRFC1122_3_2_1_2_DiscardsBadHeaderChecksum(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	f := echoFrame(rigIP, 1, 1, []byte("abc"))
	f[wire.EthernetHeaderLen+10] ^= 0x01 // checksum field
	r.inject(f)
	r.expectNone()
	if st := r.s.Stats(); st.IPDrop.BadChecksum != 1 || st.IP.ChkErr != 1 || st.ICMP.Recv != 0 {
		t.Fatalf("badchksum=%d chkerr=%d icmp.recv=%d", st.IPDrop.BadChecksum, st.IP.ChkErr, st.ICMP.Recv)
	}
	// A header byte changed under a correct old checksum is caught the same way.
	f = echoFrame(rigIP, 1, 2, []byte("abc"))
	f[wire.EthernetHeaderLen+8]-- // TTL
	r.inject(f)
	r.expectNone()
	if st := r.s.Stats(); st.IPDrop.BadChecksum != 2 {
		t.Fatalf("badchksum=%d after a changed TTL", st.IPDrop.BadChecksum)
	}
	// Control: the intact frame is answered.
	r.inject(echoFrame(rigIP, 1, 3, []byte("abc")))
	r.expectOne()
	r.checkNoLeak()
}

func TestRFC1122_3_2_1_3_DiscardsBroadcastSource(t *testing.T) {
	srcs := []struct {
		name string
		src  wire.IPv4Addr
	}{
		{"limited broadcast", wire.IPv4Broadcast},
		{"subnet broadcast", rigBcast},
		{"multicast", wire.IPv4Addr{224, 0, 0, 1}},
		{"class E", wire.IPv4Addr{240, 0, 0, 1}},
		{"loopback from the wire", wire.IPv4Addr{127, 0, 0, 1}},
	}
	for _, tc := range srcs {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{})
			_, got := r.bindRecorder(netip.Addr{}, 7)
			// UDP to a bound port, and to a closed one (no port unreachable).
			r.inject(
				ipFrame(tc.src, rigIP, wire.ProtoUDP, 1, mkUDP(tc.src, rigIP, 9, 7, []byte("hi"))),
				ipFrame(tc.src, rigIP, wire.ProtoUDP, 2, mkUDP(tc.src, rigIP, 9, 8, []byte("hi"))),
				ipFrame(tc.src, rigIP, wire.ProtoICMP, 3, mkICMP(wire.ICMPv4Echo, 0, 1, nil)),
			)
			r.expectNone()
			if len(*got) != 0 {
				t.Fatalf("delivered %d datagrams from %v", len(*got), tc.src)
			}
			if st := r.s.Stats(); st.IPDrop.BadSource != 3 || st.UDP.Recv != 0 || st.ICMP.Recv != 0 {
				t.Fatalf("badsrc=%d udp.recv=%d icmp.recv=%d", st.IPDrop.BadSource, st.UDP.Recv, st.ICMP.Recv)
			}
			r.checkNoLeak()
		})
	}
}

// RFC 1122 §3.2.1.3: a host MUST accept its own unicast address, the limited
// broadcast and the subnet-directed broadcast; others are not ours.
func TestRFC1122_3_2_1_3_AcceptsOwnAndBroadcastDestinations(t *testing.T) {
	r := newRig(t, Config{})
	_, got := r.bindRecorder(netip.Addr{}, 67)
	for _, dst := range []wire.IPv4Addr{rigIP, wire.IPv4Broadcast, rigBcast, {10, 0, 0, 9}, {224, 0, 0, 1}} {
		f := udpFrame(dst, 68, 67, []byte("d"))
		if dst.IsBroadcast() || dst == rigBcast || dst.IsMulticast() {
			copy(f, wire.BroadcastMAC[:])
		}
		r.inject(f)
	}
	r.expectNone()
	if len(*got) != 3 {
		t.Fatalf("delivered %d datagrams, want 3", len(*got))
	}
	for i, want := range []wire.IPv4Addr{rigIP, wire.IPv4Broadcast, rigBcast} {
		if (*got)[i].dst != netip.AddrFrom4(want) {
			t.Errorf("datagram %d: dst %v, want %v (RFC 1122 §4.1.3.5)", i, (*got)[i].dst, want)
		}
	}
	if d := r.s.Stats().IPDrop.NotForUs; d != 2 {
		t.Fatalf("notforus=%d, want 2", d)
	}
}

// RFC 1122 §3.2.1.7: a host MUST NOT discard a datagram just because its TTL
// is below 2.
func TestRFC1122_3_2_1_7_AcceptsTTLBelow2(t *testing.T) {
	for _, ttl := range []uint8{0, 1} {
		r := newRig(t, Config{})
		r.learn(peerMAC, peerIP)
		f := mkEth(rigMAC, peerMAC, wire.EtherTypeIPv4, mkIPv4(wire.IPv4Header{ID: 5, TTL: ttl, Protocol: wire.ProtoICMP,
			Src: peerIP, Dst: rigIP}, mkICMP(wire.ICMPv4Echo, 0, 1, []byte("ttl"))))
		if ttl == 0 { // mkIPv4 turns 0 into 64
			ip := wire.IPv4(f[wire.EthernetHeaderLen:])
			ip.SetTTL(0)
			ip.UpdateChecksum()
		}
		r.inject(f)
		d := decode(t, r.expectOne())
		if d.icmp == nil || d.icmp.Type() != wire.ICMPv4EchoReply {
			t.Fatalf("TTL %d: no echo reply", ttl)
		}
		if d.ip.TTL() != 64 {
			t.Fatalf("reply TTL %d, want the default 64", d.ip.TTL())
		}
	}
}

func TestRFC1122_3_2_2_6_EchoReplyDataAndSource(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	data := pattern(1000, 3)
	req := mkEth(rigMAC, peerMAC, wire.EtherTypeIPv4, mkIPv4(wire.IPv4Header{ID: 77, TOS: 0x28, Protocol: wire.ProtoICMP,
		Src: peerIP, Dst: rigIP}, mkICMP(wire.ICMPv4Echo, 0, 0xbeef<<16|42, data)))
	r.inject(req)
	d := decode(t, r.expectOne())
	if d.eth.Dst() != peerMAC {
		t.Errorf("eth dst %v, want %v", d.eth.Dst(), peerMAC)
	}
	if d.ip.Src() != rigIP || d.ip.Dst() != peerIP {
		t.Errorf("reply %v > %v, want %v > %v", d.ip.Src(), d.ip.Dst(), rigIP, peerIP)
	}
	if d.ip.TOS() != 0x28 {
		t.Errorf("reply TOS %#x, want the request's 0x28", d.ip.TOS())
	}
	if d.icmp.Type() != wire.ICMPv4EchoReply || d.icmp.Code() != 0 || d.icmp.ID() != 0xbeef || d.icmp.Seq() != 42 {
		t.Errorf("reply type %d code %d id %#x seq %d", d.icmp.Type(), d.icmp.Code(), d.icmp.ID(), d.icmp.Seq())
	}
	if !bytes.Equal(d.icmp.Payload(), data) {
		t.Errorf("reply data differs from the request's (%d vs %d bytes)", len(d.icmp.Payload()), len(data))
	}
	if st := r.s.Stats(); st.ICMPEx.EchoReplies != 1 || st.ICMP.Xmit != 1 {
		t.Errorf("echoreplies=%d icmp.xmit=%d", st.ICMPEx.EchoReplies, st.ICMP.Xmit)
	}
	r.checkNoLeak()
}

// RFC 1122 §3.2.2.6: the reply's source is the specific address the request
// was sent to, also when that is another interface's address (weak host).
func TestRFC1122_3_2_2_6_EchoReplySourceIsRequestDestination(t *testing.T) {
	r := newRig(t, Config{})
	dev2 := &testDev{mac: wire.MAC{2, 0, 0, 0, 0, 0x21}, mtu: 1500, keep: true}
	n2, err := r.s.AddNetif(dev2, NetifConfig{Addr: netip.MustParsePrefix("192.168.7.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	r.s.SetUp(n2)
	r.chk = newTxCheck(r.s)
	r.chk.mac = rigMAC
	r.learn(peerMAC, peerIP)
	r.inject(echoFrame(wire.IPv4Addr{192, 168, 7, 1}, 9, 9, []byte("weak")))
	d := decode(t, r.expectOne())
	if d.ip.Src() != (wire.IPv4Addr{192, 168, 7, 1}) || d.ip.Dst() != peerIP || d.icmp.Type() != wire.ICMPv4EchoReply {
		t.Fatalf("reply %v > %v type %d", d.ip.Src(), d.ip.Dst(), d.icmp.Type())
	}
}

// RFC 1122 §3.2.2.6: an echo to a broadcast address MAY be discarded; lwgo
// discards and counts it.
func TestRFC1122_3_2_2_6_EchoToBroadcastIgnored(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	for _, dst := range []wire.IPv4Addr{wire.IPv4Broadcast, rigBcast} {
		f := echoFrame(dst, 1, 1, nil)
		copy(f, wire.BroadcastMAC[:])
		r.inject(f)
	}
	r.expectNone()
	if n := r.s.Stats().ICMPEx.BroadcastEcho; n != 2 {
		t.Fatalf("broadcastecho=%d", n)
	}
	r.checkNoLeak()
}

func TestRFC1122_3_2_2_6_EchoBadChecksumDropped(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	f := echoFrame(rigIP, 1, 1, []byte("data"))
	f[len(f)-1] ^= 0xff
	r.inject(f)
	r.expectNone()
	if st := r.s.Stats(); st.ICMP.ChkErr != 1 || st.ICMP.Drop != 1 {
		t.Fatalf("icmp chkerr=%d drop=%d", st.ICMP.ChkErr, st.ICMP.Drop)
	}
}

// RFC 1122 §3.2.2: unknown ICMP types MUST be silently discarded; so is
// Source Quench (RFC 6633).
func TestRFC1122_3_2_2_DiscardsUnknownICMPType(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	r.inject(
		ipFrame(peerIP, rigIP, wire.ProtoICMP, 1, mkICMP(42, 0, 0, []byte("??"))),
		ipFrame(peerIP, rigIP, wire.ProtoICMP, 2, mkICMP(wire.ICMPv4SourceQuench, 0, 0, make([]byte, 28))),
		ipFrame(peerIP, rigIP, wire.ProtoICMP, 3, mkICMP(wire.ICMPv4Timestamp, 0, 0, make([]byte, 12))),
	)
	r.expectNone()
	if st := r.s.Stats(); st.ICMP.ProtErr != 3 || st.ICMP.Drop != 3 {
		t.Fatalf("icmp proterr=%d drop=%d", st.ICMP.ProtErr, st.ICMP.Drop)
	}
	r.checkNoLeak()
}

// checkQuote verifies that an ICMP error quotes the offending datagram's
// header and at least its first 8 data bytes (RFC 1122 §3.2.2).
func checkQuote(t *testing.T, m wire.ICMPv4, orig []byte) {
	t.Helper()
	q := m.Payload()
	want := orig[:min(len(orig), 576-20-8)]
	if len(q) < 28 || !bytes.Equal(q, want) {
		t.Fatalf("quote (%d bytes) is not the datagram's first %d bytes:\n got % x\nwant % x", len(q), len(want), q, want)
	}
}

func TestRFC1122_3_2_2_1_ProtocolUnreachable(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	f := ipFrame(peerIP, rigIP, 99, 0x1234, pattern(40, 1))
	r.inject(f)
	d := decode(t, r.expectOne())
	if d.eth.Dst() != peerMAC || d.ip.Src() != rigIP || d.ip.Dst() != peerIP || d.ip.Protocol() != wire.ProtoICMP {
		t.Fatalf("error frame %s", describe(d.eth))
	}
	if d.icmp.Type() != wire.ICMPv4DstUnreachable || d.icmp.Code() != wire.ICMPv4ProtoUnreachable {
		t.Fatalf("type %d code %d, want 3/2", d.icmp.Type(), d.icmp.Code())
	}
	checkQuote(t, d.icmp, f[wire.EthernetHeaderLen:])
	if st := r.s.Stats(); st.IPDrop.NoProto != 1 || st.ICMPEx.Unreachables != 1 {
		t.Fatalf("noproto=%d unreachables=%d", st.IPDrop.NoProto, st.ICMPEx.Unreachables)
	}
	r.checkNoLeak()
}

// RFC 1122 §3.2.2: the quote holds the header and at least 8 data bytes;
// lwgo quotes as much as fits in 576 bytes.
func TestRFC1122_3_2_2_ErrorQuoteFitsIn576(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	f := ipFrame(peerIP, rigIP, 99, 0x1235, pattern(1400, 2))
	r.inject(f)
	d := decode(t, r.expectOne())
	if len(d.ip) != 576 {
		t.Fatalf("error datagram %d bytes, want 576", len(d.ip))
	}
	checkQuote(t, d.icmp, f[wire.EthernetHeaderLen:])
}

func TestRFC1122_3_2_2_NoICMPErrorAboutICMPError(t *testing.T) {
	// ICMP never answers ICMP directly; the path where an ICMP error could
	// arise about an ICMP message is the reassembly timeout (Time Exceeded)
	// of a fragmented ICMP message.
	for _, tc := range []struct {
		name    string
		typ     wire.ICMPv4Type
		wantErr bool
	}{
		{"dest unreachable", wire.ICMPv4DstUnreachable, false},
		{"time exceeded", wire.ICMPv4TimeExceeded, false},
		{"redirect", wire.ICMPv4Redirect, false},
		{"unknown type", 42, false},
		{"echo (control)", wire.ICMPv4Echo, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{})
			r.learn(peerMAC, peerIP)
			msg := mkICMP(tc.typ, 0, 0, pattern(64, 9))
			h := wire.IPv4Header{ID: 0x777, Protocol: wire.ProtoICMP, Src: peerIP, Dst: rigIP}
			r.inject(mkFrag(h, msg, frag{0, 16, true}))
			r.expectNone()
			r.advanceBy(r.s.cfg.ReassTimeout+2*clock.Second, clock.Second)
			st := r.s.Stats()
			if st.IPDrop.ReassTimeout != 1 {
				t.Fatalf("reass_timeout=%d", st.IPDrop.ReassTimeout)
			}
			out := r.sent()
			if !tc.wantErr {
				if len(out) != 0 || st.ICMPEx.Suppressed != 1 || st.ICMPEx.TimeExceeded != 0 {
					t.Fatalf("sent %d frames, suppressed=%d timeexceeded=%d", len(out), st.ICMPEx.Suppressed, st.ICMPEx.TimeExceeded)
				}
			} else if len(out) != 1 || st.ICMPEx.TimeExceeded != 1 {
				t.Fatalf("sent %d frames, timeexceeded=%d; want the Time Exceeded", len(out), st.ICMPEx.TimeExceeded)
			}
			r.checkNoLeak()
		})
	}
}

func TestRFC1122_3_2_2_NoICMPErrorAboutBroadcast(t *testing.T) {
	for _, dst := range []wire.IPv4Addr{wire.IPv4Broadcast, rigBcast} {
		r := newRig(t, Config{})
		r.learn(peerMAC, peerIP)
		// Unknown protocol and closed UDP port, to a broadcast address (in a
		// unicast frame, so only the IP destination forbids the error).
		r.inject(
			ipFrame(peerIP, dst, 99, 1, pattern(20, 0)),
			udpFrame(dst, 1000, 9999, []byte("x")),
		)
		r.expectNone()
		st := r.s.Stats()
		if st.IPDrop.NoProto != 1 || st.UDP.Drop != 1 || st.ICMPEx.Unreachables != 0 {
			t.Fatalf("%v: noproto=%d udp.drop=%d unreachables=%d", dst, st.IPDrop.NoProto, st.UDP.Drop, st.ICMPEx.Unreachables)
		}
		if st.ICMPEx.Suppressed != 1 { // the UDP path never asks
			t.Fatalf("%v: suppressed=%d, want 1", dst, st.ICMPEx.Suppressed)
		}
		r.checkNoLeak()
	}
}

func TestRFC1122_3_2_2_NoICMPErrorForLinkBroadcast(t *testing.T) {
	for _, mac := range []wire.MAC{wire.BroadcastMAC, {0x01, 0x00, 0x5e, 0, 0, 1}} {
		r := newRig(t, Config{})
		r.learn(peerMAC, peerIP)
		a := ipFrame(peerIP, rigIP, 99, 1, pattern(20, 0))
		b := udpFrame(rigIP, 1000, 9999, []byte("x"))
		copy(a, mac[:])
		copy(b, mac[:])
		r.inject(a, b)
		r.expectNone()
		st := r.s.Stats()
		if st.ICMPEx.Suppressed != 2 || st.ICMPEx.Unreachables != 0 {
			t.Fatalf("%v: suppressed=%d unreachables=%d", mac, st.ICMPEx.Suppressed, st.ICMPEx.Unreachables)
		}
		// Control: the same datagrams in unicast frames draw errors.
		r.inject(ipFrame(peerIP, rigIP, 99, 2, pattern(20, 0)), udpFrame(rigIP, 1000, 9999, []byte("x")))
		if out := r.sent(); len(out) != 2 {
			t.Fatalf("control: %d errors, want 2", len(out))
		}
	}
}

func TestRFC1122_3_2_2_NoICMPErrorAboutNonInitialFragment(t *testing.T) {
	// A non-initial fragment alone: no Time Exceeded on timeout (fragment 0
	// never came), and nothing else.
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	payload := mkUDP(peerIP, rigIP, 1000, 9999, pattern(100, 1))
	h := wire.IPv4Header{ID: 0x99, Protocol: wire.ProtoUDP, Src: peerIP, Dst: rigIP}
	r.inject(mkFrag(h, payload, frag{16, 24, true}), mkFrag(h, payload, frag{40, len(payload) - 40, false}))
	r.expectNone()
	r.advanceBy(r.s.cfg.ReassTimeout+2*clock.Second, clock.Second)
	r.expectNone()
	if st := r.s.Stats(); st.IPDrop.ReassTimeout != 1 || st.ICMPEx.TimeExceeded != 0 {
		t.Fatalf("reass_timeout=%d timeexceeded=%d", st.IPDrop.ReassTimeout, st.ICMPEx.TimeExceeded)
	}
	// White-box: the error path itself refuses a header with an offset.
	ip := wire.IPv4(mkFrag(h, payload, frag{16, 24, true})[wire.EthernetHeaderLen:])
	before := r.s.stats.ICMPEx.Suppressed
	r.s.icmpErrorRaw(r.n, ip[:20], ip[20:28], 0, wire.ICMPv4DstUnreachable, wire.ICMPv4PortUnreachable, 0)
	r.s.flush()
	r.expectNone()
	if r.s.stats.ICMPEx.Suppressed != before+1 {
		t.Fatalf("error about a non-initial fragment not suppressed")
	}
	r.checkNoLeak()
}

// RFC 1122 §3.2.2: no error about a datagram whose source is not a unique
// host (0.0.0.0 reaches UDP: DHCP clients use it).
func TestRFC1122_3_2_2_NoICMPErrorAboutUnspecifiedSource(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	r.inject(ipFrame(wire.IPv4Addr{}, rigIP, wire.ProtoUDP, 1, mkUDP(wire.IPv4Addr{}, rigIP, 68, 9999, []byte("x"))))
	r.expectNone()
	if st := r.s.Stats(); st.ICMPEx.Suppressed != 1 {
		t.Fatalf("suppressed=%d", st.ICMPEx.Suppressed)
	}
}

// ICMP errors are rate limited (Config.ICMPErrorRate per second, burst as many).
func TestICMPErrorRateLimit(t *testing.T) {
	r := newRig(t, Config{ICMPErrorRate: 3})
	r.learn(peerMAC, peerIP)
	for i := range 5 {
		r.inject(udpFrame(rigIP, 1000, 9999, []byte{byte(i)}))
	}
	if out := r.sent(); len(out) != 3 {
		t.Fatalf("burst: %d errors, want 3", len(out))
	}
	if n := r.s.Stats().ICMPEx.RateLimited; n != 2 {
		t.Fatalf("ratelimited=%d", n)
	}
	r.clk.Advance(clock.Second)
	for i := range 5 {
		r.inject(udpFrame(rigIP, 1000, 9999, []byte{byte(i)}))
	}
	if out := r.sent(); len(out) != 3 {
		t.Fatalf("after 1 s: %d errors, want 3", len(out))
	}
}

// The token bucket works whatever the clock's epoch (clock.Time counts from
// an arbitrary one): a first Poll at 2^62 ns must not overflow the refill.
func TestICMPErrorRateLimitLargeClockEpoch(t *testing.T) {
	r := newRig(t, Config{ICMPErrorRate: 2})
	r.clk.Set(clock.Time(1 << 62))
	r.poll()
	r.learn(peerMAC, peerIP)
	sent := 0
	for i := range 20 {
		r.inject(udpFrame(rigIP, 1000, 9999, []byte{byte(i)}))
		sent += len(r.sent())
		r.advance(clock.Second)
	}
	if sent != 20 {
		t.Fatalf("%d errors in 20 s at 2 per second, one every second (ratelimited=%d)", sent, r.s.Stats().ICMPEx.RateLimited)
	}
}

// RFC 1122 §3.2.2.1, §4.1.3.3: a received Destination Unreachable reaches
// the UDP endpoint that sent the quoted datagram.
func TestRFC1122_3_2_2_1_DestUnreachablePassedToTransport(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	u, _ := r.bindRecorder(netip.Addr{}, 5555)
	type errEv struct {
		dst  netip.AddrPort
		typ  wire.ICMPv4Type
		code uint8
	}
	var evs []errEv
	u.SetErr(func(u UDP, dst netip.AddrPort, typ wire.ICMPv4Type, code uint8) {
		evs = append(evs, errEv{dst, typ, code})
	})
	// The datagram we "sent": 10.0.0.1:5555 → 10.0.0.2:53.
	orig := mkIPv4(wire.IPv4Header{ID: 3, Protocol: wire.ProtoUDP, Src: rigIP, Dst: peerIP}, mkUDP(rigIP, peerIP, 5555, 53, []byte("query")))
	r.inject(ipFrame(peerIP, rigIP, wire.ProtoICMP, 9, mkICMP(wire.ICMPv4DstUnreachable, wire.ICMPv4PortUnreachable, 0, orig[:28])))
	r.expectNone()
	want := errEv{netip.MustParseAddrPort("10.0.0.2:53"), wire.ICMPv4DstUnreachable, wire.ICMPv4PortUnreachable}
	if len(evs) != 1 || evs[0] != want {
		t.Fatalf("errors %+v, want %+v", evs, want)
	}
	// Time Exceeded and Parameter Problem too (RFC 1122 §3.2.2.4, §3.2.2.5).
	r.inject(ipFrame(peerIP, rigIP, wire.ProtoICMP, 10, mkICMP(wire.ICMPv4TimeExceeded, 0, 0, orig[:28])))
	r.inject(ipFrame(peerIP, rigIP, wire.ProtoICMP, 11, mkICMP(wire.ICMPv4ParamProblem, 0, 0, orig[:28])))
	if len(evs) != 3 || evs[1].typ != wire.ICMPv4TimeExceeded || evs[2].typ != wire.ICMPv4ParamProblem {
		t.Fatalf("errors %+v", evs)
	}
	// A quote shorter than header + 8 bytes is dropped.
	r.inject(ipFrame(peerIP, rigIP, wire.ProtoICMP, 12, mkICMP(wire.ICMPv4DstUnreachable, 3, 0, orig[:24])))
	if len(evs) != 3 || r.s.Stats().ICMP.LenErr != 1 {
		t.Fatalf("short quote: %d errors, lenerr=%d", len(evs), r.s.Stats().ICMP.LenErr)
	}
	if n := r.s.Stats().ICMPEx.ErrorsIn; n != 3 {
		t.Fatalf("errorsin=%d", n)
	}
	r.checkNoLeak()
}
