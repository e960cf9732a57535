package dhcp

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif/script"
)

// RFC 2131 §4.4.1 and Figure 5: INIT → SELECTING → REQUESTING → BOUND, with
// every field of Table 5 that the client fills checked on the wire.
func TestRFC2131_4_4_1_LeaseAcquisition(t *testing.T) {
	for _, unicast := range []bool{false, true} {
		name := "broadcast-replies"
		if unicast {
			name = "unicast-replies-to-yiaddr" // udhcpd, broadcast bit clear
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, Config{Hostname: "box"})
			send := func(req sentMsg, r reply) {
				dst := wire.IPv4Broadcast
				if unicast {
					dst = offerIP
				}
				h.deliver(r.build(req.m), serverIP, ServerPort, dst)
				h.poll()
			}
			if err := h.c.Start(); err != nil {
				t.Fatal(err)
			}
			h.poll()
			d := h.take(Discover)
			// Table 5, DHCPDISCOVER: broadcast from 0.0.0.0, ciaddr 0, chaddr our
			// MAC, no server identifier; parameter request list and hostname.
			if d.src != (wire.IPv4Addr{}) || d.dst != wire.IPv4Broadcast || d.ethDst != wire.BroadcastMAC {
				t.Fatalf("DISCOVER %v → %v (%v)", d.src, d.dst, d.ethDst)
			}
			m := d.m
			if m.Op() != OpRequest || m.HType() != HTypeEthernet || m.HLen() != 6 || m.Hops() != 0 ||
				m.CIAddr() != (wire.IPv4Addr{}) || m.YIAddr() != (wire.IPv4Addr{}) || m.CHAddrMAC() != clientMAC ||
				m.Flags() != 0 {
				t.Fatalf("DISCOVER header % x", []byte(m[:44]))
			}
			if d.o.Has(OptServerID) || d.o.Has(OptRequestedIP) || string(d.o.Hostname) != "box" ||
				!d.o.Has(OptParamRequest) || d.o.MaxMsgSize != 1500 {
				t.Fatalf("DISCOVER options %+v", d.o)
			}
			if d.udpSize < MinLen {
				t.Fatalf("DISCOVER is %d bytes, want at least %d (BOOTP minimum)", d.udpSize, MinLen)
			}
			h.expectState(Selecting)

			send(d, reply{typ: Offer, yi: offerIP})
			r := h.take(Request)
			// RFC 2131 §4.4.1: the REQUEST carries the offer's xid, the same secs,
			// is broadcast, ciaddr 0, 'requested IP address' and 'server identifier'.
			if r.m.XID() != d.m.XID() || r.m.Secs() != d.m.Secs() || r.dst != wire.IPv4Broadcast ||
				r.m.CIAddr() != (wire.IPv4Addr{}) || r.o.RequestedIP != offerIP || r.o.ServerID != serverIP {
				t.Fatalf("REQUEST xid %x/%x secs %d dst %v ciaddr %v opts %+v",
					r.m.XID(), d.m.XID(), r.m.Secs(), r.dst, r.m.CIAddr(), r.o)
			}
			h.expectState(Requesting)

			send(r, reply{typ: Ack, yi: offerIP})
			// The address is probed first (RFC 2131 §4.4.1, RFC 5227 §2.1.1).
			h.expectState(Checking)
			if h.n.HasAddr() {
				t.Fatalf("address configured before the ARP check")
			}
			h.advance(3 * clock.Second)
			h.expectState(Bound)
			h.expectEvents(EventBound)
			if len(h.probes) != 2 || h.probes[0] != offerIP {
				t.Fatalf("probes %v", h.probes)
			}
			if h.n.Addr != offerIP || h.n.Mask != mask24 || h.n.Gateway != serverIP {
				t.Fatalf("netif %v/%v gw %v", h.n.Addr, h.n.Mask, h.n.Gateway)
			}
			if h.dns.servers[0] != netip.AddrFrom4(dns1) || h.dns.servers[1] != netip.AddrFrom4(dns2) {
				t.Fatalf("DNS %v", h.dns.servers)
			}
			l, ok := h.c.Lease()
			if !ok || l.Addr != prefix(offerIP, 24) || l.Duration != 3600*clock.Second ||
				l.T1 != 1800*clock.Second || l.T2 != 3150*clock.Second || l.Server != netip.AddrFrom4(serverIP) {
				t.Fatalf("lease %+v", l)
			}
			h.expectNone()
			st := h.c.Stats()
			if st.Discovers != 1 || st.Requests != 1 || st.Offers != 1 || st.Acks != 1 || st.Drop != 0 {
				t.Fatalf("stats %+v", st)
			}
			h.checkPool()
		})
	}
}

