package core

// ARP: RFC 826 packet reception, RFC 1122 §2.3.2 cache requirements,
// RFC 5227 announcement and conflict defence.

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

var (
	peerAddr  = netip.AddrFrom4(peerIP)
	peerPort9 = netip.AddrPortFrom(peerAddr, 9)
)

// arpFrame is an ARP packet from sha in a frame to dst.
func arpFrame(dst wire.MAC, op wire.ARPOp, sha wire.MAC, spa wire.IPv4Addr, tha wire.MAC, tpa wire.IPv4Addr) []byte {
	return mkEth(dst, sha, wire.EtherTypeARP, mkARP(op, sha, spa, tha, tpa))
}

// arpRequests returns the ARP requests for target among frames.
func arpRequests(t *testing.T, frames [][]byte, target wire.IPv4Addr) int {
	t.Helper()
	n := 0
	for _, f := range frames {
		d := decode(t, f)
		if d.arp != nil && d.arp.Op() == wire.ARPRequest && d.arp.TargetIP() == target {
			if d.eth.Dst() != wire.BroadcastMAC {
				t.Errorf("request for %v to %v, want broadcast", target, d.eth.Dst())
			}
			n++
		}
	}
	return n
}

func TestRFC826_RepliesToRequestForOurAddress(t *testing.T) {
	r := newRig(t, Config{})
	r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, peerMAC, peerIP, wire.MAC{}, rigIP))
	d := decode(t, r.expectOne())
	if d.arp == nil {
		t.Fatalf("not ARP: %s", describe(d.eth))
	}
	if d.eth.Dst() != peerMAC || d.eth.Src() != rigMAC {
		t.Errorf("reply frame %v > %v", d.eth.Src(), d.eth.Dst())
	}
	a := d.arp
	if a.Op() != wire.ARPReply || a.SenderMAC() != rigMAC || a.SenderIP() != rigIP ||
		a.TargetMAC() != peerMAC || a.TargetIP() != peerIP {
		t.Errorf("reply op=%d %v/%v > %v/%v", a.Op(), a.SenderIP(), a.SenderMAC(), a.TargetIP(), a.TargetMAC())
	}
	// RFC 826: the requester is learned (the merge/add step precedes the reply).
	if mac, ok := r.s.LookupARP(r.n, peerAddr); !ok || mac != peerMAC {
		t.Errorf("requester not learned: %v %v", mac, ok)
	}
	// Xmit counts the announcement SetUp sent, and the reply.
	if st := r.s.Stats(); st.ARP.Recv != 1 || st.ARP.Xmit != 2 || st.ARPEx.Replies != 1 {
		t.Errorf("arp recv=%d xmit=%d replies=%d", st.ARP.Recv, st.ARP.Xmit, st.ARPEx.Replies)
	}
	// A reply addressed to us teaches as well.
	r.inject(arpFrame(rigMAC, wire.ARPReply, otherMAC, otherIP, rigMAC, rigIP))
	r.expectNone()
	if mac, ok := r.s.LookupARP(r.n, netip.AddrFrom4(otherIP)); !ok || mac != otherMAC {
		t.Errorf("replier not learned")
	}
	r.checkNoLeak()
}

func TestRFC826_IgnoresRequestForOtherAddressButMerges(t *testing.T) {
	r := newRig(t, Config{})
	third := wire.IPv4Addr{10, 0, 0, 50}
	// A request between two other hosts: no reply, nothing learned.
	r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, otherMAC, otherIP, wire.MAC{}, third))
	r.expectNone()
	if _, ok := r.s.LookupARP(r.n, netip.AddrFrom4(otherIP)); ok {
		t.Fatalf("learned a host from a request not for us")
	}
	// RFC 826: "If the pair <protocol type, sender protocol address> is
	// already in my translation table, update the sender hardware address".
	r.learn(peerMAC, peerIP)
	newMAC := wire.MAC{0x02, 0, 0, 0, 0, 0x55}
	r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, newMAC, peerIP, wire.MAC{}, third))
	r.expectNone()
	if mac, _ := r.s.LookupARP(r.n, peerAddr); mac != newMAC {
		t.Fatalf("existing entry not merged: %v, want %v", mac, newMAC)
	}
	if st := r.s.Stats(); st.ARPEx.Replies != 1 { // the learn step's reply only
		t.Fatalf("replies=%d", st.ARPEx.Replies)
	}
}

