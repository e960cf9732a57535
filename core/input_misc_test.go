package core

// Link and IP input corner cases: malformed headers, padding, options,
// foreign frames, budgets; large and reassembled echo; the maximum datagram.

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

func TestIPv4MalformedHeadersCounted(t *testing.T) {
	good := func() []byte { return echoFrame(rigIP, 1, 1, []byte("0123456789")) }
	tests := []struct {
		name  string
		mod   func(f []byte) []byte
		check func(d IPDrops) uint64
	}{
		{"shorter than 20 bytes", func(f []byte) []byte { return f[:wire.EthernetHeaderLen+19] },
			func(d IPDrops) uint64 { return d.Truncated }},
		{"IHL 4", func(f []byte) []byte { f[14] = 0x44; return f }, func(d IPDrops) uint64 { return d.BadHeaderLen }},
		{"IHL beyond the frame", func(f []byte) []byte { f[14] = 0x4f; return f },
			func(d IPDrops) uint64 { return d.BadHeaderLen }},
		{"total length below IHL", func(f []byte) []byte { f[16], f[17] = 0, 19; return f },
			func(d IPDrops) uint64 { return d.BadLength }},
		{"total length beyond the frame", func(f []byte) []byte { f[16], f[17] = 0x05, 0xdc; return f },
			func(d IPDrops) uint64 { return d.Truncated }},
	}
	for _, tc := range tests {
		r := newRig(t, Config{})
		r.learn(peerMAC, peerIP)
		f := tc.mod(good())
		if len(f) >= wire.EthernetHeaderLen+20 {
			ip := wire.IPv4(f[wire.EthernetHeaderLen:])
			if hl := ip.HeaderLen(); hl >= 20 && hl <= len(ip) {
				ip.UpdateChecksum()
			}
		}
		r.inject(f)
		r.expectNone()
		if n := tc.check(r.s.Stats().IPDrop); n != 1 {
			t.Errorf("%s: counter %d, want 1 (%+v)", tc.name, n, r.s.Stats().IPDrop)
		}
		r.checkNoLeak()
	}
}

// RFC 894 frames below 60 bytes are padded; the padding is no part of the
// datagram (checksums verify, the reply carries no padding).
func TestEthernetPaddingIgnored(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	_, got := r.bindRecorder(netip.Addr{}, 7)
	f := append(udpFrame(rigIP, 1, 7, []byte("ab")), make([]byte, 18)...)
	e := append(echoFrame(rigIP, 1, 1, []byte("cd")), 0xee, 0xee, 0xee)
	r.inject(f, e)
	if len(*got) != 1 || string((*got)[0].data) != "ab" {
		t.Fatalf("padded UDP: %+v", *got)
	}
	d := decode(t, r.expectOne())
	if string(d.icmp.Payload()) != "cd" {
		t.Fatalf("echo reply payload %q carries padding", d.icmp.Payload())
	}
	// ARP with trailing padding (as it always comes on the wire).
	r.inject(append(arpFrame(wire.BroadcastMAC, wire.ARPRequest, otherMAC, otherIP, wire.MAC{}, rigIP), make([]byte, 18)...))
	if d := decode(t, r.expectOne()); d.arp == nil || d.arp.Op() != wire.ARPReply {
		t.Fatalf("padded ARP not answered")
	}
}