// RFC 2131 §4.1: "A client that cannot receive unicast IP datagrams until its
// protocol software has been configured with an IP address SHOULD set the
// BROADCAST bit".
func TestRFC2131_4_1_BroadcastFlag(t *testing.T) {
	h := newHarness(t, Config{BroadcastFlag: true})
	h.c.Start()
	h.poll()
	d := h.take(Discover)
	if d.m.Flags() != FlagBroadcast {
		t.Fatalf("flags %#x", d.m.Flags())
	}
	h.answer(d, reply{typ: Offer, yi: offerIP})
	if r := h.take(Request); r.m.Flags() != FlagBroadcast {
		t.Fatalf("REQUEST flags %#x", r.m.Flags())
	}
}

// RFC 2131 §4.1: retransmissions after 4, 8, 16, 32 and then 64 s, each
// randomized by ±1 s; every DISCOVER of one exchange keeps its xid.
func TestRFC2131_4_1_RetransmissionBackoff(t *testing.T) {
	h := newHarness(t, Config{})
	h.c.Start()
	h.runUntil(clock.Time(400 * clock.Second))
	want := []clock.Duration{4, 8, 16, 32, 64, 64, 64}
	var first, prev sentMsg
	for i := range len(want) + 1 {
		d := h.take(Discover)
		if i == 0 {
			first = d
		} else {
			gap := d.at.Sub(prev.at)
			base := want[i-1] * clock.Second
			if gap < base-clock.Second || gap > base+clock.Second {
				t.Fatalf("retransmission %d after %v, want %v ± 1 s", i, gap, base)
			}
			if d.m.XID() != prev.m.XID() {
				t.Fatalf("xid changed within an exchange")
			}
		}
		// secs: "seconds elapsed since client began address acquisition".
		if int64(d.m.Secs()) != d.at.Sub(first.at).Seconds() {
			t.Fatalf("secs %d at %v", d.m.Secs(), d.at.Sub(first.at))
		}
		prev = d
	}
	if st := h.c.Stats(); st.Rexmits == 0 {
		t.Fatalf("no retransmissions counted: %+v", st)
	}
}

// The randomization is real: two clients with different seeds do not keep
// the same schedule.
func TestRFC2131_4_1_BackoffIsRandomized(t *testing.T) {
	h := newHarness(t, Config{})
	h.c.Start()
	h.runUntil(clock.Time(200 * clock.Second))
	seen := map[clock.Duration]bool{}
	for i := 1; i < len(h.msgs); i++ {
		seen[h.msgs[i].at.Sub(h.msgs[i-1].at)%clock.Second] = true
	}
	if len(seen) < 2 {
		t.Fatalf("retransmission gaps not randomized: %v", seen)
	}
}

// RFC 2131 §3.1 step 5: a REQUEST that is never answered is given up, and
// the client starts over with a new DISCOVER and a new xid.
func TestRFC2131_3_1_RequestingGivesUp(t *testing.T) {
	h := newHarness(t, Config{RequestTries: 3})
	h.c.Start()
	h.poll()
	d := h.take(Discover)
	h.answer(d, reply{typ: Offer, yi: offerIP})
	h.advance(60 * clock.Second)
	for range 3 {
		h.take(Request)
	}
	d2 := h.take(Discover)
	if d2.m.XID() == d.m.XID() {
		t.Fatalf("new exchange kept the xid")
	}
	h.expectState(Selecting)
}