// RFC 826 / RFC 5227 §2.1.1: an ARP probe (sender 0.0.0.0) for our address
// is a request for our address; answering it is how the prober detects that
// the address is taken.
func TestRFC5227_AnswersProbeForOurAddress(t *testing.T) {
	r := newRig(t, Config{})
	r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, otherMAC, wire.IPv4Addr{}, wire.MAC{}, rigIP))
	d := decode(t, r.expectOne())
	if d.arp == nil || d.arp.Op() != wire.ARPReply || d.arp.SenderIP() != rigIP || d.eth.Dst() != otherMAC {
		t.Fatalf("probe answered with %s", describe(d.eth))
	}
	if _, ok := r.s.LookupARP(r.n, netip.IPv4Unspecified()); ok {
		t.Fatalf("0.0.0.0 entered the cache")
	}
}

// Probes for other addresses teach nothing and draw nothing.
func TestRFC5227_ProbeForOtherAddressIgnored(t *testing.T) {
	r := newRig(t, Config{})
	r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, otherMAC, wire.IPv4Addr{}, wire.MAC{}, wire.IPv4Addr{10, 0, 0, 77}))
	r.expectNone()
	if r.s.arp.busy() {
		t.Fatalf("probe created an entry")
	}
}

// RFC 1122 §2.3.2.1: flood prevention, at most one request a second per
// destination, however many packets wait.
func TestRFC1122_2_3_2_1_ARPRequestRateOnePerSecond(t *testing.T) {
	r := newRig(t, Config{})
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	var times []clock.Time
	sends := 0
	for r.now() < clock.Time(8*clock.Second) {
		if r.now() < clock.Time(5*clock.Second) { // until resolution gives up
			if err := u.SendTo([]byte("x"), peerPort9); err != nil {
				t.Fatal(err)
			}
			sends++
		}
		for range arpRequests(t, r.sent(), peerIP) {
			times = append(times, r.now())
		}
		r.advance(100 * clock.Millisecond)
	}
	for range arpRequests(t, r.sent(), peerIP) {
		times = append(times, r.now())
	}
	if len(times) != r.s.cfg.ARPMaxTries {
		t.Fatalf("%d requests at %v, want %d", len(times), times, r.s.cfg.ARPMaxTries)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < clock.Second {
			t.Fatalf("requests %d and %d %v apart (times %v)", i-1, i, gap, times)
		}
	}
	st := r.s.Stats()
	if st.ARPEx.Requests != uint64(len(times)) || st.ARPEx.Failures != 1 {
		t.Fatalf("requests=%d failures=%d", st.ARPEx.Requests, st.ARPEx.Failures)
	}
	// Every packet queued was dropped: all but the last three when the queue
	// overflowed, those three when resolution failed.
	if st.ARPEx.QueueDrops != uint64(sends) {
		t.Fatalf("queuedrops=%d, sends=%d", st.ARPEx.QueueDrops, sends)
	}
	r.checkNoLeak()
}

// The same rule when the first packet is sent between two timer ticks: the
// first retry must still wait a second.
func TestRFC1122_2_3_2_1_ARPFirstRetryWaitsOneSecond(t *testing.T) {
	r := newRig(t, Config{})
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	r.advance(900 * clock.Millisecond) // between ticks (the rig's ticks fall on whole seconds)
	u.SendTo([]byte("x"), peerPort9)
	first := r.now()
	if n := arpRequests(t, r.sent(), peerIP); n != 1 {
		t.Fatalf("%d requests", n)
	}
	for r.now() < first.Add(clock.Second-clock.Millisecond) {
		r.advance(50 * clock.Millisecond)
		if n := arpRequests(t, r.sent(), peerIP); n != 0 {
			t.Fatalf("second request %v after the first", r.now().Sub(first))
		}
	}
}

