package dns

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
)

// RFC 1035 §7, RFC 5452 §9: a lookup goes to the first server from a random
// ephemeral port with a random ID, and the answer reaches the callback.
func TestRFC1035_7_Resolution(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("example.com")
	q := h.take()
	if q.dst != server1 || q.sport < 49152 {
		t.Fatalf("query to %v from port %d", q.dst, q.sport)
	}
	if q.msg.Flags() != FlagRD || q.msg.QDCount() != 1 {
		t.Fatalf("flags %#x", q.msg.Flags())
	}
	h.expectNoResult()
	h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 300, data: a4("192.0.2.1")}))
	h.expectResult("example.com", "192.0.2.1", nil)
	st := h.r.Stats()
	if st.Queries != 1 || st.Xmit != 1 || st.Answers != 1 || st.Drop != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The query's endpoint is closed: a late duplicate finds no one.
	h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 300, data: a4("192.0.2.1")}))
	h.expectNoResult()
	if d := h.r.NextDeadline(); d != clock.Never {
		t.Fatalf("deadline %v with nothing in flight", d)
	}
	h.checkPool()
}

// dns_gethostbyname answers literals and local hosts at once, without a
// callback and without a query.
func TestImmediateAnswers(t *testing.T) {
	h := newHarness(t, Config{MaxHosts: 2})
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"0.0.0.0", "0.0.0.0"},
		{"255.255.255.255", "255.255.255.255"},
	} {
		a, err := h.r.GetHostByName(tc.in, nil)
		if err != nil || a != netip.MustParseAddr(tc.want) {
			t.Fatalf("%q: %v %v", tc.in, a, err)
		}
	}
	// Not literals: names, then (no callback) ErrArg.
	for _, s := range []string{"1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1..2.3", "1.2.3.4."} {
		if _, err := h.r.GetHostByName(s, nil); err != errs.ErrArg {
			t.Fatalf("%q: %v", s, err)
		}
	}
	if err := h.r.AddHost("router.lan", netip.MustParseAddr("10.0.0.1")); err != nil {
		t.Fatal(err)
	}
	h.r.AddHost("nas.lan", netip.MustParseAddr("10.0.0.9"))
	if err := h.r.AddHost("x.lan", netip.MustParseAddr("10.0.0.10")); err != errs.ErrMem {
		t.Fatalf("full table: %v", err)
	}
	if a, err := h.r.GetHostByName("ROUTER.lan.", nil); err != nil || a != netip.MustParseAddr("10.0.0.1") {
		t.Fatalf("local host: %v %v", a, err)
	}
	if n := h.r.RemoveHost("router.lan"); n != 1 {
		t.Fatalf("removed %d", n)
	}
	h.lookup("router.lan")
	h.take()
	if st := h.r.Stats(); st.Literals != 3 || st.LocalHits != 1 {
		t.Fatalf("stats %+v", st)
	}
	h.poll()
	h.expectNoQuery()
}

func TestGetHostByNameErrors(t *testing.T) {
	h := newHarness(t, Config{})
	for _, name := range []string{"", ".", "a..b", string(make([]byte, 300))} {
		if _, err := h.r.GetHostByName(name, h.found); err != errs.ErrArg {
			t.Fatalf("%q: %v", name, err)
		}
	}
	h.r.SetServer(0, netip.Addr{})
	h.r.SetServer(1, netip.Addr{})
	if _, err := h.r.GetHostByName("example.com", h.found); err != errs.ErrRoute {
		t.Fatalf("no server: %v", err)
	}
	if err := h.r.SetServer(2, netip.MustParseAddr("10.0.0.1")); err != errs.ErrArg {
		t.Fatalf("slot 2: %v", err)
	}
	if err := h.r.SetServer(0, netip.MustParseAddr("::1")); err != errs.ErrVal {
		t.Fatalf("IPv6 server: %v", err)
	}
	if h.r.Server(0).IsValid() || h.r.Server(5).IsValid() {
		t.Fatal("cleared server reported")
	}
}

