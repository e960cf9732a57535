package wire_test

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

func TestUDPGoldenChecksum(t *testing.T) {
	u := clone(goldenUDPDNS)
	u[6], u[7] = 0, 0
	if got := refChecksum(pseudoHeader(ipGuest, ipDNS, 17, len(u)), u); got != 0x318a {
		t.Errorf("reference checksum %#04x, golden says 0x318a", got)
	}
}

func TestUDPDecode(t *testing.T) {
	u, err := wire.ParseUDP(goldenUDPDNS)
	if err != nil {
		t.Fatalf("ParseUDP: %v", err)
	}
	if got := u.SrcPort(); got != 54321 {
		t.Errorf("SrcPort = %d, want 54321", got)
	}
	if got := u.DstPort(); got != 53 {
		t.Errorf("DstPort = %d, want 53", got)
	}
	if got := u.Length(); got != 37 {
		t.Errorf("Length = %d, want 37", got)
	}
	if got := u.Checksum(); got != 0x318a {
		t.Errorf("Checksum = %#04x, want 0x318a", got)
	}
	if got, want := u.Payload(), goldenUDPDNS[8:]; !bytes.Equal(got, want) || len(got) != 29 {
		t.Errorf("Payload = % x, want % x", got, want)
	}
	if !u.IsChecksumValid(ipGuest, ipDNS) {
		t.Error("IsChecksumValid = false on the golden datagram")
	}
	if u.IsChecksumValid(ipGuest, ipGateway) {
		t.Error("IsChecksumValid = true with the wrong destination in the pseudo-header")
	}
	if !u.IsChecksumValid(ipDNS, ipGuest) {
		// Swapping the addresses leaves the one's-complement sum unchanged.
		t.Error("IsChecksumValid = false with src and dst swapped")
	}
}

func TestUDPHeaderEncodeGolden(t *testing.T) {
	tests := []struct {
		name string
		h    wire.UDPHeader
		want []byte
	}{
		{"DNSQuery", wire.UDPHeader{SrcPort: 54321, DstPort: 53, Length: 37}, unhex("d4 31 00 35 00 25 00 00")},
		{"DHCPDiscover", wire.UDPHeader{SrcPort: 68, DstPort: 67, Length: 308}, unhex("00 44 00 43 01 34 00 00")},
		{"Empty", wire.UDPHeader{SrcPort: 0xffff, DstPort: 1, Length: 8}, unhex("ff ff 00 01 00 08 00 00")},
		{"MaxLength", wire.UDPHeader{SrcPort: 1, DstPort: 2, Length: 65535}, unhex("00 01 00 02 ff ff 00 00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := filled(wire.UDPHeaderLen + slack)
			tt.h.Encode(wire.UDP(buf))
			checkEncoded(t, buf, tt.want)
		})
	}
}

func TestUDPChecksumGolden(t *testing.T) {
	u := wire.UDP(filled(len(goldenUDPDNS)))
	h := wire.UDPHeader{SrcPort: 54321, DstPort: 53, Length: len(goldenUDPDNS)}
	h.Encode(u)
	copy(u.Payload(), goldenUDPDNS[8:])
	c := wire.UDPChecksum(u, ipGuest, ipDNS)
	if c != 0x318a {
		t.Errorf("UDPChecksum = %#04x, want 0x318a", c)
	}
	u.SetChecksum(c)
	if !bytes.Equal(u, goldenUDPDNS) {
		t.Errorf("got  % x\nwant % x", []byte(u), goldenUDPDNS)
	}
}

// RFC 768: "If the computed checksum is zero, it is transmitted as all ones
// (the equivalent in one's complement arithmetic)."
func TestRFC768_ComputedZeroSentAsAllOnes(t *testing.T) {
	u := wire.UDP(make([]byte, 10))
	h := wire.UDPHeader{SrcPort: 1234, DstPort: 5678, Length: 10}
	h.Encode(u)
	// Choose the two payload bytes so that the sum is 0xffff (negative zero),
	// whose complement, the checksum, is 0.
	s := ^refChecksum(pseudoHeader(ipGuest, ipDNS, 17, 10), u) // the sum with a zero payload
	u[8], u[9] = byte(^s>>8), byte(^s)
	if got := refChecksum(pseudoHeader(ipGuest, ipDNS, 17, 10), u); got != 0 {
		t.Fatalf("test setup: checksum %#04x, want 0", got)
	}
	if got := wire.UDPChecksum(u, ipGuest, ipDNS); got != 0xffff {
		t.Fatalf("UDPChecksum = %#04x, want 0xffff", got)
	}
	u.SetChecksum(0xffff)
	if !u.IsChecksumValid(ipGuest, ipDNS) {
		t.Error("IsChecksumValid = false for an all-ones checksum")
	}
}

// RFC 768: "An all zero transmitted checksum value means that the transmitter
// generated no checksum"; RFC 1122 §4.1.3.4 lets the receiver accept it.
func TestRFC768_ZeroChecksumMeansNone(t *testing.T) {
	u := wire.UDP(clone(goldenUDPDNS))
	u.SetChecksum(0)
	if !u.IsChecksumValid(ipGuest, ipDNS) {
		t.Error("IsChecksumValid = false for a zero (absent) checksum")
	}
	u.SetChecksum(0x318b)
	if u.IsChecksumValid(ipGuest, ipDNS) {
		t.Error("IsChecksumValid = true for a wrong checksum")
	}
	u.SetChecksum(0x318a)
	u[len(u)-1] ^= 0x80
	if u.IsChecksumValid(ipGuest, ipDNS) {
		t.Error("IsChecksumValid = true after a payload byte changed")
	}
}

// RFC 768: the length field "includes this header ... the minimum value of the
// length is eight."
func TestRFC768_LengthBelowEight(t *testing.T) {
	for n := range 8 {
		u := clone(goldenUDPDNS)
		u[4], u[5] = 0, byte(n)
		if _, err := wire.ParseUDP(u); err != wire.ErrBadLength {
			t.Errorf("length %d: %v, want ErrBadLength", n, err)
		}
	}
}

func TestParseUDPTruncated(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		if _, err := wire.ParseUDP(goldenUDPDNS[:n]); err != wire.ErrTruncated {
			t.Errorf("%d bytes: %v, want ErrTruncated", n, err)
		}
	}
	// Length 37 in 36 bytes.
	if _, err := wire.ParseUDP(goldenUDPDNS[:36]); err != wire.ErrTruncated {
		t.Errorf("36 of 37 bytes: %v, want ErrTruncated", err)
	}
}

func TestParseUDPTrimsToLength(t *testing.T) {
	u, err := wire.ParseUDP(cat(goldenUDPDNS, []byte{0xde, 0xad, 0xbe, 0xef}))
	if err != nil {
		t.Fatalf("ParseUDP: %v", err)
	}
	if len(u) != 37 || len(u.Payload()) != 29 {
		t.Errorf("view %d bytes, payload %d; want 37, 29", len(u), len(u.Payload()))
	}
	// Length 8: header only.
	h := clone(goldenUDPDNS[:8])
	h[4], h[5] = 0, 8
	if u, err := wire.ParseUDP(h); err != nil || len(u.Payload()) != 0 {
		t.Errorf("header only: %v, payload %d bytes", err, len(u.Payload()))
	}
}