func TestRFC1122_2_3_2_1_ARPEntryFailsAfterMaxTries(t *testing.T) {
	r := newRig(t, Config{ARPMaxTries: 3})
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	if err := u.SendTo([]byte("one"), peerPort9); err != nil {
		t.Fatal(err)
	}
	if err := u.SendTo([]byte("two"), peerPort9); err != nil {
		t.Fatal(err)
	}
	if r.s.pool.Available() != r.s.pool.Cap()-2 {
		t.Fatalf("%d buffers held, want the 2 queued", r.s.pool.Cap()-r.s.pool.Available())
	}
	n := 0
	for range 10 {
		n += arpRequests(t, r.sent(), peerIP)
		r.advance(clock.Second)
	}
	if n != 3 {
		t.Fatalf("%d requests, want ARPMaxTries=3", n)
	}
	st := r.s.Stats()
	if st.ARPEx.Failures != 1 || st.ARPEx.QueueDrops != 2 || st.IP.Drop != 2 {
		t.Fatalf("failures=%d queuedrops=%d ip.drop=%d", st.ARPEx.Failures, st.ARPEx.QueueDrops, st.IP.Drop)
	}
	if _, ok := r.s.LookupARP(r.n, peerAddr); ok || r.s.arp.busy() {
		t.Fatalf("failed entry still present")
	}
	r.checkNoLeak()
	// The next packet starts a new resolution.
	u.SendTo([]byte("three"), peerPort9)
	if n := arpRequests(t, r.sent(), peerIP); n != 1 {
		t.Fatalf("new resolution sent %d requests", n)
	}
}

func TestRFC1122_2_3_2_2_QueueKeepsLatest(t *testing.T) {
	r := newRig(t, Config{ARPQueueLen: 3})
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	for i := range 5 {
		if err := u.SendTo([]byte{'0' + byte(i)}, peerPort9); err != nil {
			t.Fatal(err)
		}
	}
	if n := arpRequests(t, r.sent(), peerIP); n != 1 {
		t.Fatalf("%d requests for 5 packets", n)
	}
	if st := r.s.Stats(); st.ARPEx.QueueDrops != 2 {
		t.Fatalf("queuedrops=%d, want 2 (ARPQueueLen 3)", st.ARPEx.QueueDrops)
	}
	r.inject(arpFrame(rigMAC, wire.ARPReply, peerMAC, peerIP, rigMAC, rigIP))
	out := r.sent()
	if len(out) != 3 {
		t.Fatalf("%d frames released, want 3", len(out))
	}
	for i, f := range out {
		d := decode(t, f)
		if d.eth.Dst() != peerMAC || d.udp == nil || string(d.udp.Payload()) != string(rune('2'+i)) {
			t.Fatalf("frame %d: %s payload %q", i, describe(f), d.udp.Payload())
		}
	}
	r.checkNoLeak()
}

// RFC 1122 §2.3.2.1: entries MUST time out.
func TestRFC1122_2_3_2_1_ARPEntryExpires(t *testing.T) {
	r := newRig(t, Config{ARPMaxAge: 2 * clock.Minute})
	r.learn(peerMAC, peerIP)
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	r.advanceBy(2*clock.Minute-2*clock.Second, clock.Second)
	if _, ok := r.s.LookupARP(r.n, peerAddr); !ok {
		t.Fatalf("entry gone before ARPMaxAge")
	}
	u.SendTo([]byte("x"), peerPort9)
	if d := decode(t, r.expectOne()); d.eth.Dst() != peerMAC {
		t.Fatalf("sent %s", describe(d.eth))
	}
	r.advanceBy(3*clock.Second, clock.Second)
	if _, ok := r.s.LookupARP(r.n, peerAddr); ok {
		t.Fatalf("entry alive after ARPMaxAge (use does not extend it)")
	}
	if r.s.Poll(r.now()) != clock.Never {
		t.Fatalf("Poll still asks for the timer with an empty cache")
	}
	u.SendTo([]byte("y"), peerPort9)
	if n := arpRequests(t, r.sent(), peerIP); n != 1 {
		t.Fatalf("no new request after expiry")
	}
}