// RFC 2131 §4.4.5: at T1 the client unicasts a REQUEST to the server that
// granted the lease, with ciaddr set and neither 'requested IP address' nor
// 'server identifier'; the ACK extends the lease.
func TestRFC2131_4_4_5_RenewAtT1(t *testing.T) {
	h := newHarness(t, Config{})
	h.bind(reply{})
	start := h.c.lease.start
	h.runUntil(start.Add(1800*clock.Second - 1))
	h.expectNone()
	h.expectState(Bound)
	h.advance(1)
	r := h.take(Request)
	h.expectState(Renewing)
	if r.dst != serverIP || r.src != offerIP || r.ethDst != serverMAC || r.m.CIAddr() != offerIP ||
		r.o.Has(OptRequestedIP) || r.o.Has(OptServerID) || r.m.Flags() != 0 {
		t.Fatalf("RENEWING request %v→%v (%v) ciaddr %v opts %+v", r.src, r.dst, r.ethDst, r.m.CIAddr(), r.o)
	}
	// The server answers to the client's address.
	h.deliver(reply{typ: Ack, yi: offerIP, lease: 7200}.build(r.m), serverIP, ServerPort, offerIP)
	h.poll()
	h.expectState(Bound)
	h.expectEvents(EventRenewed)
	l, _ := h.c.Lease()
	if l.Duration != 7200*clock.Second || l.Start != r.at || h.c.lease.t1 != r.at.Add(3600*clock.Second) {
		t.Fatalf("renewed lease %+v", l)
	}
	if h.n.Addr != offerIP {
		t.Fatalf("address lost on renew")
	}
	h.checkPool()
}

// RFC 2131 §4.4.5: without an answer in RENEWING the client retransmits
// after half the time left to T2 (at least 60 s), and at T2 broadcasts the
// REQUEST (REBINDING); any server's ACK extends the lease.
func TestRFC2131_4_4_5_RebindAtT2(t *testing.T) {
	h := newHarness(t, Config{})
	h.bind(reply{})
	start := h.c.lease.start
	t1, t2 := start.Add(1800*clock.Second), start.Add(3150*clock.Second)
	h.runUntil(t2 - 1)
	var times []clock.Time
	for len(h.msgs) > 0 {
		r := h.take(Request)
		if r.dst != serverIP {
			t.Fatalf("RENEWING request to %v", r.dst)
		}
		times = append(times, r.at)
	}
	// T1 at 1800 s, then half of what is left to 3150 s: 675 s, 337 s, …, ≥ 60 s.
	if times[0] != t1 || times[1] != t1.Add(675*clock.Second) || times[2] != times[1].Add(337500*clock.Millisecond) {
		t.Fatalf("RENEWING times %v", times)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 60*clock.Second && times[i] != t2 {
			t.Fatalf("retransmission gap %v below 60 s", gap)
		}
	}
	h.advance(1)
	r := h.take(Request)
	h.expectState(Rebinding)
	if r.dst != wire.IPv4Broadcast || r.m.CIAddr() != offerIP || r.o.Has(OptServerID) || r.m.XID() == 0 {
		t.Fatalf("REBINDING request to %v ciaddr %v", r.dst, r.m.CIAddr())
	}
	// Another server answers.
	h.deliver(reply{typ: Ack, yi: offerIP, server: server2IP}.build(r.m), server2IP, ServerPort, offerIP)
	h.poll()
	h.expectState(Bound)
	h.expectEvents(EventRenewed)
	if l, _ := h.c.Lease(); l.Server != netip.AddrFrom4(server2IP) {
		t.Fatalf("server %v", l.Server)
	}
	// The next renewal goes to the new server.
	h.runUntil(h.c.lease.t1)
	if r := h.take(Request); r.dst != server2IP {
		t.Fatalf("renew to %v", r.dst)
	}
}

// RFC 2131 §4.4.5: "If the lease expires before the client receives a
// DHCPACK, the client moves to INIT state, MUST immediately stop any other
// network processing": the address goes, and DISCOVER starts over.
func TestRFC2131_4_4_5_LeaseExpiry(t *testing.T) {
	h := newHarness(t, Config{})
	h.bind(reply{lease: 100})
	start := h.c.lease.start
	h.runUntil(start.Add(100*clock.Second - 1))
	h.expectState(Rebinding)
	if !h.n.HasAddr() {
		t.Fatalf("address gone before expiry")
	}
	h.msgs = nil
	h.advance(1)
	h.expectEvents(EventLost)
	if h.n.HasAddr() {
		t.Fatalf("address kept after expiry")
	}
	d := h.take(Discover)
	if d.src != (wire.IPv4Addr{}) {
		t.Fatalf("DISCOVER from %v", d.src)
	}
	h.expectState(Selecting)
	if h.c.Stats().Expired != 1 {
		t.Fatalf("expiry not counted")
	}
	if _, ok := h.c.Lease(); ok {
		t.Fatalf("lease reported after expiry")
	}
	h.checkPool()
}

