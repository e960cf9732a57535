package dns

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// A cached lookup, a literal and a local host allocate nothing.
func TestNoAllocsCachedLookup(t *testing.T) {
	h := newHarness(t, Config{})
	h.r.AddHost("local.test", netip.MustParseAddr("10.0.0.9"))
	h.lookup("example.com")
	q := h.take()
	h.answer(q, resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 300, data: a4("192.0.2.1")}))
	h.expectResult("example.com", "192.0.2.1", nil)
	want := netip.MustParseAddr("192.0.2.1")
	avg := testing.AllocsPerRun(1000, func() {
		a, err := h.r.GetHostByName("Example.com.", nil)
		if err != nil || a != want {
			t.Fatal(a, err)
		}
		if _, err := h.r.GetHostByName("192.0.2.55", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := h.r.GetHostByName("local.test", nil); err != nil {
			t.Fatal(err)
		}
	})
	if avg != 0 {
		t.Fatalf("%v allocations per lookup", avg)
	}
}

// A whole network lookup allocates nothing either: the query out (new UDP
// endpoint, random port and ID), the answer in through the stack, the
// callback, the cache insert.
func TestNoAllocsQueryAndAnswer(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("example.com") // resolves the server's MAC
	q := h.take()
	answer := resp(q.msg, 0, rec{name: "@", typ: TypeA, ttl: 0, data: a4("192.0.2.1")}) // TTL 0: not cached
	h.answer(q, answer)
	h.expectResult("example.com", "192.0.2.1", nil)
	h.dev.Discard = true
	frame := udpFrame(server1, hostIP, Port, 0, answer)
	udp := wire.UDP(frame[wire.EthernetHeaderLen+wire.IPv4MinHeaderLen:])
	payload := udp[wire.UDPHeaderLen:]
	got := 0
	found := func(name string, addr netip.Addr, err error) { got++ }
	avg := testing.AllocsPerRun(1000, func() {
		if _, err := h.r.GetHostByName("example.com", found); err != errInProgress {
			t.Fatal(err)
		}
		qq := &h.r.queries[0]
		binary.BigEndian.PutUint16(payload, qq.id)
		binary.BigEndian.PutUint16(udp[2:], qq.u.LocalAddr().Port())
		udp.SetChecksum(0)
		udp.SetChecksum(wire.UDPChecksum(udp, server1, hostIP))
		h.dev.One = frame
		h.s.Poll(h.clk.Now())
	})
	if avg != 0 {
		t.Fatalf("%v allocations per lookup", avg)
	}
	if got < 1000 {
		t.Fatalf("%d answers", got)
	}
	h.dev.Discard = false
	h.checkPool()
}

func TestNoAllocsParse(t *testing.T) {
	m := unhex(t, goldenResponse)
	var buf [MaxNameLen]byte
	avg := testing.AllocsPerRun(1000, func() {
		var q Question
		var rr RR
		off, err := ReadQuestion(m, HeaderLen, buf[:0], &q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReadRR(m, off, buf[:0], &rr); err != nil {
			t.Fatal(err)
		}
	})
	if avg != 0 {
		t.Fatalf("%v allocations", avg)
	}
}