// The default lifetime is ARP_MAXAGE's 5 minutes.
func TestARPDefaultMaxAge(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	r.advanceBy(290*clock.Second, 10*clock.Second)
	r.advanceBy(8*clock.Second, clock.Second)
	if _, ok := r.s.LookupARP(r.n, peerAddr); !ok {
		t.Fatalf("entry gone before 5 min")
	}
	r.advanceBy(3*clock.Second, clock.Second)
	if _, ok := r.s.LookupARP(r.n, peerAddr); ok {
		t.Fatalf("entry alive after 5 min")
	}
}

// RFC 5227 §2.3: an announcement when the interface comes up, when its
// address changes, and when the link comes back.
func TestRFC5227_GratuitousARPOnSetUp(t *testing.T) {
	dev := &testDev{mac: rigMAC, mtu: 1500, keep: true}
	s := New(Config{Seed: rigSeed})
	n, err := s.AddNetif(dev, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	if len(dev.sent) != 0 {
		t.Fatalf("sent before SetUp")
	}
	check := func(what string, addr wire.IPv4Addr) {
		t.Helper()
		if len(dev.sent) != 1 {
			t.Fatalf("%s: %d frames, want 1 announcement", what, len(dev.sent))
		}
		d := decode(t, dev.sent[0])
		dev.sent = nil
		if d.arp == nil || d.eth.Dst() != wire.BroadcastMAC || d.eth.Src() != rigMAC {
			t.Fatalf("%s: %s", what, describe(d.eth))
		}
		a := d.arp
		if a.Op() != wire.ARPRequest || a.SenderMAC() != rigMAC || a.SenderIP() != addr ||
			a.TargetIP() != addr || !a.TargetMAC().IsZero() {
			t.Fatalf("%s: op=%d %v/%v > %v/%v", what, a.Op(), a.SenderIP(), a.SenderMAC(), a.TargetIP(), a.TargetMAC())
		}
	}
	s.SetUp(n)
	check("SetUp", rigIP)
	s.SetUp(n) // already up: nothing
	if len(dev.sent) != 0 {
		t.Fatalf("second SetUp announced again")
	}
	if err := s.SetAddr(n, netip.MustParsePrefix("10.0.0.9/24"), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	check("SetAddr", wire.IPv4Addr{10, 0, 0, 9})
	dev.down = true
	s.Poll(0)
	dev.down = false
	s.Poll(0)
	check("link up", wire.IPv4Addr{10, 0, 0, 9})
	// Down interfaces and interfaces without an address stay quiet.
	s.SetDown(n)
	s.SetAddr(n, netip.Prefix{}, netip.Addr{})
	s.SetUp(n)
	if len(dev.sent) != 0 {
		t.Fatalf("announced without an address")
	}
}

// RFC 5227 §2.4: a packet claiming our address from another MAC is a
// conflict; we defend with one announcement at most every DEFEND_INTERVAL.
func TestRFC5227_ConflictDefendedOncePer10s(t *testing.T) {
	r := newRig(t, Config{})
	claim := func(op wire.ARPOp) {
		r.inject(arpFrame(wire.BroadcastMAC, op, otherMAC, rigIP, wire.MAC{}, rigIP))
	}
	expectDefence := func(conflicts, defends uint64, sent int) {
		t.Helper()
		out := r.sent()
		st := r.s.Stats()
		if st.ARPEx.Conflicts != conflicts || st.ARPEx.Defends != defends || len(out) != sent {
			t.Fatalf("at %v: conflicts=%d defends=%d sent=%d, want %d %d %d", r.now(),
				st.ARPEx.Conflicts, st.ARPEx.Defends, len(out), conflicts, defends, sent)
		}
		for _, f := range out {
			d := decode(t, f)
			if d.arp == nil || d.eth.Dst() != wire.BroadcastMAC || d.arp.SenderIP() != rigIP || d.arp.TargetIP() != rigIP {
				t.Fatalf("defence is not an announcement: %s", describe(f))
			}
		}
	}
	claim(wire.ARPReply)
	expectDefence(1, 1, 1)
	r.advance(5 * clock.Second)
	claim(wire.ARPRequest)
	expectDefence(2, 1, 0)
	r.advance(4*clock.Second + 900*clock.Millisecond)
	claim(wire.ARPReply)
	expectDefence(3, 1, 0)
	r.advance(100 * clock.Millisecond) // 10 s after the first defence
	claim(wire.ARPReply)
	expectDefence(4, 2, 1)
	// Our own announcement echoed back is no conflict; and we never cache
	// our own address.
	r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, rigMAC, rigIP, wire.MAC{}, rigIP))
	expectDefence(4, 2, 0)
	if _, ok := r.s.LookupARP(r.n, netip.AddrFrom4(rigIP)); ok {
		t.Fatalf("our own address entered the cache")
	}
}