// A cached answer is returned at once until its TTL runs out
// (RFC 1035 §3.2.1: TTL is "the time interval that the resource record may
// be cached"), then the name is queried again.
func TestRFC1035_3_2_1_CacheHonoursTTL(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("example.com")
	q := h.take()
	h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 300, data: a4("192.0.2.1")}))
	h.expectResult("example.com", "192.0.2.1", nil)
	start := h.clk.Now()
	h.runUntil(start.Add(300*clock.Second - 1))
	if a, err := h.r.GetHostByName("EXAMPLE.com", nil); err != nil || a != netip.MustParseAddr("192.0.2.1") {
		t.Fatalf("cache: %v %v", a, err)
	}
	h.expectNoQuery()
	h.advance(1)
	if _, err := h.r.GetHostByName("example.com", h.found); err != errInProgress {
		t.Fatalf("after TTL: %v", err)
	}
	h.advance(0)
	h.take()
	if st := h.r.Stats(); st.CacheHits != 1 || st.Queries != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// lwIP DNS_MAX_TTL caps the cache time; TTL 0 and a TTL with the top bit
// set (RFC 2181 §8) are not cached; the cache holds Config.CacheSize names,
// replacing the one closest to expiry.
func TestCacheLimits(t *testing.T) {
	h := newHarness(t, Config{MaxTTL: 60 * clock.Second, CacheSize: 2})
	resolve := func(name, addr string, ttl uint32) {
		t.Helper()
		h.lookup(name)
		q := h.take()
		h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: ttl, data: a4(addr)}))
		h.expectResult(name, addr, nil)
	}
	cached := func(name string) bool {
		_, err := h.r.GetHostByName(name, nil)
		return err == nil
	}
	resolve("big.test", "192.0.2.1", 1000000)
	resolve("zero.test", "192.0.2.2", 0)
	resolve("neg.test", "192.0.2.3", 0x80000010)
	if !cached("big.test") || cached("zero.test") || cached("neg.test") {
		t.Fatal("caching of 0 / high-bit TTLs")
	}
	h.advance(60 * clock.Second)
	if cached("big.test") {
		t.Fatal("MaxTTL not applied")
	}
	resolve("a.test", "192.0.2.4", 100)
	resolve("b.test", "192.0.2.5", 50)
	resolve("c.test", "192.0.2.6", 200) // evicts b (closest to expiry)
	if !cached("a.test") || cached("b.test") || !cached("c.test") {
		t.Fatal("eviction")
	}
}

// RFC 1035 §7.2 / lwIP: without an answer the query is retransmitted
// (after 1 s, then 2 s), then sent to the next server; its answer is
// accepted and the first server's late one is not.
func TestRFC1035_7_2_FailoverToSecondServer(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("example.com")
	start := h.clk.Now()
	h.runUntil(start.Add(7*clock.Second - 1))
	var at []clock.Duration
	var first sentQuery
	for len(h.queries) > 0 {
		q := h.take()
		if q.dst != server1 {
			t.Fatalf("query to %v before 7 s", q.dst)
		}
		if first.msg == nil {
			first = q
		} else if q.msg.ID() != first.msg.ID() || q.sport != first.sport {
			t.Fatalf("retransmission changed ID or port")
		}
		at = append(at, q.at.Sub(start))
	}
	if len(at) != 3 || at[0] != 0 || at[1] != clock.Second || at[2] != 3*clock.Second {
		t.Fatalf("transmissions at %v", at)
	}
	h.advance(1)
	q := h.take()
	if q.dst != server2 || q.at.Sub(start) != 7*clock.Second {
		t.Fatalf("failover to %v at %v", q.dst, q.at.Sub(start))
	}
	// The first server answers late: not the server now asked.
	h.answer(first, resp(first.msg, 0, rec{name: "@", typ: TypeA, ttl: 60, data: a4("192.0.2.66")}))
	h.expectNoResult()
	h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 60, data: a4("192.0.2.1")}))
	h.expectResult("example.com", "192.0.2.1", nil)
	if st := h.r.Stats(); st.Failovers != 1 || st.Rexmits != 2 || st.BadSource != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// No server answers: ErrTimeout after both servers' schedules (7 s each).
func TestAllServersSilentTimesOut(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("example.com")
	start := h.clk.Now()
	h.advance(14*clock.Second - 1)
	h.expectNoResult()
	h.advance(1)
	r := h.expectResult("example.com", "", ErrTimeout)
	if r.at.Sub(start) != 14*clock.Second || len(h.queries) != 6 {
		t.Fatalf("timeout at %v after %d queries", r.at.Sub(start), len(h.queries))
	}
	h.checkPool()
}