// RFC 2131 §4.4.5: T1 and T2 from options 58 and 59 override the defaults;
// inconsistent values fall back to them.
func TestRFC2131_4_4_5_T1T2Options(t *testing.T) {
	for _, tc := range []struct {
		name           string
		lease, t1, t2  uint32
		wantT1, wantT2 clock.Duration
	}{
		{"defaults", 1000, 0, 0, 500, 875},
		{"given", 1000, 100, 200, 100, 200},
		{"t2 beyond lease", 1000, 100, 2000, 100, 875},
		{"t1 beyond t2", 1000, 900, 800, 500, 800},
		{"odd lease", 7, 0, 0, 3, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{NoARPCheck: true})
			h.bind2(reply{lease: tc.lease, t1: tc.t1, t2: tc.t2})
			l, _ := h.c.Lease()
			if l.T1 != tc.wantT1*clock.Second || l.T2 != tc.wantT2*clock.Second {
				t.Fatalf("T1 %v T2 %v", l.T1, l.T2)
			}
		})
	}
}

// RFC 2131 §3.3: a lease of 0xffffffff is infinite: no renewal, no expiry.
func TestRFC2131_3_3_InfiniteLease(t *testing.T) {
	h := newHarness(t, Config{})
	h.bind(reply{lease: Infinite})
	if d := h.s.Poll(h.clk.Now()); d != clock.Never {
		t.Fatalf("deadline %v with an infinite lease", d)
	}
	h.runUntil(clock.Time(1000 * 24 * 3600 * clock.Second))
	h.expectState(Bound)
	h.expectNone()
}

// RFC 2131 §3.1 step 5: on DHCPNAK "the client ... restarts the
// configuration process".
func TestRFC2131_3_1_NakRestarts(t *testing.T) {
	h := newHarness(t, Config{})
	h.c.Start()
	h.poll()
	d := h.take(Discover)
	h.answer(d, reply{typ: Offer, yi: offerIP})
	r := h.take(Request)
	h.answer(r, reply{typ: Nak})
	d2 := h.take(Discover)
	if d2.m.XID() == d.m.XID() {
		t.Fatalf("restart kept the xid")
	}
	h.expectState(Selecting)
	h.expectEvents() // nothing was configured
	if h.c.Stats().Naks != 1 {
		t.Fatalf("NAK not counted")
	}
}

// RFC 2131 §4.4.5: a DHCPNAK while RENEWING ends the lease at once.
func TestRFC2131_4_4_5_NakWhileRenewing(t *testing.T) {
	h := newHarness(t, Config{})
	h.bind(reply{})
	h.c.Renew()
	h.advance(0) // ARP for the server
	r := h.take(Request)
	h.expectState(Renewing)
	h.deliver(reply{typ: Nak}.build(r.m), serverIP, ServerPort, offerIP)
	h.poll()
	h.expectEvents(EventLost)
	if h.n.HasAddr() {
		t.Fatalf("address kept after NAK")
	}
	h.take(Discover)
	h.checkPool()
}

// A NAK from a server we did not select is ignored (RFC 2131 §4.3.2: only
// the selected server answers a REQUEST).
func TestRFC2131_4_3_2_NakFromOtherServerIgnored(t *testing.T) {
	h := newHarness(t, Config{})
	h.c.Start()
	h.poll()
	h.answer(h.take(Discover), reply{typ: Offer, yi: offerIP})
	r := h.take(Request)
	h.answer(r, reply{typ: Nak, server: server2IP})
	h.expectState(Requesting)
	if h.c.Stats().BadContent != 1 {
		t.Fatalf("stats %+v", h.c.Stats())
	}
}