func TestRFC826_BogusSenderDoesNotPoisonCache(t *testing.T) {
	r := newRig(t, Config{})
	r.learn(peerMAC, peerIP)
	bogus := []struct {
		name string
		sha  wire.MAC
		spa  wire.IPv4Addr
	}{
		{"multicast MAC", wire.MAC{0x01, 0x00, 0x5e, 0, 0, 1}, peerIP},
		{"broadcast MAC", wire.BroadcastMAC, peerIP},
		{"zero MAC", wire.MAC{}, peerIP},
		{"broadcast IP", otherMAC, wire.IPv4Broadcast},
		{"multicast IP", otherMAC, wire.IPv4Addr{224, 0, 0, 251}},
	}
	for i, b := range bogus {
		r.inject(arpFrame(rigMAC, wire.ARPReply, b.sha, b.spa, rigMAC, rigIP))
		r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, b.sha, b.spa, wire.MAC{}, rigIP))
		r.expectNone()
		if mac, ok := r.s.LookupARP(r.n, peerAddr); !ok || mac != peerMAC {
			t.Fatalf("%s: peer entry now %v %v", b.name, mac, ok)
		}
		if _, ok := r.s.LookupARP(r.n, netip.AddrFrom4(b.spa)); b.spa != peerIP && ok {
			t.Fatalf("%s: %v entered the cache", b.name, b.spa)
		}
		if st := r.s.Stats(); st.ARP.ProtErr != uint64(2*(i+1)) {
			t.Fatalf("%s: arp proterr=%d", b.name, st.ARP.ProtErr)
		}
	}
	// Malformed ARP: truncated, and for another hardware type.
	r.inject(mkEth(rigMAC, peerMAC, wire.EtherTypeARP, mkARP(wire.ARPReply, otherMAC, otherIP, rigMAC, rigIP)[:20]))
	hw := mkARP(wire.ARPReply, otherMAC, otherIP, rigMAC, rigIP)
	hw[1] = 6 // IEEE 802
	r.inject(mkEth(rigMAC, peerMAC, wire.EtherTypeARP, hw))
	r.expectNone()
	if st := r.s.Stats(); st.ARP.LenErr != 1 || st.ARP.ProtErr != uint64(2*len(bogus)+1) {
		t.Fatalf("lenerr=%d proterr=%d", st.ARP.LenErr, st.ARP.ProtErr)
	}
	if _, ok := r.s.LookupARP(r.n, netip.AddrFrom4(otherIP)); ok {
		t.Fatalf("malformed ARP taught an entry")
	}
	r.checkNoLeak()
}

