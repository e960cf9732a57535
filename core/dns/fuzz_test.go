package dns

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
)

// checkName checks the invariants of a decoded name: at most 255 octets,
// labels of 1–63 octets, one final zero.
func checkName(t *testing.T, name []byte) {
	if len(name) == 0 || len(name) > MaxNameLen || name[len(name)-1] != 0 {
		t.Fatalf("name %q", name)
	}
	for i := 0; ; {
		l := int(name[i])
		if l == 0 {
			if i != len(name)-1 {
				t.Fatalf("zero label inside %q", name)
			}
			return
		}
		if l > MaxLabelLen || i+1+l >= len(name) {
			t.Fatalf("label %d in %q", l, name)
		}
		i += 1 + l
	}
}

// FuzzDNSParse: the message parsers and the name decompressor never panic
// on any input, and what they return keeps its bounds: names at every
// offset, and the question and records as the counts announce them.
func FuzzDNSParse(f *testing.F) {
	for _, s := range []string{goldenQuery, goldenResponse} {
		f.Add(unhex(f, s))
	}
	rfc := make([]byte, 93)
	copy(rfc[20:], "\x01F\x03ISI\x04ARPA\x00")
	copy(rfc[40:], "\x03FOO\xc0\x14")
	copy(rfc[64:], "\xc0\x1a")
	f.Add(rfc)
	f.Add([]byte("\x12\x34\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04"))
	f.Add([]byte("\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		buf := make([]byte, 0, MaxNameLen)
		for off := 0; off <= len(b); off++ {
			name, next, err := ReadName(b, off, buf)
			if err != nil {
				continue
			}
			checkName(t, name)
			if next <= off || next > len(b) {
				t.Fatalf("next %d after name at %d of %d", next, off, len(b))
			}
			if &name[0] != &buf[:1][0] {
				t.Fatalf("name not decoded into the caller's buffer")
			}
		}
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		off := HeaderLen
		for range m.QDCount() {
			var q Question
			if off, err = ReadQuestion(m, off, buf, &q); err != nil {
				return
			}
			checkName(t, q.Name)
		}
		for range m.ANCount() + m.NSCount() + m.ARCount() {
			var rr RR
			if off, err = ReadRR(m, off, buf, &rr); err != nil {
				return
			}
			checkName(t, rr.Name)
			if rr.DataOff+len(rr.Data) != off || off > len(m) {
				t.Fatalf("record data %d+%d, next %d", rr.DataOff, len(rr.Data), off)
			}
		}
	})
}

// FuzzResolverInput feeds a resolver with lookups in flight random replies:
// each step is [ctrl, len, data…]. ctrl bit 0 patches the ID and sends from
// the queried server's address and port to the query's port (otherwise the
// datagram comes from wherever bits 1–2 say); bit 3 prefixes the query's own
// header and question, so that the answer section is what the fuzzer
// writes; bits 4–6 move the clock; bit 7 starts another lookup.
// Invariants: no panic; every lookup gets exactly one result, which is an
// address or one of the documented errors; no buffer is lost.
func FuzzResolverInput(f *testing.F) {
	step := func(ctrl byte, data ...byte) []byte { return append([]byte{ctrl, byte(len(data))}, data...) }
	ans := unhex(f, goldenResponse)[29:] // the answer record
	f.Add(append(step(0x09, append([]byte{0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}, ans...)...), step(0x80)...))
	f.Add(step(0x09, 0x83, 0x83, 0, 1, 0, 0, 0, 0, 0, 0))
	f.Add(step(0x09, 0x83, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 9, 0, 2, 0xc0, 0x0c))
	f.Add(append(step(0x70), step(0x70)...))
	f.Add(step(0x01, 0, 0, 0x81, 0x80))
	f.Fuzz(func(t *testing.T, script []byte) {
		h := newHarness(t, Config{MaxQueries: 2, MaxRequests: 3, CacheSize: 2})
		names := []string{"example.com", "www.example.com", "a.test"}
		asked, answered := map[string]int{}, map[string]int{}
		found := func(name string, addr netip.Addr, err error) {
			answered[name]++
			switch err {
			case nil:
				if !addr.Is4() {
					t.Fatalf("%q: address %v", name, addr)
				}
			case ErrNotFound, ErrTruncated, ErrTimeout:
				if addr.IsValid() {
					t.Fatalf("%q: address %v with error %v", name, addr, err)
				}
			default:
				t.Fatalf("%q: error %v", name, err)
			}
		}
		lookup := func(i int) {
			name := names[i%len(names)]
			if _, err := h.r.GetHostByName(name, found); err == errInProgress {
				asked[name]++
			}
		}
		lookup(0)
		h.advance(0)
		next := 1
		for len(script) >= 2 {
			ctrl, n := script[0], int(script[1])
			script = script[2:]
			data := script[:min(n, len(script))]
			script = script[len(data):]
			h.queries = h.queries[:0]
			if ctrl&0x80 != 0 {
				lookup(next)
				next++
				h.advance(0)
			}
			qi := int(ctrl>>1) % len(h.r.queries)
			q := &h.r.queries[qi]
			var payload []byte
			if ctrl&0x08 != 0 && q.active {
				payload, _ = AppendQuery(nil, q.id, "x", TypeA)
				payload = append(payload[:HeaderLen], q.name[:q.nlen]...)
				payload = binary.BigEndian.AppendUint16(payload, TypeA)
				payload = binary.BigEndian.AppendUint16(payload, ClassIN)
				if len(data) >= 10 {
					copy(payload[2:HeaderLen], data[:10]) // flags and counts
					data = data[10:]
				}
			}
			payload = append(payload, data...)
			src, sport, dport := stranger, uint16(Port), uint16(50000)
			if ctrl&1 != 0 && q.active {
				src, sport, dport = h.r.servers[q.server], h.r.cfg.ServerPort, q.u.LocalAddr().Port()
				if len(payload) >= 2 {
					binary.BigEndian.PutUint16(payload, q.id)
				}
			} else if ctrl&2 != 0 {
				sport = uint16(ctrl) * 100
			}
			h.dev.Inbox = append(h.dev.Inbox, udpFrame(src, hostIP, sport, dport, payload))
			h.poll()
			if adv := ctrl >> 4 & 7; adv != 0 {
				h.advance(clock.Duration(adv) * clock.Second)
			}
			for name, k := range answered {
				if k > asked[name] {
					t.Fatalf("%q answered %d times for %d lookups", name, k, asked[name])
				}
			}
		}
		h.advance(30 * clock.Second) // every query ends: answer or timeout
		for _, name := range names {
			if asked[name] != answered[name] {
				t.Fatalf("%q: %d lookups, %d results", name, asked[name], answered[name])
			}
		}
		for i := range h.r.queries {
			if h.r.queries[i].active {
				t.Fatalf("query %d still active", i)
			}
		}
		h.checkPool()
	})
}