// RFC 2131 §4.4.1: "If the client detects that the address is already in
// use (e.g., through the use of ARP), the client MUST send a DHCPDECLINE
// message to the server and restarts the configuration process. The client
// SHOULD wait a minimum of ten seconds before restarting".
func TestRFC2131_4_4_1_DeclineOnARPConflict(t *testing.T) {
	for _, how := range []string{"reply", "probe"} {
		t.Run(how, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.c.Start()
			h.poll()
			d := h.take(Discover)
			h.answer(d, reply{typ: Offer, yi: offerIP})
			r := h.take(Request)
			h.answer(r, reply{typ: Ack, yi: offerIP})
			h.expectState(Checking)
			if len(h.probes) != 1 || h.probes[0] != offerIP {
				t.Fatalf("probes %v", h.probes)
			}
			// RFC 5227 §2.1.1: a reply from the address, or another host's probe
			// for it.
			if how == "reply" {
				h.dev.Inbox = append(h.dev.Inbox, arpFrame(wire.ARPReply, otherMAC, offerIP, clientMAC, wire.IPv4Addr{}))
			} else {
				h.dev.Inbox = append(h.dev.Inbox, arpFrame(wire.ARPRequest, otherMAC, wire.IPv4Addr{}, wire.MAC{}, offerIP))
			}
			h.poll()
			dec := h.take(Decline)
			// Table 5, DHCPDECLINE: ciaddr 0, 'requested IP address' and 'server
			// identifier' MUST; broadcast (the client has no address).
			if dec.dst != wire.IPv4Broadcast || dec.src != (wire.IPv4Addr{}) || dec.m.CIAddr() != (wire.IPv4Addr{}) ||
				dec.o.RequestedIP != offerIP || dec.o.ServerID != serverIP {
				t.Fatalf("DECLINE %v→%v ciaddr %v opts %+v", dec.src, dec.dst, dec.m.CIAddr(), dec.o)
			}
			h.expectState(BackingOff)
			h.expectEvents(EventDeclined)
			if h.n.HasAddr() {
				t.Fatalf("conflicting address configured")
			}
			at := h.clk.Now()
			h.advance(10*clock.Second - 1)
			h.expectNone()
			h.advance(1)
			d2 := h.take(Discover)
			if d2.at.Sub(at) != 10*clock.Second {
				t.Fatalf("restarted after %v", d2.at.Sub(at))
			}
			if st := h.c.Stats(); st.Declines != 1 || st.Conflicts != 1 {
				t.Fatalf("stats %+v", st)
			}
			h.checkPool()
		})
	}
}

// An ARP packet about another address does not stop the check.
func TestRFC5227_2_1_1_UnrelatedARPIsNoConflict(t *testing.T) {
	h := newHarness(t, Config{})
	h.c.Start()
	h.poll()
	h.answer(h.take(Discover), reply{typ: Offer, yi: offerIP})
	h.answer(h.take(Request), reply{typ: Ack, yi: offerIP})
	h.dev.Inbox = append(h.dev.Inbox, arpFrame(wire.ARPRequest, otherMAC, wire.IPv4Addr{10, 0, 0, 9}, wire.MAC{}, wire.IPv4Addr{10, 0, 0, 8}))
	h.advance(3 * clock.Second)
	h.expectState(Bound)
}

// RFC 2131 §3.2: INIT-REBOOT broadcasts a REQUEST for the remembered
// address with 'requested IP address' and without 'server identifier';
// without an answer the client falls back to DISCOVER.
func TestRFC2131_3_2_InitReboot(t *testing.T) {
	t.Run("ack", func(t *testing.T) {
		h := newHarness(t, Config{RequestedAddr: netip.AddrFrom4(offerIP)})
		h.c.Start()
		h.poll()
		r := h.take(Request)
		h.expectState(Rebooting)
		if r.dst != wire.IPv4Broadcast || r.m.CIAddr() != (wire.IPv4Addr{}) || r.o.RequestedIP != offerIP || r.o.Has(OptServerID) {
			t.Fatalf("INIT-REBOOT request %v ciaddr %v opts %+v", r.dst, r.m.CIAddr(), r.o)
		}
		h.answer(r, reply{typ: Ack, yi: offerIP})
		h.advance(3 * clock.Second)
		h.expectState(Bound)
		if l, _ := h.c.Lease(); l.Server != netip.AddrFrom4(serverIP) {
			t.Fatalf("server %v", l.Server)
		}
	})
	t.Run("nak", func(t *testing.T) {
		h := newHarness(t, Config{RequestedAddr: netip.AddrFrom4(offerIP)})
		h.c.Start()
		h.poll()
		h.answer(h.take(Request), reply{typ: Nak})
		h.take(Discover)
	})
	t.Run("silence", func(t *testing.T) {
		h := newHarness(t, Config{RequestedAddr: netip.AddrFrom4(offerIP)})
		h.c.Start()
		h.advance(30 * clock.Second)
		h.take(Request)
		h.take(Request)
		h.take(Discover)
	})
}