func TestARPStaticEntries(t *testing.T) {
	r := newRig(t, Config{ARPMaxAge: clock.Minute})
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	// A static entry added while packets wait releases them.
	u.SendTo([]byte("queued"), peerPort9)
	if n := arpRequests(t, r.sent(), peerIP); n != 1 {
		t.Fatalf("requests %d", n)
	}
	if err := r.s.AddStaticARP(r.n, peerAddr, peerMAC); err != nil {
		t.Fatal(err)
	}
	if d := decode(t, r.expectOne()); d.eth.Dst() != peerMAC || string(d.udp.Payload()) != "queued" {
		t.Fatalf("queued packet: %s", describe(d.eth))
	}
	// ARP traffic does not move it, time does not expire it, SetDown keeps it.
	r.inject(arpFrame(rigMAC, wire.ARPReply, otherMAC, peerIP, rigMAC, rigIP))
	r.inject(arpFrame(wire.BroadcastMAC, wire.ARPRequest, otherMAC, peerIP, wire.MAC{}, rigIP))
	r.sent()
	r.advanceBy(3*clock.Minute, 10*clock.Second)
	r.s.SetDown(r.n)
	r.s.SetUp(r.n)
	r.sent()
	if mac, ok := r.s.LookupARP(r.n, peerAddr); !ok || mac != peerMAC {
		t.Fatalf("static entry now %v %v", mac, ok)
	}
	u.SendTo([]byte("direct"), peerPort9)
	if d := decode(t, r.expectOne()); d.eth.Dst() != peerMAC {
		t.Fatalf("sent %s", describe(d.eth))
	}
	// Invalid entries are refused.
	for _, tc := range []struct {
		ip  netip.Addr
		mac wire.MAC
	}{
		{netip.MustParseAddr("10.0.0.5"), wire.MAC{0x01, 0, 0x5e, 0, 0, 1}},
		{netip.MustParseAddr("10.0.0.5"), wire.BroadcastMAC},
		{netip.MustParseAddr("fe80::1"), otherMAC},
	} {
		if err := r.s.AddStaticARP(r.n, tc.ip, tc.mac); err != errs.ErrVal {
			t.Errorf("AddStaticARP(%v, %v) = %v, want ErrVal", tc.ip, tc.mac, err)
		}
	}
	// A table full of static entries refuses more, and evicts none of them.
	r2 := newRig(t, Config{ARPTableSize: 2})
	for i := range 2 {
		if err := r2.s.AddStaticARP(r2.n, netip.AddrFrom4(wire.IPv4Addr{10, 0, 0, byte(10 + i)}), otherMAC); err != nil {
			t.Fatal(err)
		}
	}
	if err := r2.s.AddStaticARP(r2.n, netip.MustParseAddr("10.0.0.12"), otherMAC); err != errs.ErrMem {
		t.Fatalf("third static entry: %v, want ErrMem", err)
	}
	u2, _ := r2.bindRecorder(netip.Addr{}, 1000)
	u2.SendTo([]byte("x"), peerPort9)
	r2.expectNone()
	if st := r2.s.Stats(); st.ARP.MemErr != 1 || st.IP.Drop != 1 {
		t.Fatalf("no entry for a new neighbour: memerr=%d drop=%d", st.ARP.MemErr, st.IP.Drop)
	}
	r2.checkNoLeak()
}

// A full cache evicts the least recently used resolved entry.
func TestARPEvictsLeastRecentlyUsed(t *testing.T) {
	r := newRig(t, Config{ARPTableSize: 2})
	a, b, c := wire.IPv4Addr{10, 0, 0, 20}, wire.IPv4Addr{10, 0, 0, 21}, wire.IPv4Addr{10, 0, 0, 22}
	macA, macB, macC := wire.MAC{2, 0, 0, 0, 0, 20}, wire.MAC{2, 0, 0, 0, 0, 21}, wire.MAC{2, 0, 0, 0, 0, 22}
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	r.learn(macA, a)
	r.advance(clock.Second)
	r.learn(macB, b)
	r.advance(clock.Second)
	u.SendTo([]byte("use a"), netip.AddrPortFrom(netip.AddrFrom4(a), 9))
	r.sent()
	r.advance(clock.Second)
	r.learn(macC, c)
	if _, ok := r.s.LookupARP(r.n, netip.AddrFrom4(b)); ok {
		t.Fatalf("b (least recently used) not evicted")
	}
	if _, ok := r.s.LookupARP(r.n, netip.AddrFrom4(a)); !ok {
		t.Fatalf("a (recently used) evicted")
	}
	if n := r.s.Stats().ARPEx.Evictions; n != 1 {
		t.Fatalf("evictions=%d", n)
	}
}
