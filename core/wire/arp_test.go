package wire_test

import (
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

var arpTests = []struct {
	name   string
	golden []byte
	h      wire.ARPHeader
}{
	{"Request", goldenARPRequest, wire.ARPHeader{
		Op:        wire.ARPRequest,
		SenderMAC: macGuest,
		SenderIP:  ipGuest,
		TargetIP:  ipGateway,
	}},
	{"Reply", goldenARPReply, wire.ARPHeader{
		Op:        wire.ARPReply,
		SenderMAC: macGateway,
		SenderIP:  ipGateway,
		TargetMAC: macGuest,
		TargetIP:  ipGuest,
	}},
	// RFC 5227 §2.1.1: a probe has sender IP 0.0.0.0.
	{"Probe", unhex(`
		00 01 08 00 06 04 00 01
		52 54 00 12 34 56 00 00 00 00
		00 00 00 00 00 00 0a 00 02 0f
	`), wire.ARPHeader{Op: wire.ARPRequest, SenderMAC: macGuest, TargetIP: ipGuest}},
}

func TestARPDecode(t *testing.T) {
	for _, tt := range arpTests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := wire.ParseARP(tt.golden)
			if err != nil {
				t.Fatalf("ParseARP: %v", err)
			}
			if got := a.Op(); got != tt.h.Op {
				t.Errorf("Op = %d, want %d", got, tt.h.Op)
			}
			if got := a.SenderMAC(); got != tt.h.SenderMAC {
				t.Errorf("SenderMAC = %v, want %v", got, tt.h.SenderMAC)
			}
			if got := a.SenderIP(); got != tt.h.SenderIP {
				t.Errorf("SenderIP = %v, want %v", got, tt.h.SenderIP)
			}
			if got := a.TargetMAC(); got != tt.h.TargetMAC {
				t.Errorf("TargetMAC = %v, want %v", got, tt.h.TargetMAC)
			}
			if got := a.TargetIP(); got != tt.h.TargetIP {
				t.Errorf("TargetIP = %v, want %v", got, tt.h.TargetIP)
			}
		})
	}
}

func TestARPHeaderEncodeGolden(t *testing.T) {
	for _, tt := range arpTests {
		t.Run(tt.name, func(t *testing.T) {
			buf := filled(wire.ARPLen + slack)
			tt.h.Encode(wire.ARP(buf))
			checkEncoded(t, buf, tt.golden)
		})
	}
}

// An ARP packet in a minimum-size Ethernet frame carries 18 bytes of padding;
// the view stops at the 28 bytes of the packet.
func TestParseARPTrimsPadding(t *testing.T) {
	in := cat(goldenARPRequest, make([]byte, wire.EthernetMinFrame-wire.EthernetHeaderLen-wire.ARPLen))
	a, err := wire.ParseARP(in)
	if err != nil {
		t.Fatalf("ParseARP: %v", err)
	}
	if len(a) != wire.ARPLen {
		t.Errorf("len = %d, want %d", len(a), wire.ARPLen)
	}
}

func TestParseARPTruncated(t *testing.T) {
	for n := range wire.ARPLen {
		if _, err := wire.ParseARP(goldenARPRequest[:n]); err != wire.ErrTruncated {
			t.Errorf("ParseARP(%d bytes) = %v, want ErrTruncated", n, err)
		}
	}
}

// RFC 826: a receiver handles only the hardware and protocol types it speaks
// ("?Do I have the hardware type in ar$hrd? ... ?Do I speak the protocol in
// ar$pro?"), and lwgo speaks Ethernet (1) with IPv4 (0x0800): 6- and 4-byte
// addresses.
func TestRFC826_UnsupportedHardwareOrProtocol(t *testing.T) {
	tests := []struct {
		name string
		off  int
		val  []byte
	}{
		{"HardwareIEEE802", 0, []byte{0x00, 0x06}},
		{"HardwareZero", 0, []byte{0x00, 0x00}},
		{"ProtocolIPv6", 2, []byte{0x86, 0xdd}},
		{"ProtocolARP", 2, []byte{0x08, 0x06}},
		{"HardwareLen8", 4, []byte{8}},
		{"ProtocolLen16", 5, []byte{16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := clone(goldenARPRequest)
			copy(in[tt.off:], tt.val)
			if _, err := wire.ParseARP(in); err != wire.ErrUnsupported {
				t.Errorf("ParseARP = %v, want ErrUnsupported", err)
			}
		})
	}
}