// RFC 2131 §4.4.6: DHCPRELEASE is unicast to the server with ciaddr and
// 'server identifier'; the client gives up the address.
func TestRFC2131_4_4_6_Release(t *testing.T) {
	h := newHarness(t, Config{})
	h.bind(reply{})
	if err := h.c.Release(); err != nil {
		t.Fatal(err)
	}
	// The server's MAC is not known yet: the address stays until ARP has
	// resolved it, so the RELEASE is not lost with the address.
	h.expectState(Releasing)
	h.advance(0)
	rel := h.take(Release)
	if rel.dst != serverIP || rel.src != offerIP || rel.m.CIAddr() != offerIP || rel.o.ServerID != serverIP {
		t.Fatalf("RELEASE %v→%v ciaddr %v opts %+v", rel.src, rel.dst, rel.m.CIAddr(), rel.o)
	}
	h.expectState(Off)
	h.expectEvents(EventLost)
	if h.n.HasAddr() {
		t.Fatalf("address kept after release")
	}
	if d := h.s.Poll(h.clk.Now()); d != clock.Never {
		t.Fatalf("timers left after release: %v", d)
	}
	h.checkPool()
	// Port 68 is free again: the client starts anew.
	if err := h.c.Start(); err != nil {
		t.Fatal(err)
	}
}

// dhcp_stop: the address goes, no message is sent, the client can restart.
func TestStopRemovesAddress(t *testing.T) {
	h := newHarness(t, Config{})
	h.bind(reply{})
	h.c.Stop()
	h.poll()
	h.expectNone()
	h.expectEvents(EventLost)
	if h.n.HasAddr() {
		t.Fatalf("address kept")
	}
	if h.c.Renew() == nil {
		t.Fatalf("Renew without a lease succeeded")
	}
	h.c.Close()
	if d := h.s.Poll(h.clk.Now()); d != clock.Never {
		t.Fatalf("deadline after Close: %v", d)
	}
}

// A lease without option 1 takes the class default (lwIP).
func TestAckWithoutMaskUsesClassDefault(t *testing.T) {
	h := newHarness(t, Config{NoARPCheck: true})
	h.bind(reply{noMask: true})
	if h.n.Mask != (wire.IPv4Addr{255, 0, 0, 0}) {
		t.Fatalf("mask %v", h.n.Mask)
	}
}

// An event handler may stop or restart the client.
func TestEventHandlerMayRestart(t *testing.T) {
	var h *harness
	restarts := 0
	h = newHarness(t, Config{NoARPCheck: true, OnEvent: func(c *Client, ev Event) {
		if ev == EventLost && restarts == 0 {
			restarts++
			c.Start()
		}
	}})
	h.bind2(reply{lease: 10})
	h.advance(11 * clock.Second)
	if restarts != 1 {
		t.Fatalf("restarts %d", restarts)
	}
	h.take(Request) // RENEWING
	h.take(Request) // REBINDING
	h.take(Discover)
	h.expectNone() // exactly one DISCOVER: the restart's
	h.expectState(Selecting)
}

// bind2 is bind without event checks, for tests with their own handler.
func (h *harness) bind2(r reply) {
	h.c.Start()
	h.poll()
	d := h.take(Discover)
	r.typ, r.yi = Offer, offerIP
	h.answer(d, r)
	req := h.take(Request)
	r.typ = Ack
	h.answer(req, r)
	h.expectState(Bound)
}