// RFC 1034 §3.6.2, §4.3.2: the answer follows the CNAME chain to the A
// record, whatever the order of the records; the cached TTL is the least
// along the chain.
func TestRFC1034_3_6_2_CNAMEChain(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("www.example.com")
	q := h.take()
	h.answer(q, resp(q.msg, 0,
		rec{name: "edge.cdn.test", typ: TypeA, ttl: 600, data: a4("192.0.2.80")},
		rec{name: "@", typ: TypeCNAME, ttl: 3600, cname: "alias.example.net"},
		rec{name: "other.test", typ: TypeA, ttl: 600, data: a4("192.0.2.99")},
		rec{name: "alias.example.net", typ: TypeCNAME, ttl: 30, cname: "EDGE.cdn.test"}))
	h.expectResult("www.example.com", "192.0.2.80", nil)
	h.advance(30 * clock.Second)
	if _, err := h.r.GetHostByName("www.example.com", nil); err == nil {
		t.Fatal("cached beyond the chain's least TTL")
	}
}

// CNAME data compressed with a pointer into the question decodes.
func TestRFC1035_4_1_4_CompressedCNAMEData(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("www.example.com")
	q := h.take()
	// www.example.com CNAME mail.<ptr to example.com at 16>; mail.example.com A.
	b := resp(q.msg, 0)
	b[7] = 2 // ANCOUNT
	b = append(b, 0xc0, 12, 0, TypeCNAME, 0, ClassIN, 0, 0, 0, 60, 0, 7, 4, 'm', 'a', 'i', 'l', 0xc0, 16)
	cn := len(b) - 7
	b = append(b, 0xc0|byte(cn>>8), byte(cn), 0, TypeA, 0, ClassIN, 0, 0, 0, 60, 0, 4, 192, 0, 2, 25)
	h.answer(q, b)
	h.expectResult("www.example.com", "192.0.2.25", nil)
}

// A chain longer than Config.MaxCNAME, or a CNAME loop, is bounded and
// reported as not found; a chain that leaves the answer without an A record
// too.
func TestCNAMELimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		recs []rec
	}{
		{"loop", []rec{
			{name: "@", typ: TypeCNAME, ttl: 60, cname: "b.test"},
			{name: "b.test", typ: TypeCNAME, ttl: 60, cname: "a.test"},
		}},
		{"too-long", []rec{
			{name: "@", typ: TypeCNAME, ttl: 60, cname: "b.test"},
			{name: "b.test", typ: TypeCNAME, ttl: 60, cname: "c.test"},
			{name: "c.test", typ: TypeCNAME, ttl: 60, cname: "d.test"},
			{name: "d.test", typ: TypeA, ttl: 60, data: a4("192.0.2.4")},
		}},
		{"dangling", []rec{{name: "@", typ: TypeCNAME, ttl: 60, cname: "elsewhere.test"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{MaxCNAME: 2})
			h.lookup("a.test")
			q := h.take()
			h.answer(q, resp(q.msg, 0, tc.recs...))
			h.expectResult("a.test", "", ErrNotFound)
		})
	}
}

