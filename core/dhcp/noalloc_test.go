package dhcp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

type nopDNS struct{}

func (nopDNS) SetServer(int, netip.Addr) error { return nil }

// The steady state allocates nothing: a renewal (DHCPREQUEST out) and the
// DHCPACK that answers it, through the whole receive path (device, IP, UDP
// demultiplexing, option parsing, reconfiguration, DNS hand-over, event).
func TestNoAllocsRenewAndAck(t *testing.T) {
	events := 0
	h := newHarness(t, Config{NoARPCheck: true, DNS: nopDNS{}, OnEvent: func(*Client, Event) { events++ }})
	h.bind2(reply{})
	// One renewal with the recording device, so that ARP knows the server.
	h.c.Renew()
	h.advance(0)
	req := h.take(Request)
	frame := udpFrame(serverMAC, clientMAC, serverIP, offerIP, ServerPort, ClientPort, reply{typ: Ack, yi: offerIP}.build(req.m))
	h.dev.One = frame
	h.poll()
	h.expectState(Bound)
	h.dev.Discard = true
	// Where the xid lives in the frame, and the UDP checksum to fix up.
	off := wire.EthernetHeaderLen + wire.IPv4MinHeaderLen + wire.UDPHeaderLen + offXID
	udp := wire.UDP(frame[wire.EthernetHeaderLen+wire.IPv4MinHeaderLen:])
	avg := testing.AllocsPerRun(1000, func() {
		if err := h.c.Renew(); err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint32(frame[off:], h.c.xid)
		udp.SetChecksum(0)
		udp.SetChecksum(wire.UDPChecksum(udp, serverIP, offerIP))
		h.dev.One = frame
		h.s.Poll(h.clk.Now())
		if h.c.State() != Bound {
			t.Fatalf("state %v", h.c.State())
		}
	})
	if avg != 0 {
		t.Fatalf("%v allocations per renewal", avg)
	}
	if events < 1000 || h.c.Stats().Drop != 0 {
		t.Fatalf("events %d, stats %+v", events, h.c.Stats())
	}
	h.dev.Discard = false
	h.checkPool()
}

// Parsing a message and its options allocates nothing.
func TestNoAllocsParse(t *testing.T) {
	b := unhex(t, goldenOffer)
	var o Options
	avg := testing.AllocsPerRun(1000, func() {
		m, err := Parse(b)
		if err != nil || m.ParseOptions(&o) != nil {
			t.Fatal("parse")
		}
	})
	if avg != 0 {
		t.Fatalf("%v allocations", avg)
	}
}