// Malformed, spoofed and misdirected replies are dropped and counted; the
// client stays in SELECTING and takes the genuine offer afterwards.
func TestRFC2131_DropsBadReplies(t *testing.T) {
	bad := []struct {
		name  string
		mk    func(req Message) []byte
		sport uint16
		count func(st Stats) uint64
	}{
		{"wrong-xid", func(m Message) []byte { return reply{typ: Offer, yi: offerIP, xid: m.XID() + 1}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.BadXID }},
		{"wrong-chaddr", func(m Message) []byte { return reply{typ: Offer, yi: offerIP, chaddr: otherMAC}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.BadCHAddr }},
		{"wrong-port", func(m Message) []byte { return reply{typ: Offer, yi: offerIP}.build(m) }, 1067,
			func(s Stats) uint64 { return s.BadPort }},
		{"truncated", func(m Message) []byte { return reply{typ: Offer, yi: offerIP}.build(m)[:HeaderLen-1] }, ServerPort,
			func(s Stats) uint64 { return s.Truncated }},
		{"bad-cookie", func(m Message) []byte {
			b := reply{typ: Offer, yi: offerIP}.build(m)
			b[offCookie] = 0
			return b
		}, ServerPort, func(s Stats) uint64 { return s.Malformed }},
		{"op-request", func(m Message) []byte {
			b := reply{typ: Offer, yi: offerIP}.build(m)
			b[offOp] = byte(OpRequest)
			return b
		}, ServerPort, func(s Stats) uint64 { return s.Malformed }},
		{"bad-hlen", func(m Message) []byte {
			b := reply{typ: Offer, yi: offerIP}.build(m)
			b[offHLen] = 16
			return b
		}, ServerPort, func(s Stats) uint64 { return s.Malformed }},
		{"option-overrun", func(m Message) []byte {
			b := reply{typ: Offer, yi: offerIP}.build(m)
			return append(b[:offOptions], OptMsgType, 1, byte(Offer), OptServerID, 9, 1, 2)
		}, ServerPort, func(s Stats) uint64 { return s.Malformed }},
		{"no-message-type", func(m Message) []byte {
			h := Header{Op: OpReply, XID: m.XID(), YIAddr: offerIP, CHAddr: clientMAC}
			b := h.Encode(make([]byte, MaxLen))
			return AppendEnd(AppendOptionAddr(b, OptServerID, serverIP), MinLen)
		}, ServerPort, func(s Stats) uint64 { return s.Malformed }},
		{"bad-message-type-length", func(m Message) []byte {
			b := reply{typ: Offer, yi: offerIP}.build(m)
			b[offOptions+1] = 2
			return b
		}, ServerPort, func(s Stats) uint64 { return s.Malformed }},
		{"offer-without-server-id", func(m Message) []byte { return reply{typ: Offer, yi: offerIP, noServerID: true}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.BadContent }},
		{"offer-of-0.0.0.0", func(m Message) []byte { return reply{typ: Offer}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.BadContent }},
		{"offer-of-broadcast", func(m Message) []byte { return reply{typ: Offer, yi: wire.IPv4Broadcast}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.BadContent }},
		{"offer-of-multicast", func(m Message) []byte { return reply{typ: Offer, yi: wire.IPv4Addr{224, 0, 0, 1}}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.BadContent }},
		{"ack-in-selecting", func(m Message) []byte { return reply{typ: Ack, yi: offerIP}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.Unexpected }},
		{"nak-in-selecting", func(m Message) []byte { return reply{typ: Nak}.build(m) }, ServerPort,
			func(s Stats) uint64 { return s.Unexpected }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.c.Start()
			h.poll()
			d := h.take(Discover)
			h.deliver(tc.mk(d.m), serverIP, tc.sport, wire.IPv4Broadcast)
			h.poll()
			h.expectState(Selecting)
			h.expectNone()
			st := h.c.Stats()
			if tc.count(st) != 1 || st.Drop != 1 || st.Offers != 0 {
				t.Fatalf("stats %+v", st)
			}
			h.answer(d, reply{typ: Offer, yi: offerIP})
			h.take(Request)
			h.checkPool()
		})
	}
}