// RFC 1035 §4.1.1: RCODE 3 "Name Error" → not found; NOERROR without an
// A record (NODATA) too; an error RCODE moves to the next server (lwIP);
// TC set → ErrTruncated (no TCP fallback).
func TestRFC1035_4_1_1_RCodes(t *testing.T) {
	t.Run("nxdomain", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.lookup("nope.test")
		q := h.take()
		h.answer(q, resp(q.msg, uint16(RCodeNXDomain)))
		h.expectResult("nope.test", "", ErrNotFound)
		h.expectNoQuery()
		if h.r.Stats().NotFound != 1 {
			t.Fatal("not counted")
		}
	})
	t.Run("nodata", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.lookup("v6only.test")
		q := h.take()
		h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeAAAA, ttl: 60, data: make([]byte, 16)}))
		h.expectResult("v6only.test", "", ErrNotFound)
	})
	for _, rc := range []RCode{RCodeServFail, RCodeRefused, RCodeFormErr, RCodeNotImp} {
		t.Run("rcode-failover", func(t *testing.T) {
			h := newHarness(t, Config{})
			h.lookup("example.com")
			q := h.take()
			h.answer(q, resp(q.msg, uint16(rc)))
			h.expectNoResult()
			h.advance(0)
			q2 := h.take()
			if q2.dst != server2 {
				t.Fatalf("after rcode %d: query to %v", rc, q2.dst)
			}
			h.answer(q2, resp(q2.msg, uint16(rc)))
			h.expectResult("example.com", "", ErrTimeout)
		})
	}
	t.Run("truncated", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.lookup("big.test")
		q := h.take()
		h.answer(q, resp(q.msg, FlagTC, rec{name: "@", typ: TypeA, ttl: 60, data: a4("192.0.2.1")}))
		h.expectResult("big.test", "", ErrTruncated)
		if h.r.Stats().Truncated != 1 {
			t.Fatal("not counted")
		}
	})
}

// RFC 5452 §9.1: "accept an answer only if it matches the question, the ID
// and the address and port it was sent to and from"; everything else is
// dropped and counted, and the genuine answer still gets through.
func TestRFC5452_9_1_SpoofedRepliesDropped(t *testing.T) {
	good := func(q sentQuery) []byte {
		return resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 60, data: a4("192.0.2.1")})
	}
	for _, tc := range []struct {
		name    string
		send    func(h *harness, q sentQuery)
		counter func(s Stats) uint64
	}{
		{"wrong-id", func(h *harness, q sentQuery) {
			b := good(q)
			binary.BigEndian.PutUint16(b, q.msg.ID()+1)
			h.answer(q, b)
		}, func(s Stats) uint64 { return s.BadID }},
		{"wrong-source-port", func(h *harness, q sentQuery) { h.reply(q, q.dst, 5353, good(q)) },
			func(s Stats) uint64 { return s.BadSource }},
		{"wrong-source-address", func(h *harness, q sentQuery) { h.reply(q, stranger, Port, good(q)) },
			func(s Stats) uint64 { return s.BadSource }},
		{"other-server", func(h *harness, q sentQuery) { h.reply(q, server2, Port, good(q)) },
			func(s Stats) uint64 { return s.BadSource }},
		{"other-name", func(h *harness, q sentQuery) {
			o, _ := AppendQuery(nil, q.msg.ID(), "evil.test", TypeA)
			h.answer(q, resp(o, 0, rec{name: "@", typ: TypeA, ttl: 60, data: a4("192.0.2.66")}))
		}, func(s Stats) uint64 { return s.BadQuestion }},
		{"other-type", func(h *harness, q sentQuery) {
			o, _ := AppendQuery(nil, q.msg.ID(), "example.com", TypeAAAA)
			h.answer(q, resp(o, 0))
		}, func(s Stats) uint64 { return s.BadQuestion }},
		{"not-a-response", func(h *harness, q sentQuery) {
			b := good(q)
			b[2] &^= 0x80
			h.answer(q, b)
		}, func(s Stats) uint64 { return s.BadQuestion }},
		{"two-questions", func(h *harness, q sentQuery) {
			b := good(q)
			b[5] = 2
			h.answer(q, b)
		}, func(s Stats) uint64 { return s.BadQuestion }},
		{"short-header", func(h *harness, q sentQuery) { h.answer(q, good(q)[:11]) },
			func(s Stats) uint64 { return s.Malformed }},
		{"cut-answer", func(h *harness, q sentQuery) { b := good(q); h.answer(q, b[:len(b)-1]) },
			func(s Stats) uint64 { return s.Malformed }},
		{"answer-pointer-loop", func(h *harness, q sentQuery) {
			b := good(q)
			b[29], b[30] = 0xc0, 29
			h.answer(q, b)
		}, func(s Stats) uint64 { return s.Malformed }},
		{"a-record-of-5-bytes", func(h *harness, q sentQuery) {
			h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 60, data: []byte{1, 2, 3, 4, 5}}))
		}, func(s Stats) uint64 { return s.Malformed }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.lookup("example.com")
			q := h.take()
			tc.send(h, q)
			h.expectNoResult()
			st := h.r.Stats()
			if tc.counter(st) != 1 || st.Drop != 1 {
				t.Fatalf("stats %+v", st)
			}
			h.answer(q, good(q))
			h.expectResult("example.com", "192.0.2.1", nil)
			h.checkPool()
		})
	}
}

