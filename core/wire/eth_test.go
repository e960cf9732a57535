package wire_test

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

func TestEthernetDecode(t *testing.T) {
	payload := []byte{0x45, 0x00, 0x00, 0x14}
	tests := []struct {
		name     string
		in       []byte
		dst, src wire.MAC
		typ      wire.EtherType
	}{
		{"IPv4Unicast", goldenEthIPv4, macGateway, macGuest, wire.EtherTypeIPv4},
		{"ARPBroadcast", goldenEthARP, wire.BroadcastMAC, macGuest, wire.EtherTypeARP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := cat(tt.in, payload)
			e, err := wire.ParseEthernet(frame)
			if err != nil {
				t.Fatalf("ParseEthernet: %v", err)
			}
			if got := e.Dst(); got != tt.dst {
				t.Errorf("Dst = %v, want %v", got, tt.dst)
			}
			if got := e.Src(); got != tt.src {
				t.Errorf("Src = %v, want %v", got, tt.src)
			}
			if got := e.Type(); got != tt.typ {
				t.Errorf("Type = %v, want %v", got, tt.typ)
			}
			if got := e.Payload(); !bytes.Equal(got, payload) {
				t.Errorf("Payload = % x, want % x", got, payload)
			}
			if len(e) != len(frame) {
				t.Errorf("view length %d, want the whole frame %d", len(e), len(frame))
			}
		})
	}
}

func TestEthernetHeaderEncodeGolden(t *testing.T) {
	tests := []struct {
		name string
		h    wire.EthernetHeader
		want []byte
	}{
		{"IPv4Unicast", wire.EthernetHeader{Dst: macGateway, Src: macGuest, Type: wire.EtherTypeIPv4}, goldenEthIPv4},
		{"ARPBroadcast", wire.EthernetHeader{Dst: wire.BroadcastMAC, Src: macGuest, Type: wire.EtherTypeARP}, goldenEthARP},
		{"IPv6Multicast", wire.EthernetHeader{
			Dst:  wire.MAC{0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
			Src:  wire.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
			Type: wire.EtherTypeIPv6,
		}, unhex("33 33 00 00 00 01  02 00 00 00 00 01  86 dd")},
		{"ZeroHeader", wire.EthernetHeader{}, make([]byte, wire.EthernetHeaderLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := filled(wire.EthernetHeaderLen + slack)
			tt.h.Encode(wire.Ethernet(buf))
			checkEncoded(t, buf, tt.want)
		})
	}
}

func TestEthernetSetters(t *testing.T) {
	e := wire.Ethernet(clone(goldenEthIPv4))
	e.SetDst(wire.BroadcastMAC)
	e.SetSrc(macGateway)
	e.SetType(wire.EtherTypeARP)
	want := unhex("ff ff ff ff ff ff  52 55 0a 00 02 02  08 06")
	if !bytes.Equal(e, want) {
		t.Errorf("after setters: % x, want % x", []byte(e), want)
	}
}

func TestParseEthernetTruncated(t *testing.T) {
	frame := cat(goldenEthIPv4, []byte{1, 2})
	for n := range wire.EthernetHeaderLen {
		if _, err := wire.ParseEthernet(frame[:n]); err != wire.ErrTruncated {
			t.Errorf("ParseEthernet(%d bytes) = %v, want ErrTruncated", n, err)
		}
	}
	e, err := wire.ParseEthernet(frame[:wire.EthernetHeaderLen])
	if err != nil || len(e.Payload()) != 0 {
		t.Errorf("ParseEthernet(header only) = %v, payload %d bytes; want nil, 0", err, len(e.Payload()))
	}
}

func TestEtherTypeString(t *testing.T) {
	tests := []struct {
		in   wire.EtherType
		want string
	}{
		{wire.EtherTypeIPv4, "IPv4"},
		{wire.EtherTypeARP, "ARP"},
		{wire.EtherTypeVLAN, "VLAN"},
		{wire.EtherTypeIPv6, "IPv6"},
		{0x88cc, "0x88cc"}, // LLDP
		{0, "0x0000"},
		{0xffff, "0xffff"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("EtherType(%#04x).String() = %q, want %q", uint16(tt.in), got, tt.want)
			}
		})
	}
}