// ACKs that do not fit the request are dropped: wrong address, no lease
// time, another server's.
func TestRFC2131_4_4_1_BadAcksDropped(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    reply
	}{
		{"other-address", reply{typ: Ack, yi: wire.IPv4Addr{10, 0, 0, 51}}},
		{"no-lease-time", reply{typ: Ack, yi: offerIP, noLease: true}},
		{"other-server", reply{typ: Ack, yi: offerIP, server: server2IP}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.c.Start()
			h.poll()
			h.answer(h.take(Discover), reply{typ: Offer, yi: offerIP})
			r := h.take(Request)
			h.answer(r, tc.r)
			h.expectState(Requesting)
			if h.c.Stats().BadContent != 1 {
				t.Fatalf("stats %+v", h.c.Stats())
			}
			h.answer(r, reply{typ: Ack, yi: offerIP})
			h.expectState(Checking)
		})
	}
}

// RFC 2131 §4.1 / RFC 2132 §9.3: with option 52 the options continue in
// the file and sname fields.
func TestRFC2132_9_3_OptionOverload(t *testing.T) {
	h := newHarness(t, Config{NoARPCheck: true})
	h.c.Start()
	h.poll()
	d := h.take(Discover)
	h.answer(d, reply{typ: Offer, yi: offerIP})
	r := h.take(Request)
	// ACK with message type and overload in options; lease and server ID in
	// file; mask and router in sname.
	hd := Header{Op: OpReply, XID: r.m.XID(), YIAddr: offerIP, CHAddr: clientMAC}
	b := hd.Encode(make([]byte, MaxLen))
	b = AppendOptionByte(b, OptMsgType, uint8(Ack))
	b = AppendOptionByte(b, OptOverload, 3)
	b = AppendEnd(b, MinLen)
	file := AppendOptionAddr(AppendOptionUint32(nil, OptLeaseTime, 600), OptServerID, serverIP)
	copy(b[offFile:], append(file, OptEnd))
	sname := AppendOptionAddr(AppendOptionAddr(nil, OptSubnetMask, wire.IPv4Addr{255, 255, 0, 0}), OptRouter, serverIP)
	copy(b[offSName:], append(sname, OptEnd))
	h.deliver(b, serverIP, ServerPort, wire.IPv4Broadcast)
	h.poll()
	h.expectState(Bound)
	if l, _ := h.c.Lease(); l.Duration != 600*clock.Second || l.Addr.Bits() != 16 || l.Gateway != netip.AddrFrom4(serverIP) {
		t.Fatalf("lease %+v", l)
	}
}

// Transmissions the stack refuses (link down) are retried a second later
// without counting as tries.
func TestSendFailureRetries(t *testing.T) {
	h := newHarness(t, Config{})
	h.dev.Down = true
	h.poll()
	h.c.Start()
	h.advance(3 * clock.Second)
	h.expectNone()
	if h.c.Stats().SendErr < 3 {
		t.Fatalf("stats %+v", h.c.Stats())
	}
	h.dev.Down = false
	h.advance(2 * clock.Second)
	if d := h.take(Discover); d.m.Secs() < 3 {
		t.Fatalf("secs %d", d.m.Secs())
	}
}

// Port 68 is per interface: two clients on two interfaces coexist, and a
// second client on the same interface is refused.
func TestTwoClientsTwoInterfaces(t *testing.T) {
	h := newHarness(t, Config{})
	if err := h.c.Start(); err != nil {
		t.Fatal(err)
	}
	dev2 := &script.Device{MAC: otherMAC}
	n2, err := h.s.AddNetif(dev2, netifConfig())
	if err != nil {
		t.Fatal(err)
	}
	h.s.SetUp(n2)
	c2, err := New(h.s, n2, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Start(); err != nil {
		t.Fatalf("second interface: %v", err)
	}
	h.poll()
	if len(dev2.Sent) != 1 || len(h.msgs) != 1 {
		t.Fatalf("sent %d on if1, %d on if0", len(dev2.Sent), len(h.msgs))
	}
	c3, _ := New(h.s, h.n, Config{})
	if err := c3.Start(); err == nil {
		t.Fatalf("a second client on the same interface started")
	}
}
