package dns

import (
	"encoding/binary"
	"net/netip"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// Results a FoundFunc receives besides nil. They are errs.Err constants.
const (
	// ErrNotFound: the name does not exist (NXDOMAIN), has no A record, or
	// its CNAME chain is longer than Config.MaxCNAME or leaves the answer.
	ErrNotFound = errs.ErrVal
	// ErrTruncated: the server set TC (the answer did not fit 512 bytes);
	// lwgo has no TCP fallback.
	ErrTruncated = errs.ErrBuf
	// ErrTimeout: no server gave an answer: each timed out or answered with
	// an error code (SERVFAIL, REFUSED, …).
	ErrTimeout = errs.ErrTimeout
)

// FoundFunc receives the result of a lookup that GetHostByName could not
// answer at once: the address and nil, or the zero Addr and ErrNotFound,
// ErrTruncated or ErrTimeout. name is the string given to GetHostByName. It
// runs inside Stack.Poll and may call the Resolver. lwIP: dns_found_callback.
type FoundFunc func(name string, addr netip.Addr, err error)

// Config sizes a Resolver. Zero fields take the defaults; each names the
// lwIP option it mirrors.
type Config struct {
	// MaxServers is the number of server slots (DNS_MAX_SERVERS). Default 2.
	MaxServers int
	// ServerPort is the servers' port. Default 53.
	ServerPort uint16
	// CacheSize is the number of cached names (DNS_TABLE_SIZE). Default 8.
	CacheSize int
	// MaxTTL caps how long an answer is cached (DNS_MAX_TTL). Default one
	// week, 604800 s.
	MaxTTL clock.Duration
	// MaxQueries bounds the queries in flight at once, each with its own UDP
	// endpoint (DNS_MAX_SOURCE_PORTS). Default 4.
	MaxQueries int
	// MaxRequests bounds the GetHostByName calls waiting for an answer;
	// calls for a name already in flight join its query (DNS_MAX_REQUESTS,
	// LWIP_DNS_SECURE_NO_MULTIPLE_OUTSTANDING). Default 8.
	MaxRequests int
	// MaxHosts is the size of the local host table (DNS_LOCAL_HOSTLIST).
	// Default 4.
	MaxHosts int
	// Timeout is the wait after the first transmission to a server; it
	// doubles after each retransmission. Default 1 s.
	Timeout clock.Duration
	// Retries is the number of transmissions to each server before the next
	// one is tried (DNS_MAX_RETRIES). Default 3: sent at 0, 1 and 3 s, the
	// next server at 7 s.
	Retries int
	// MaxCNAME bounds the CNAME chain followed in an answer. Default 8.
	MaxCNAME int
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxServers, 2)
	def(&c.CacheSize, 8)
	def(&c.MaxQueries, 4)
	def(&c.MaxRequests, 8)
	def(&c.MaxHosts, 4)
	def(&c.Retries, 3)
	def(&c.MaxCNAME, 8)
	if c.ServerPort == 0 {
		c.ServerPort = Port
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = 604800 * clock.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = clock.Second
	}
	return c
}

// Stats are a resolver's counters.
type Stats struct {
	Lookups     uint64 // GetHostByName calls
	Literals    uint64 // answered as address literals
	LocalHits   uint64 // answered from the local host table
	CacheHits   uint64 // answered from the cache
	Queries     uint64 // lookups that went to the network
	Joined      uint64 // lookups that joined a query in flight
	Xmit        uint64 // queries sent
	Rexmits     uint64 // retransmissions (included in Xmit)
	SendErr     uint64 // queries the stack refused (no route, no buffer)
	Failovers   uint64 // switches to the next server
	Recv        uint64 // datagrams received on query ports
	Drop        uint64 // datagrams dropped, for any reason below
	BadSource   uint64 // not from the queried server's address and port
	BadID       uint64 // ID differs from the query's (spoofed, stale)
	BadQuestion uint64 // not a response, not a standard query, or the question differs
	Malformed   uint64 // truncated header, bad name or record
	Unexpected  uint64 // for a query no longer in flight
	Answers     uint64 // lookups answered with an address
	NotFound    uint64 // NXDOMAIN, no A record, chain too long
	Truncated   uint64 // replies with TC set
	ServerErr   uint64 // replies with another error code (failover)
	Timeouts    uint64 // lookups that no server answered
}

// cacheEntry is one cached answer. lwIP: struct dns_table_entry.
type cacheEntry struct {
	used    bool
	nlen    uint8
	name    [MaxNameLen]byte // wire form as queried
	addr    wire.IPv4Addr
	expires clock.Time
}