// RFC 1122 §3.2.1.8: unknown IP options are ignored; the datagram is
// delivered, and an echo answered with the request's data.
func TestRFC1122_3_2_1_8_IgnoresUnknownOptions(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	_, got := r.bindRecorder(netip.Addr{}, 7)
	withOpts := func(proto wire.IPProto, payload []byte) []byte {
		ip := make([]byte, 24+len(payload))
		h := wire.IPv4Header{TotalLen: len(ip), ID: 9, TTL: 64, Protocol: proto, Src: peerIP, Dst: rigIP}
		h.Encode(wire.IPv4(ip))
		ip[0] = 0x46
		copy(ip[20:], []byte{0x9e, 0x04, 0xab, 0xcd}) // an unknown option, then the payload
		copy(ip[24:], payload)
		wire.IPv4(ip).UpdateChecksum()
		return mkEth(rigMAC, peerMAC, wire.EtherTypeIPv4, ip)
	}
	r.inject(withOpts(wire.ProtoUDP, mkUDP(peerIP, rigIP, 1, 7, []byte("opts"))))
	if len(*got) != 1 || string((*got)[0].data) != "opts" {
		t.Fatalf("UDP with options: %+v", *got)
	}
	r.inject(withOpts(wire.ProtoICMP, mkICMP(wire.ICMPv4Echo, 0, 5, []byte("echo with options"))))
	d := decode(t, r.expectOne())
	if d.icmp.Type() != wire.ICMPv4EchoReply || string(d.icmp.Payload()) != "echo with options" {
		t.Fatalf("echo with options: %s", describe(d.eth))
	}
	// A port unreachable quotes the options too.
	f := withOpts(wire.ProtoUDP, mkUDP(peerIP, rigIP, 1, 9999, []byte("closed")))
	r.inject(f)
	d = decode(t, r.expectOne())
	checkQuote(t, d.icmp, f[wire.EthernetHeaderLen:])
}

func TestLinkInputFiltering(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	// Another host's unicast frame, an unknown EtherType, a runt.
	other := echoFrame(rigIP, 1, 1, nil)
	copy(other, otherMAC[:])
	ipv6 := mkEth(rigMAC, peerMAC, 0x86dd, make([]byte, 40))
	r.inject(other, ipv6, []byte{1, 2, 3})
	r.expectNone()
	st := r.s.Stats()
	if st.Link.Drop != 3 || st.Link.ProtErr != 1 || st.Link.LenErr != 1 || r.n.Stats.RxDrops != 3 {
		t.Fatalf("link drop=%d proterr=%d lenerr=%d rxdrops=%d", st.Link.Drop, st.Link.ProtErr, st.Link.LenErr, r.n.Stats.RxDrops)
	}
	// Nothing is taken in while the interface is down.
	r.s.SetDown(r.n)
	r.inject(echoFrame(rigIP, 1, 2, nil))
	r.expectNone()
	if st := r.s.Stats(); st.ICMP.Recv != 0 || st.Link.Drop != 4 {
		t.Fatalf("down interface: icmp recv=%d link drop=%d", st.ICMP.Recv, st.Link.Drop)
	}
	r.checkNoLeak()
}

// SetDown forgets neighbours and frees what waited for them.
func TestSetDownFreesARPQueue(t *testing.T) {
	r := newRig(t, Config{})
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	u.SendTo([]byte("a"), peerPort9)
	u.SendTo([]byte("b"), peerPort9)
	r.sent()
	r.s.SetDown(r.n)
	if st := r.s.Stats(); st.ARPEx.QueueDrops != 2 || r.s.arp.busy() {
		t.Fatalf("queuedrops=%d busy=%v", st.ARPEx.QueueDrops, r.s.arp.busy())
	}
	r.checkNoLeak()
}

// Config.RxBudget bounds the frames taken per Poll; Poll then asks to be
// called again at once.
func TestPollRxBudget(t *testing.T) {
	r := newRig(t, Config{RxBudget: 4, RxBatch: 3})
	r.learn(peerMAC, peerIP)
	_, got := r.bindRecorder(netip.Addr{}, 7)
	for i := range 10 {
		r.dev.inbox = append(r.dev.inbox, udpFrame(rigIP, 1, 7, []byte{byte(i)}))
	}
	if next := r.poll(); next != r.now() || len(*got) != 4 {
		t.Fatalf("first Poll: %d delivered, deadline %v (now %v)", len(*got), next, r.now())
	}
	r.poll()
	r.poll()
	if len(*got) != 10 || len(r.dev.inbox) != 0 {
		t.Fatalf("after three Polls: %d delivered, %d waiting", len(*got), len(r.dev.inbox))
	}
	for i, g := range *got {
		if g.data[0] != byte(i) {
			t.Fatalf("datagram %d out of order", i)
		}
	}
}