// RFC 5452 §9.2 and §9.1: each query has its own random port and ID.
func TestRFC5452_9_2_RandomPortAndIDPerQuery(t *testing.T) {
	h := newHarness(t, Config{MaxQueries: 4})
	names := []string{"a.test", "b.test", "c.test", "d.test"}
	for _, n := range names {
		h.lookup(n)
	}
	ports, ids := map[uint16]bool{}, map[uint16]bool{}
	var qs []sentQuery
	for range names {
		q := h.take()
		ports[q.sport], ids[q.msg.ID()] = true, true
		qs = append(qs, q)
	}
	if len(ports) != 4 || len(ids) != 4 {
		t.Fatalf("ports %v ids %v", ports, ids)
	}
	// Answers out of order each reach their own lookup.
	for i := len(qs) - 1; i >= 0; i-- {
		h.answer(qs[i], resp(qs[i].msg, 0, rec{name: "@", typ: TypeA, ttl: 60, data: []byte{192, 0, 2, byte(i)}}))
	}
	for i := len(qs) - 1; i >= 0; i-- {
		h.expectResult(names[i], netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String(), nil)
	}
}

// RFC 5452 §9.1 (lwIP NO_MULTIPLE_OUTSTANDING): a second lookup of a name in
// flight joins its query; both callbacks get the answer.
func TestRFC5452_9_1_IdenticalQueriesMerged(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("example.com")
	h.lookup("Example.COM")
	q := h.take()
	h.expectNoQuery()
	h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 60, data: a4("192.0.2.1")}))
	h.expectResult("example.com", "192.0.2.1", nil)
	h.expectResult("Example.COM", "192.0.2.1", nil)
	if h.r.Stats().Joined != 1 {
		t.Fatal("join not counted")
	}
}

// Config.MaxQueries and MaxRequests bound the pending work: ErrMem beyond.
func TestPendingBounded(t *testing.T) {
	h := newHarness(t, Config{MaxQueries: 2, MaxRequests: 3})
	h.lookup("a.test")
	h.lookup("b.test")
	if _, err := h.r.GetHostByName("c.test", h.found); err != errs.ErrMem {
		t.Fatalf("third query: %v", err)
	}
	h.lookup("a.test") // joins: a request slot, no query slot
	if _, err := h.r.GetHostByName("b.test", h.found); err != errs.ErrMem {
		t.Fatalf("fourth request: %v", err)
	}
	// Without UDP endpoints, a query cannot start.
	h2 := newHarness(t, Config{})
	for {
		u, err := h2.s.NewUDP()
		if err != nil {
			break
		}
		_ = u
	}
	if _, err := h2.r.GetHostByName("a.test", h2.found); err != errs.ErrMem {
		t.Fatalf("no UDP endpoint: %v", err)
	}
}

// A FoundFunc may start a lookup; the finished query's slot is free by then.
func TestCallbackMayLookUpAgain(t *testing.T) {
	h := newHarness(t, Config{MaxQueries: 1, MaxRequests: 1})
	var second error
	_, err := h.r.GetHostByName("a.test", func(name string, addr netip.Addr, err error) {
		_, second = h.r.GetHostByName("b.test", h.found)
	})
	if err != errInProgress {
		t.Fatal(err)
	}
	h.advance(0)
	q := h.take()
	h.answer(q, resp(q.msg, uint16(RCodeNXDomain)))
	if second != errInProgress {
		t.Fatalf("lookup from the callback: %v", second)
	}
	h.advance(0)
	q = h.take()
	h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 60, data: a4("192.0.2.2")}))
	h.expectResult("b.test", "192.0.2.2", nil)
}

// Close ends queries quietly and frees their endpoints.
func TestCloseFreesEverything(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("a.test")
	h.r.Close()
	h.advance(20 * clock.Second)
	h.expectNoResult()
	if u, err := h.s.NewUDP(); err != nil {
		t.Fatal(err)
	} else {
		u.Close()
	}
	h.checkPool()
}