// hostEntry is one local host. lwIP: struct local_hostlist_entry.
type hostEntry struct {
	used bool
	nlen uint8
	name [MaxNameLen]byte
	addr wire.IPv4Addr
}

// query is one question in flight, with its own UDP endpoint on a random
// port (RFC 5452 §9.2) and a random ID (§9.1).
type query struct {
	active bool
	gen    uint32
	nlen   uint8
	name   [MaxNameLen]byte // wire form
	id     uint16
	u      core.UDP
	server int        // index into servers
	tries  int        // transmissions to this server
	timer  clock.Time // next retransmission or failover
}

// request is one GetHostByName call waiting for a query.
type request struct {
	used  bool
	q     int    // index into queries
	qgen  uint32 // the query's generation when the request joined it
	name  string
	found FoundFunc
}

// Resolver is a stub resolver for A records. lwIP: dns.c. All memory is
// allocated by New; lookups, replies and timers allocate nothing. A Resolver
// must be used only from the stack's goroutine.
type Resolver struct {
	s    *core.Stack
	cfg  Config
	recv core.UDPRecvFunc // r.input, bound once

	servers  []wire.IPv4Addr // unspecified: slot empty
	cache    []cacheEntry
	hosts    []hostEntry
	queries  []query
	requests []request

	nameBuf [MaxNameLen]byte // the name being looked up
	rrName  [MaxNameLen]byte // record owner names
	target  [MaxNameLen]byte // current CNAME target
	cname   [MaxNameLen]byte // CNAME data
	buf     [MaxUDPLen]byte  // outgoing query

	stats Stats
}

