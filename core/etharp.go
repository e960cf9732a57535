package core

import (
	"net/netip"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// arpState is the state of an ARP cache entry.
type arpState uint8

const (
	arpFree    arpState = iota
	arpPending          // request sent, packets queued
	arpStable           // resolved; expires
	arpStatic           // configured; never expires
)

// defendInterval is the least time between two defences of an address
// (RFC 5227 §2.4 (c), DEFEND_INTERVAL).
const defendInterval = 10 * clock.Second

// arpEntry is one neighbour. lwIP: struct etharp_entry.
type arpEntry struct {
	state   arpState
	netif   int
	ip      wire.IPv4Addr
	mac     wire.MAC
	tries   int        // requests sent while pending
	lastReq clock.Time // when the last request went out (RFC 1122 §2.3.2.1 pacing)
	expires clock.Time // stable: end of life
	used    clock.Time // last creation or use, for eviction order
	queue   pbuf.Queue // IP datagrams (LayerLink headroom) awaiting resolution
}

// arpTable is the ARP cache with per-entry queues. lwIP: etharp.c.
type arpTable struct {
	entries  []arpEntry
	queueLen int
	maxAge   clock.Duration
	maxTries int
	defended []clock.Time // per netif: last defence, for RFC 5227's rate
	hint     int          // last entry found, checked first
}

func (t *arpTable) init(cfg Config) {
	t.entries = make([]arpEntry, cfg.ARPTableSize)
	t.queueLen = cfg.ARPQueueLen
	t.maxAge = cfg.ARPMaxAge
	t.maxTries = cfg.ARPMaxTries
	t.defended = make([]clock.Time, cfg.MaxNetifs)
	for i := range t.defended {
		t.defended[i] = -clock.Time(defendInterval)
	}
}

// find returns the entry for ip on netif n, or nil.
func (t *arpTable) find(n int, ip wire.IPv4Addr) *arpEntry {
	if h := &t.entries[t.hint]; h.state != arpFree && h.ip == ip && h.netif == n {
		return h
	}
	for i := range t.entries {
		e := &t.entries[i]
		if e.state != arpFree && e.ip == ip && e.netif == n {
			t.hint = i
			return e
		}
	}
	return nil
}

// busy reports whether any entry needs the periodic timer.
func (t *arpTable) busy() bool {
	for i := range t.entries {
		if s := t.entries[i].state; s == arpPending || s == arpStable {
			return true
		}
	}
	return false
}

// alloc returns a free entry, evicting the least recently used stable entry,
// or failing that the oldest pending one. Static entries are never evicted.
func (t *arpTable) alloc(s *Stack) *arpEntry {
	var victim *arpEntry
	for i := range t.entries {
		e := &t.entries[i]
		switch {
		case e.state == arpFree:
			return e
		case e.state == arpStatic:
		case victim == nil,
			e.state == arpStable && victim.state == arpPending,
			e.state == victim.state && e.used < victim.used:
			victim = e
		}
	}
	if victim == nil {
		return nil
	}
	s.stats.ARPEx.Evictions++
	t.release(s, victim)
	return victim
}

// release frees an entry and drops whatever was queued on it.
func (t *arpTable) release(s *Stack, e *arpEntry) {
	for b := e.queue.Pop(); b != nil; b = e.queue.Pop() {
		s.stats.ARPEx.QueueDrops++
		s.stats.IP.Drop++
		b.Free()
	}
	*e = arpEntry{}
}

// flushNetif forgets the dynamic entries of one interface.
func (t *arpTable) flushNetif(s *Stack, n int) {
	for i := range t.entries {
		e := &t.entries[i]
		if e.netif == n && (e.state == arpPending || e.state == arpStable) {
			t.release(s, e)
		}
	}
}

// tick runs once a second: it expires stable entries and re-sends requests
// for pending ones, failing them after maxTries (RFC 1122 §2.3.2.1: at most
// one request a second per destination). lwIP: etharp_tmr.
func (t *arpTable) tick(s *Stack) {
	for i := range t.entries {
		e := &t.entries[i]
		switch e.state {
		case arpStable:
			if s.now >= e.expires {
				t.release(s, e)
			}
		case arpPending:
			if e.tries >= t.maxTries {
				s.stats.ARPEx.Failures++
				t.release(s, e)
				continue
			}
			if s.now.Sub(e.lastReq) < clock.Second {
				continue // at most one request a second per destination
			}
			e.tries++
			e.lastReq = s.now
			s.arpRequest(&s.netifs[e.netif], e.ip, wire.BroadcastMAC)
		}
	}
}

// update records that ip is at mac on netif n, creating the entry if create
// is set, and sends whatever was queued for it. lwIP: etharp_update_arp_entry.
func (t *arpTable) update(s *Stack, n *netif.Netif, ip wire.IPv4Addr, mac wire.MAC, create bool) {
	e := t.find(n.Index, ip)
	if e == nil {
		if !create {
			return
		}
		if e = t.alloc(s); e == nil {
			return
		}
		e.netif, e.ip = n.Index, ip
	}
	if e.state == arpStatic {
		return
	}
	e.state, e.mac, e.tries = arpStable, mac, 0
	e.expires = s.now.Add(t.maxAge)
	e.used = s.now
	for b := e.queue.Pop(); b != nil; b = e.queue.Pop() {
		s.ethOutput(n, b, mac, wire.EtherTypeIPv4)
	}
}

// arpInput handles a received ARP packet; it takes ownership of b.
// lwIP: etharp_input. RFC 826 "Packet Reception", with RFC 5227 conflict
// detection.
func (s *Stack) arpInput(n *netif.Netif, b *pbuf.Buf) {
	defer b.Free()
	s.stats.ARP.Recv++
	a, err := wire.ParseARP(b.Bytes())
	if err != nil {
		if err == wire.ErrTruncated {
			s.stats.ARP.LenErr++
		} else {
			s.stats.ARP.ProtErr++
		}
		s.stats.ARP.Drop++
		return
	}
	if n.Flags&netif.FlagARP == 0 {
		s.stats.ARP.Drop++
		return
	}
	sha, spa, tpa := a.SenderMAC(), a.SenderIP(), a.TargetIP()
	if sha.IsMulticast() || sha.IsZero() || spa.IsBroadcast() || spa.IsMulticast() {
		s.stats.ARP.ProtErr++ // a bogus sender must not poison the cache
		s.stats.ARP.Drop++
		return
	}
	s.arpProbeWatch(n, sha, spa, tpa) // RFC 5227 duplicate detection (ARPProbe)
	if n.HasAddr() && spa == n.Addr {
		if sha != n.MAC {
			// RFC 5227 §2.4: someone else uses our address. Count it, and
			// defend once per DEFEND_INTERVAL with an announcement.
			s.stats.ARPEx.Conflicts++
			if s.now.Sub(s.arp.defended[n.Index]) >= defendInterval {
				s.arp.defended[n.Index] = s.now
				s.stats.ARPEx.Defends++
				s.announce(n)
			}
		}
		return
	}
	forUs := n.HasAddr() && tpa == n.Addr
	if spa.IsUnspecified() {
		// An RFC 5227 probe: nothing to learn, but a probe for our address
		// gets the ordinary reply, which is how the prober sees the conflict.
		if forUs && a.Op() == wire.ARPRequest {
			s.arpSend(n, wire.ARPReply, sha, n.Addr, sha, spa)
			s.stats.ARPEx.Replies++
		}
		return
	}
	// RFC 826: merge the sender into an existing entry; add it if the packet
	// is for us.
	s.arp.update(s, n, spa, sha, forUs)
	if forUs && a.Op() == wire.ARPRequest {
		s.arpSend(n, wire.ARPReply, sha, n.Addr, sha, spa)
		s.stats.ARPEx.Replies++
	}
}

// arpRequest asks who has ip; dst is the link destination (broadcast, or the
// known MAC when refreshing). lwIP: etharp_request.
func (s *Stack) arpRequest(n *netif.Netif, ip wire.IPv4Addr, dst wire.MAC) {
	s.arpSend(n, wire.ARPRequest, dst, n.Addr, wire.MAC{}, ip)
	s.stats.ARPEx.Requests++
}

// announce sends a gratuitous ARP for n's address: an ARP announcement
// (RFC 5227 §2.3) with sender and target both our address.
func (s *Stack) announce(n *netif.Netif) {
	if n.HasAddr() && n.Flags&netif.FlagARP != 0 && n.IsUp() {
		s.arpSend(n, wire.ARPRequest, wire.BroadcastMAC, n.Addr, wire.MAC{}, n.Addr)
	}
}

func (s *Stack) arpSend(n *netif.Netif, op wire.ARPOp, dst wire.MAC, spa wire.IPv4Addr, tha wire.MAC, tpa wire.IPv4Addr) {
	b := s.alloc(pbuf.LayerLink, wire.ARPLen, &s.stats.ARP)
	if b == nil {
		return
	}
	h := wire.ARPHeader{Op: op, SenderMAC: n.MAC, SenderIP: spa, TargetMAC: tha, TargetIP: tpa}
	h.Encode(wire.ARP(b.Bytes()))
	s.stats.ARP.Xmit++
	s.ethOutput(n, b, dst, wire.EtherTypeARP)
}

// arpOutput sends the IP datagram in b to nexthop on n, resolving the
// address first if need be. It takes ownership of b. lwIP: etharp_output.
func (s *Stack) arpOutput(n *netif.Netif, b *pbuf.Buf, nexthop wire.IPv4Addr) {
	switch {
	case n.Flags&netif.FlagARP == 0:
		s.ethOutput(n, b, n.MAC, wire.EtherTypeIPv4)
		return
	case n.IsBroadcast(nexthop):
		s.ethOutput(n, b, wire.BroadcastMAC, wire.EtherTypeIPv4)
		return
	case nexthop.IsMulticast():
		s.ethOutput(n, b, multicastMAC(nexthop), wire.EtherTypeIPv4)
		return
	}
	t := &s.arp
	e := t.find(n.Index, nexthop)
	if e != nil && (e.state == arpStable || e.state == arpStatic) {
		s.stats.ARP.CacheHit++
		e.used = s.now
		s.ethOutput(n, b, e.mac, wire.EtherTypeIPv4)
		return
	}
	if e == nil {
		if e = t.alloc(s); e == nil {
			s.stats.ARP.MemErr++
			s.stats.IP.Drop++
			b.Free()
			return
		}
		*e = arpEntry{state: arpPending, netif: n.Index, ip: nexthop, tries: 1, used: s.now, lastReq: s.now}
		s.arpRequest(n, nexthop, wire.BroadcastMAC)
	}
	if e.queue.Len() >= t.queueLen {
		old := e.queue.Pop() // keep the latest (RFC 1122 §2.3.2.2)
		s.stats.ARPEx.QueueDrops++
		s.stats.IP.Drop++
		old.Free()
	}
	e.queue.Push(b)
}

// AddStaticARP adds a permanent neighbour on interface n (lwIP:
// etharp_add_static_entry). It returns ErrMem when the cache is full of
// static entries and ErrVal for a non-IPv4 or non-unicast address.
func (s *Stack) AddStaticARP(n *netif.Netif, ip netip.Addr, mac wire.MAC) error {
	if !ip.Is4() || mac.IsMulticast() {
		return errs.ErrVal
	}
	a := ip.As4()
	e := s.arp.find(n.Index, a)
	if e == nil {
		if e = s.arp.alloc(s); e == nil {
			return errs.ErrMem
		}
	} else if e.state == arpPending {
		s.arp.update(s, n, a, mac, false) // send what waited, then pin it
	}
	q := e.queue
	*e = arpEntry{state: arpStatic, netif: n.Index, ip: a, mac: mac, queue: q}
	for b := e.queue.Pop(); b != nil; b = e.queue.Pop() {
		s.ethOutput(n, b, mac, wire.EtherTypeIPv4)
	}
	s.flush()
	return nil
}

// LookupARP returns the MAC address cached for ip on n, if resolved.
func (s *Stack) LookupARP(n *netif.Netif, ip netip.Addr) (wire.MAC, bool) {
	if !ip.Is4() {
		return wire.MAC{}, false
	}
	e := s.arp.find(n.Index, ip.As4())
	if e == nil || (e.state != arpStable && e.state != arpStatic) {
		return wire.MAC{}, false
	}
	return e.mac, true
}