// An echo request larger than the MTU is reassembled and answered with
// fragments carrying the same data.
func TestRFC1122_3_2_2_6_EchoReplyToReassembledRequest(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	data := pattern(3500, 8)
	msg := mkICMP(wire.ICMPv4Echo, 0, 0x1111<<16|2, data)
	h := wire.IPv4Header{ID: 0x3333, Protocol: wire.ProtoICMP, Src: peerIP, Dst: rigIP}
	for _, f := range splitFrags(len(msg), 1480) {
		r.inject(mkFrag(h, msg, f))
	}
	out := r.sent() // txCheck reassembles them and verifies the ICMP checksum
	if len(out) != 3 {
		t.Fatalf("%d reply fragments", len(out))
	}
	var whole []byte
	for _, f := range out {
		whole = append(whole, decode(t, f).ip.Payload()...)
	}
	m := wire.ICMPv4(whole)
	if m.Type() != wire.ICMPv4EchoReply || m.ID() != 0x1111 || m.Seq() != 2 || !bytes.Equal(m.Payload(), data) {
		t.Fatalf("reassembled reply: type %d id %#x seq %d, %d bytes", m.Type(), m.ID(), m.Seq(), len(m.Payload()))
	}
	r.checkNoLeak()
}

// RFC 791: a host reassembles datagrams up to 65535 bytes; lwgo's default
// ReassMaxSize is that maximum. Also the largest UDP send, 65507 bytes.
func TestRFC1122_3_2_1_4_ReassemblesMaximumDatagram(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	u, got := r.bindRecorder(netip.Addr{}, 7)
	data := pattern(65507, 6)
	msg := mkUDP(peerIP, rigIP, 1, 7, data)
	h := wire.IPv4Header{ID: 0x4444, Protocol: wire.ProtoUDP, Src: peerIP, Dst: rigIP}
	fs := splitFrags(len(msg), 1480)
	for i := len(fs) - 1; i >= 0; i-- {
		r.inject(mkFrag(h, msg, fs[i]))
	}
	if len(*got) != 1 || !bytes.Equal((*got)[0].data, data) {
		t.Fatalf("65535-byte datagram not delivered")
	}
	if err := u.SendTo(data, peerPort9); err != nil {
		t.Fatalf("65507-byte SendTo: %v", err)
	}
	if out := r.sent(); len(out) != len(fs) {
		t.Fatalf("%d fragments sent, want %d", len(out), len(fs))
	}
	if len(r.chk.frags) != 0 {
		t.Fatalf("the checker could not reassemble what was sent")
	}
	r.checkNoLeak()
}

// RFC 3021: on a /31 there is no directed broadcast; both addresses are
// hosts.
func TestRFC3021_Slash31HasNoBroadcast(t *testing.T) {
	dev := &testDev{mac: rigMAC, mtu: 1500, keep: true}
	s := New(Config{Seed: rigSeed})
	n, err := s.AddNetif(dev, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.0/31")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetUp(n)
	s.AddStaticARP(n, netip.MustParseAddr("10.0.0.1"), peerMAC)
	dev.sent = nil
	dev.inbox = append(dev.inbox, ipFrame(wire.IPv4Addr{10, 0, 0, 1}, wire.IPv4Addr{10, 0, 0, 0}, wire.ProtoICMP, 1,
		mkICMP(wire.ICMPv4Echo, 0, 1, nil)))
	s.Poll(clock.Time(0))
	if len(dev.sent) != 1 || s.Stats().IPDrop.BadSource != 0 {
		t.Fatalf("echo from the /31 peer: %d replies, badsrc=%d", len(dev.sent), s.Stats().IPDrop.BadSource)
	}
	if d := decode(t, dev.sent[0]); d.eth.Dst() != peerMAC {
		t.Fatalf("reply to the /31 peer sent to %v", d.eth.Dst())
	}
}
