package dhcp

import (
	"encoding/binary"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

// FuzzDHCPParse: Parse and ParseOptions never panic, keep their bounds, and
// the fixed part of an accepted message survives a re-encode.
func FuzzDHCPParse(f *testing.F) {
	f.Add(unhex(f, goldenOffer))
	f.Add(unhex(f, goldenDiscover))
	f.Add(reply{typ: Ack, yi: offerIP, t1: 10, t2: 20}.build(unhex(f, goldenDiscover)))
	over := unhex(f, goldenOffer)[:offOptions]
	over = append(over, 0x35, 1, 5, 0x34, 1, 3, 0xff)
	copy(over[offFile:], []byte{0x33, 4, 0, 0, 0, 10, 0xff})
	copy(over[offSName:], []byte{0x06, 8, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(over)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if len(b) >= HeaderLen && err == ErrTruncated {
				t.Fatalf("long message reported truncated")
			}
			return
		}
		var o Options
		if err := m.ParseOptions(&o); err != nil {
			if err != ErrOption {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if o.NumDNS < 0 || o.NumDNS > MaxDNSServers {
			t.Fatalf("NumDNS %d", o.NumDNS)
		}
		if o.Has(OptMsgType) != (o.Type != 0) {
			t.Fatalf("message type %d, present %v", o.Type, o.Has(OptMsgType))
		}
		if o.Overload > 3 {
			t.Fatalf("overload %d", o.Overload)
		}
		h := Header{Op: m.Op(), XID: m.XID(), Secs: m.Secs(), Flags: m.Flags(), CIAddr: m.CIAddr(),
			YIAddr: m.YIAddr(), SIAddr: m.SIAddr(), GIAddr: m.GIAddr(), CHAddr: m.CHAddrMAC()}
		e := Message(h.Encode(make([]byte, HeaderLen)))
		if e.XID() != m.XID() || e.YIAddr() != m.YIAddr() || e.CHAddrMAC() != m.CHAddrMAC() || e.Flags() != m.Flags() {
			t.Fatalf("re-encode differs")
		}
	})
}

// FuzzClientInput feeds a running client a script of replies, ARP packets
// and clock jumps. Each step is [ctrl, len, data…]; ctrl picks a template
// reply (so that the fuzzer reaches every state) or raw bytes, patches of
// xid and chaddr, the source port, unicast or broadcast, an ARP conflict and
// how far the clock moves. Invariants: no panic; the state is one of the
// defined ones; the interface has the lease's address exactly in the states
// that hold a lease and none before the first one; every buffer returns to
// the pool once the client stops.
func FuzzClientInput(f *testing.F) {
	step := func(ctrl byte, data ...byte) []byte { return append([]byte{ctrl, byte(len(data))}, data...) }
	var full []byte
	full = append(full, step(0x0f, byte(Offer-1), 10)...)   // OFFER
	full = append(full, step(0x0f|0x70, byte(Ack-1), 2)...) // ACK, then time
	full = append(full, step(0x70)...)                      // time: T1
	full = append(full, step(0x0f, byte(Nak-1))...)         // NAK in RENEWING
	full = append(full, step(0x0f, byte(Offer-1), 1)...)    // OFFER again
	full = append(full, step(0x0f|0x80, byte(Ack-1), 1)...) // ACK, ARP conflict
	full = append(full, step(0x70)...)                      // back-off
	full = append(full, step(0x02, append(make([]byte, 236), 99, 130, 83, 99, 53, 1, 2, 0xff)...)...)
	f.Add(full)
	f.Add(step(0x0f, byte(Offer-1), 0, OptOverload, 1, 3))
	f.Add(step(0x0f, byte(Ack-1), 0, OptDNS, 3, 1, 2, 3))
	f.Add(step(0x0b, byte(Offer-1), 4))
	f.Fuzz(func(t *testing.T, script []byte) {
		h := newHarness(t, Config{OnEvent: func(*Client, Event) {}})
		if err := h.c.Start(); err != nil {
			t.Fatal(err)
		}
		h.poll()
		var last Message // the client's latest message
		everBound := false
		for len(script) >= 2 {
			ctrl, n := script[0], int(script[1])
			script = script[2:]
			data := script[:min(n, len(script))]
			script = script[len(data):]
			for _, m := range h.msgs {
				last = m.m
			}
			h.msgs = h.msgs[:0]
			if last == nil {
				last = Message(unhex(t, goldenDiscover))
			}
			var payload []byte
			if ctrl&1 != 0 && len(data) > 0 {
				r := reply{typ: MsgType(data[0]%8 + 1), yi: offerIP}
				if len(data) > 1 {
					r.lease = uint32(data[1]) * 7
				}
				if len(data) > 2 {
					r.extra = data[2:]
				}
				if ctrl&0x08 == 0 {
					r.server = server2IP
				}
				payload = r.build(last)
			} else {
				payload = append([]byte(nil), data...)
			}
			if ctrl&2 != 0 && len(payload) >= HeaderLen {
				binary.BigEndian.PutUint32(payload[offXID:], h.c.xid)
				copy(payload[offCHAddr:], clientMAC[:])
			}
			sport := uint16(ServerPort)
			if ctrl&4 == 0 && ctrl&1 == 0 {
				sport = 1000 + uint16(ctrl)
			}
			dst := wire.IPv4Broadcast
			if ctrl&0x08 != 0 && ctrl&1 == 0 {
				dst = offerIP
			}
			if ctrl&0x80 != 0 {
				h.dev.Inbox = append(h.dev.Inbox, arpFrame(wire.ARPReply, otherMAC, offerIP, clientMAC, wire.IPv4Addr{}))
			}
			h.deliver(payload, serverIP, sport, dst)
			h.poll()
			if adv := ctrl >> 4 & 7; adv != 0 {
				h.advance(clock.Duration(1) << (adv * 2) * clock.Second)
			}
			st := h.c.State()
			if st > Releasing {
				t.Fatalf("state %d", st)
			}
			switch st {
			case Bound, Renewing, Rebinding:
				everBound = true
				if h.n.Addr != h.c.lease.addr || !h.c.configured {
					t.Fatalf("%v with interface address %v, lease %v", st, h.n.Addr, h.c.lease.addr)
				}
			default:
				if h.c.configured {
					t.Fatalf("%v with a configured address", st)
				}
				if !everBound && h.n.HasAddr() {
					t.Fatalf("%v with address %v before any lease", st, h.n.Addr)
				}
			}
		}
		h.c.Stop()
		h.advance(time10s)
		h.checkPool()
		if h.n.HasAddr() {
			t.Fatalf("address %v after Stop", h.n.Addr)
		}
	})
}

const time10s = 10 * clock.Second