// New allocates a resolver on stack s and registers it to run from s.Poll.
// It returns ErrMem when the stack has no room for another poller.
// lwIP: dns_init.
func New(s *core.Stack, cfg Config) (*Resolver, error) {
	cfg = cfg.withDefaults()
	r := &Resolver{
		s:        s,
		cfg:      cfg,
		servers:  make([]wire.IPv4Addr, cfg.MaxServers),
		cache:    make([]cacheEntry, cfg.CacheSize),
		hosts:    make([]hostEntry, cfg.MaxHosts),
		queries:  make([]query, cfg.MaxQueries),
		requests: make([]request, cfg.MaxRequests),
	}
	r.recv = r.input
	if err := s.AddPoller(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Close ends every query in flight without calling its requests' functions
// and unregisters the resolver from the stack.
func (r *Resolver) Close() {
	for i := range r.queries {
		if q := &r.queries[i]; q.active {
			q.u.Close()
			*q = query{gen: q.gen + 1}
		}
	}
	clear(r.requests)
	r.s.RemovePoller(r)
}

// Stats returns a copy of the counters.
func (r *Resolver) Stats() Stats { return r.stats }

// SetServer sets server slot i (0 is tried first); the zero Addr clears it.
// It returns ErrArg for a slot beyond Config.MaxServers and ErrVal for a
// non-IPv4 address. DHCP calls it with option 6 (dhcp.Config.DNS).
// lwIP: dns_setserver.
func (r *Resolver) SetServer(i int, addr netip.Addr) error {
	if i < 0 || i >= len(r.servers) {
		return errs.ErrArg
	}
	if !addr.IsValid() {
		r.servers[i] = wire.IPv4Addr{}
		return nil
	}
	if !addr.Is4() || addr.IsUnspecified() {
		return errs.ErrVal
	}
	r.servers[i] = addr.As4()
	return nil
}

// Server returns server slot i, or the zero Addr. lwIP: dns_getserver.
func (r *Resolver) Server(i int) netip.Addr {
	if i < 0 || i >= len(r.servers) || r.servers[i].IsUnspecified() {
		return netip.Addr{}
	}
	return netip.AddrFrom4(r.servers[i])
}

// AddHost adds name → addr to the local host table, which GetHostByName
// consults before the cache. It returns ErrArg for a bad name, ErrVal for a
// non-IPv4 address and ErrMem when the table is full.
// lwIP: dns_local_addhost.
func (r *Resolver) AddHost(name string, addr netip.Addr) error {
	if !addr.Is4() {
		return errs.ErrVal
	}
	n, err := AppendName(r.nameBuf[:0], name)
	if err != nil {
		return errs.ErrArg
	}
	for i := range r.hosts {
		if h := &r.hosts[i]; !h.used {
			h.used, h.nlen, h.addr = true, uint8(len(n)), addr.As4()
			copy(h.name[:], n)
			return nil
		}
	}
	return errs.ErrMem
}

// RemoveHost removes every local host entry for name and returns how many
// there were. lwIP: dns_local_removehost.
func (r *Resolver) RemoveHost(name string) int {
	n, err := AppendName(r.nameBuf[:0], name)
	if err != nil {
		return 0
	}
	k := 0
	for i := range r.hosts {
		if h := &r.hosts[i]; h.used && EqualNames(h.name[:h.nlen], n) {
			*h = hostEntry{}
			k++
		}
	}
	return k
}

// GetHostByName resolves name to an IPv4 address. An address literal, a
// local host or a cached name is answered at once: the address and nil.
// Otherwise a query goes out (or an identical one in flight is joined) and
// GetHostByName returns ErrInProgress; found receives the result later,
// inside Stack.Poll. It returns ErrArg for a malformed name or a nil found
// when one would be needed, ErrRoute when no server is set and ErrMem when
// Config.MaxQueries or MaxRequests are in use or no UDP endpoint is free.
// lwIP: dns_gethostbyname.
func (r *Resolver) GetHostByName(name string, found FoundFunc) (netip.Addr, error) {
	r.stats.Lookups++
	if a, ok := parseIPv4(name); ok {
		r.stats.Literals++
		return netip.AddrFrom4(a), nil
	}
	n, err := AppendName(r.nameBuf[:0], name)
	if err != nil {
		return netip.Addr{}, errs.ErrArg
	}
	for i := range r.hosts {
		if h := &r.hosts[i]; h.used && EqualNames(h.name[:h.nlen], n) {
			r.stats.LocalHits++
			return netip.AddrFrom4(h.addr), nil
		}
	}
	now := r.s.Now()
	for i := range r.cache {
		e := &r.cache[i]
		if !e.used || !EqualNames(e.name[:e.nlen], n) {
			continue
		}
		if now >= e.expires {
			*e = cacheEntry{}
			continue
		}
		r.stats.CacheHits++
		return netip.AddrFrom4(e.addr), nil
	}
	if found == nil {
		return netip.Addr{}, errs.ErrArg
	}
	srv := r.nextServer(-1)
	if srv < 0 {
		return netip.Addr{}, errs.ErrRoute
	}
	ri := -1
	for i := range r.requests {
		if !r.requests[i].used {
			ri = i
			break
		}
	}
	if ri < 0 {
		return netip.Addr{}, errs.ErrMem
	}
	// RFC 5452 §9.1: no identical queries outstanding at once; join it.
	qi, free := -1, -1
	for i := range r.queries {
		q := &r.queries[i]
		if q.active && EqualNames(q.name[:q.nlen], n) {
			qi = i
			break
		}
		if !q.active && free < 0 {
			free = i
		}
	}
	if qi >= 0 {
		r.stats.Joined++
	} else {
		if free < 0 {
			return netip.Addr{}, errs.ErrMem
		}
		if err := r.start(free, n, srv, now); err != nil {
			return netip.Addr{}, err
		}
		qi = free
	}
	r.requests[ri] = request{used: true, q: qi, qgen: r.queries[qi].gen, name: name, found: found}
	return netip.Addr{}, errs.ErrInProgress
}

// start opens query slot qi for name (wire form) and sends it to server srv.
func (r *Resolver) start(qi int, name []byte, srv int, now clock.Time) error {
	u, err := r.s.NewUDP()
	if err != nil {
		return errs.ErrMem
	}
	// RFC 5452 §9.2: a random source port per query (the stack's RFC 6056
	// ephemeral choice); §9.1: a random ID.
	if err := u.Bind(netip.Addr{}, 0); err != nil {
		u.Close()
		return errs.ErrMem
	}
	u.SetRecv(r.recv)
	q := &r.queries[qi]
	*q = query{active: true, gen: q.gen, nlen: uint8(len(name)), id: uint16(r.s.Rand()), u: u, server: srv}
	copy(q.name[:], name)
	r.stats.Queries++
	r.send(q, now)
	return nil
}

// nextServer returns the first configured server slot after i, or -1.
func (r *Resolver) nextServer(i int) int {
	for j := i + 1; j < len(r.servers); j++ {
		if !r.servers[j].IsUnspecified() {
			return j
		}
	}
	return -1
}

// send transmits q to its current server and arms its timer: Timeout,
// doubled for each earlier transmission to that server.
func (r *Resolver) send(q *query, now clock.Time) {
	b := r.buf[:0]
	b = (&Header{ID: q.id, Flags: FlagRD, QDCount: 1}).Append(b)
	b = append(b, q.name[:q.nlen]...)
	b = binary.BigEndian.AppendUint16(b, TypeA)
	b = binary.BigEndian.AppendUint16(b, ClassIN)
	dst := netip.AddrPortFrom(netip.AddrFrom4(r.servers[q.server]), r.cfg.ServerPort)
	if q.tries > 0 {
		r.stats.Rexmits++
	}
	if err := q.u.SendTo(b, dst); err != nil {
		r.stats.SendErr++ // counted as a lost query: the timer retries
	} else {
		r.stats.Xmit++
	}
	q.timer = now.Add(r.cfg.Timeout << min(q.tries, 16))
	q.tries++
}

// PollTimers retransmits queries and fails over to the next server;
// Stack.Poll calls it (core.Poller). lwIP: dns_tmr, dns_check_entries.
func (r *Resolver) PollTimers(now clock.Time) {
	for i := range r.queries {
		if q := &r.queries[i]; q.active && now >= q.timer {
			r.retry(i, now)
		}
	}
}

// NextDeadline returns the earliest retransmission or failover time
// (core.Poller).
func (r *Resolver) NextDeadline() clock.Time {
	next := clock.Never
	for i := range r.queries {
		if q := &r.queries[i]; q.active {
			next = clock.Min(next, q.timer)
		}
	}
	return next
}

// retry retransmits query qi, or moves it to the next server, or fails it.
func (r *Resolver) retry(qi int, now clock.Time) {
	q := &r.queries[qi]
	if q.tries < r.cfg.Retries && !r.servers[q.server].IsUnspecified() {
		r.send(q, now)
		return
	}
	r.failover(qi, now, ErrTimeout)
}

// failover sends query qi to the next server, or finishes it with err when
// none is left.
func (r *Resolver) failover(qi int, now clock.Time, err error) {
	q := &r.queries[qi]
	if srv := r.nextServer(q.server); srv >= 0 {
		r.stats.Failovers++
		q.server, q.tries = srv, 0
		r.send(q, now)
		return
	}
	if err == ErrTimeout {
		r.stats.Timeouts++
	}
	r.finish(qi, wire.IPv4Addr{}, err)
}

// finish ends query qi and calls its requests' functions. The slot is free
// before any runs, so they may start new lookups.
func (r *Resolver) finish(qi int, addr wire.IPv4Addr, err error) {
	q := &r.queries[qi]
	gen := q.gen
	q.u.Close()
	*q = query{gen: gen + 1}
	var a netip.Addr
	if err == nil {
		a = netip.AddrFrom4(addr)
	}
	for i := range r.requests {
		rq := &r.requests[i]
		if !rq.used || rq.q != qi || rq.qgen != gen {
			continue
		}
		name, f := rq.name, rq.found
		*rq = request{}
		f(name, a, err)
	}
}

// input handles a datagram on a query's port. It owns p. lwIP: dns_recv.
func (r *Resolver) input(u core.UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
	st := &r.stats
	st.Recv++
	qi := -1
	for i := range r.queries {
		if r.queries[i].active && r.queries[i].u == u {
			qi = i
			break
		}
	}
	if qi < 0 {
		st.Unexpected++
		st.Drop++
		p.Free()
		return
	}
	if !r.process(qi, p.Bytes(), src) {
		st.Drop++
	}
	p.Free()
}

// process checks a reply against query qi (RFC 5452 §9.1: source address and
// port, ID, question) and acts on it. It reports false for a dropped reply.
func (r *Resolver) process(qi int, b []byte, src netip.AddrPort) bool {
	st := &r.stats
	q := &r.queries[qi]
	if !src.Addr().Is4() || src.Addr().As4() != r.servers[q.server] || src.Port() != r.cfg.ServerPort {
		st.BadSource++
		return false
	}
	m, err := ParseMessage(b)
	if err != nil {
		st.Malformed++
		return false
	}
	if m.ID() != q.id {
		st.BadID++
		return false
	}
	if !m.IsResponse() || m.Opcode() != 0 || m.QDCount() != 1 {
		st.BadQuestion++
		return false
	}
	var qs Question
	off, err := ReadQuestion(m, HeaderLen, r.rrName[:0], &qs)
	if err != nil {
		st.Malformed++
		return false
	}
	if qs.Type != TypeA || qs.Class != ClassIN || !EqualNames(qs.Name, q.name[:q.nlen]) {
		st.BadQuestion++
		return false
	}
	now := r.s.Now()
	// The reply is the answer to our question from our server.
	if m.IsTruncated() {
		st.Truncated++
		r.finish(qi, wire.IPv4Addr{}, ErrTruncated)
		return true
	}
	switch m.RCode() {
	case RCodeNoError:
	case RCodeNXDomain:
		st.NotFound++
		r.finish(qi, wire.IPv4Addr{}, ErrNotFound)
		return true
	default:
		// lwIP fails over on an error code; the last server's error is a
		// failure to get an answer.
		st.ServerErr++
		r.failover(qi, now, ErrTimeout)
		return true
	}
	addr, ttl, res := r.answer(m, off, q.name[:q.nlen])
	switch res {
	case ansMalformed:
		st.Malformed++
		return false
	case ansNone:
		st.NotFound++
		r.finish(qi, wire.IPv4Addr{}, ErrNotFound)
		return true
	}
	st.Answers++
	r.cacheAdd(q.name[:q.nlen], addr, ttl, now)
	r.finish(qi, addr, nil)
	return true
}

type ansResult uint8

const (
	ansFound ansResult = iota
	ansNone
	ansMalformed
)

// answer finds the A record for name in the answer section starting at off,
// following a CNAME chain of at most Config.MaxCNAME links. The TTL is the
// least along the chain. Like lwIP it takes the first matching A record.
func (r *Resolver) answer(m Message, off int, name []byte) (wire.IPv4Addr, uint32, ansResult) {
	target := append(r.target[:0], name...)
	ttl := uint32(0xffffffff)
	ancount := m.ANCount()
	for links := 0; ; links++ {
		var rr RR
		var cname []byte
		cnameTTL := uint32(0)
		pos := off
		for range ancount {
			next, err := ReadRR(m, pos, r.rrName[:0], &rr)
			if err != nil {
				return wire.IPv4Addr{}, 0, ansMalformed
			}
			pos = next
			if rr.Class != ClassIN || !EqualNames(rr.Name, target) {
				continue
			}
			switch rr.Type {
			case TypeA:
				if len(rr.Data) != 4 {
					return wire.IPv4Addr{}, 0, ansMalformed
				}
				return wire.IPv4Addr(rr.Data), min(ttl, rr.EffectiveTTL()), ansFound
			case TypeCNAME:
				if cname != nil {
					continue // the first alias wins
				}
				c, end, err := ReadName(m, rr.DataOff, r.cname[:0])
				if err != nil || end != rr.DataOff+len(rr.Data) {
					return wire.IPv4Addr{}, 0, ansMalformed
				}
				cname, cnameTTL = c, rr.EffectiveTTL()
			}
		}
		if cname == nil || links >= r.cfg.MaxCNAME {
			return wire.IPv4Addr{}, 0, ansNone
		}
		ttl = min(ttl, cnameTTL)
		target = append(r.target[:0], cname...)
	}
}

// cacheAdd caches name → addr for ttl seconds, capped at Config.MaxTTL; a
// TTL of 0 is not cached (lwIP). It replaces an entry for the same name, a
// free or expired one, or the one closest to expiry.
func (r *Resolver) cacheAdd(name []byte, addr wire.IPv4Addr, ttl uint32, now clock.Time) {
	if ttl == 0 || len(r.cache) == 0 {
		return
	}
	d := min(clock.Duration(ttl)*clock.Second, r.cfg.MaxTTL)
	live := func(e *cacheEntry) bool { return e.used && now < e.expires }
	var victim *cacheEntry
	for i := range r.cache {
		e := &r.cache[i]
		if e.used && EqualNames(e.name[:e.nlen], name) {
			victim = e
			break
		}
		switch {
		case victim == nil:
			victim = e
		case !live(e):
			if live(victim) {
				victim = e
			}
		case live(victim) && e.expires < victim.expires:
			victim = e
		}
	}
	victim.used, victim.nlen, victim.addr = true, uint8(len(name)), addr
	copy(victim.name[:], name)
	victim.expires = now.Add(d)
}

// parseIPv4 parses a dotted-quad literal ("192.0.2.1"): four decimal parts
// of one to three digits, without leading zeros, each at most 255.
func parseIPv4(s string) (wire.IPv4Addr, bool) {
	var a wire.IPv4Addr
	part, digits, v := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return a, false
			}
			a[part] = uint8(v)
			part, digits, v = part+1, 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 || digits == 1 && v == 0 {
			return a, false
		}
		v = v*10 + int(c-'0')
		if v > 255 {
			return a, false
		}
		digits++
	}
	return a, part == 4
}

// Compile-time check that a Resolver is a core.Poller.
var _ core.Poller = (*Resolver)(nil)
