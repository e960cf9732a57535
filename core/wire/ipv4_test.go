package wire_test

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// ipv4Tests pairs each golden header with the IPv4Header that encodes to it.
var ipv4Tests = []struct {
	name   string
	golden []byte
	h      wire.IPv4Header
	csum   uint16
}{
	{"UDPWorkedExample", goldenIPv4UDP, wire.IPv4Header{
		TotalLen: 115,
		Flags:    wire.IPv4DontFragment,
		TTL:      64,
		Protocol: wire.ProtoUDP,
		Src:      wire.IPv4Addr{192, 168, 0, 1},
		Dst:      wire.IPv4Addr{192, 168, 0, 199},
	}, 0xb861},
	{"TCPSyn", goldenIPv4TCP, wire.IPv4Header{
		TotalLen: 64,
		ID:       0x1c46,
		Flags:    wire.IPv4DontFragment,
		TTL:      64,
		Protocol: wire.ProtoTCP,
		Src:      ipClient,
		Dst:      ipServer,
	}, 0x26e5},
	{"FirstFragment", goldenIPv4Frag, wire.IPv4Header{
		TotalLen:   1500,
		ID:         0xabcd,
		Flags:      wire.IPv4MoreFragments,
		FragOffset: 1480,
		TTL:        64,
		Protocol:   wire.ProtoUDP,
		Src:        wire.IPv4Addr{10, 0, 0, 1},
		Dst:        wire.IPv4Addr{10, 0, 0, 2},
	}, 0x9488},
	{"ICMPExpedited", goldenIPv4ICMP, wire.IPv4Header{
		TOS:      0xb8,
		TotalLen: 60,
		ID:       1,
		TTL:      128,
		Protocol: wire.ProtoICMP,
		Src:      ipGuest,
		Dst:      ipGateway,
	}, 0x21f8},
}

// TestIPv4GoldenChecksums checks the hand-written checksums against the
// independent reference sum, so the golden bytes do not rest on package wire.
func TestIPv4GoldenChecksums(t *testing.T) {
	for _, tt := range ipv4Tests {
		t.Run(tt.name, func(t *testing.T) {
			h := clone(tt.golden)
			h[10], h[11] = 0, 0
			if got := refChecksum(h); got != tt.csum {
				t.Errorf("reference checksum %#04x, golden says %#04x", got, tt.csum)
			}
			if got := be16(tt.golden, 10); got != tt.csum {
				t.Errorf("golden bytes hold %#04x, table says %#04x", got, tt.csum)
			}
		})
	}
	h := clone(goldenIPv4Options[:24])
	h[10], h[11] = 0, 0
	if got := refChecksum(h); got != 0x424f {
		t.Errorf("options header: reference checksum %#04x, want 0x424f", got)
	}
}

func TestIPv4HeaderEncodeGolden(t *testing.T) {
	for _, tt := range ipv4Tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := filled(wire.IPv4MinHeaderLen + slack)
			tt.h.Encode(wire.IPv4(buf))
			checkEncoded(t, buf, tt.golden)
		})
	}
}

func TestIPv4Decode(t *testing.T) {
	for _, tt := range ipv4Tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte{0x5a}, tt.h.TotalLen-wire.IPv4MinHeaderLen)
			ip, err := wire.ParseIPv4(cat(tt.golden, payload))
			if err != nil {
				t.Fatalf("ParseIPv4: %v", err)
			}
			checkIPv4Fields(t, ip, tt.h)
			if got := ip.HeaderLen(); got != 20 {
				t.Errorf("HeaderLen = %d, want 20", got)
			}
			if got := ip.Checksum(); got != tt.csum {
				t.Errorf("Checksum = %#04x, want %#04x", got, tt.csum)
			}
			if !ip.IsChecksumValid() {
				t.Error("IsChecksumValid = false on a golden header")
			}
			if got := ip.Options(); len(got) != 0 {
				t.Errorf("Options = % x, want none", got)
			}
			if got := ip.Payload(); !bytes.Equal(got, payload) {
				t.Errorf("Payload: %d bytes, want %d", len(got), len(payload))
			}
			wantFrag := tt.h.Flags&wire.IPv4MoreFragments != 0 || tt.h.FragOffset != 0
			if got := ip.IsFragment(); got != wantFrag {
				t.Errorf("IsFragment = %v, want %v", got, wantFrag)
			}
		})
	}
}

// checkIPv4Fields compares every field of ip that IPv4Header carries.
func checkIPv4Fields(t *testing.T, ip wire.IPv4, h wire.IPv4Header) {
	t.Helper()
	if got := ip.TOS(); got != h.TOS {
		t.Errorf("TOS = %#02x, want %#02x", got, h.TOS)
	}
	if got := ip.TotalLen(); got != h.TotalLen {
		t.Errorf("TotalLen = %d, want %d", got, h.TotalLen)
	}
	if got := ip.ID(); got != h.ID {
		t.Errorf("ID = %#04x, want %#04x", got, h.ID)
	}
	if got := ip.Flags(); got != h.Flags {
		t.Errorf("Flags = %03b, want %03b", got, h.Flags)
	}
	if got := ip.FragOffset(); got != h.FragOffset {
		t.Errorf("FragOffset = %d, want %d", got, h.FragOffset)
	}
	if got := ip.TTL(); got != h.TTL {
		t.Errorf("TTL = %d, want %d", got, h.TTL)
	}
	if got := ip.Protocol(); got != h.Protocol {
		t.Errorf("Protocol = %v, want %v", got, h.Protocol)
	}
	if got := ip.Src(); got != h.Src {
		t.Errorf("Src = %v, want %v", got, h.Src)
	}
	if got := ip.Dst(); got != h.Dst {
		t.Errorf("Dst = %v, want %v", got, h.Dst)
	}
}

func TestIPv4DecodeOptions(t *testing.T) {
	ip, err := wire.ParseIPv4(goldenIPv4Options)
	if err != nil {
		t.Fatalf("ParseIPv4: %v", err)
	}
	checkIPv4Fields(t, ip, wire.IPv4Header{
		TOS:      0xc0,
		TotalLen: 32,
		Flags:    wire.IPv4DontFragment,
		TTL:      1,
		Protocol: 2,
		Src:      ipClient,
		Dst:      wire.IPv4Addr{224, 0, 0, 22},
	})
	if got := ip.HeaderLen(); got != 24 {
		t.Errorf("HeaderLen = %d, want 24", got)
	}
	if got, want := ip.Options(), unhex("94 04 00 00"); !bytes.Equal(got, want) {
		t.Errorf("Options = % x, want % x", got, want)
	}
	if got, want := ip.Payload(), goldenIPv4Options[24:]; !bytes.Equal(got, want) {
		t.Errorf("Payload = % x, want % x", got, want)
	}
	if !ip.IsChecksumValid() {
		t.Error("IsChecksumValid = false; the checksum covers the options")
	}
	bad := clone(goldenIPv4Options)
	bad[22] = 0x01 // change the option, not the checksum
	if wire.IPv4(bad).IsChecksumValid() {
		t.Error("IsChecksumValid = true after an option byte changed")
	}
}

func TestIPv4FlagBits(t *testing.T) {
	tests := []struct {
		name   string
		word   uint16
		flags  wire.IPv4Flags
		off    int
		isFrag bool
	}{
		{"None", 0x0000, 0, 0, false},
		{"DontFragment", 0x4000, wire.IPv4DontFragment, 0, false},
		{"MoreFragments", 0x2000, wire.IPv4MoreFragments, 0, true},
		{"LastFragment", 0x00b9, 0, 1480, true},
		{"MiddleFragment", 0x20b9, wire.IPv4MoreFragments, 1480, true},
		{"ReservedBit", 0x8000, wire.IPv4Reserved, 0, false},
		{"MaxOffset", 0x1fff, 0, 0x1fff * 8, true},
		{"AllBits", 0xffff, 7, 0x1fff * 8, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := clone(goldenIPv4UDP)
			b[6], b[7] = byte(tt.word>>8), byte(tt.word)
			ip := wire.IPv4(b)
			if got := ip.Flags(); got != tt.flags {
				t.Errorf("Flags = %03b, want %03b", got, tt.flags)
			}
			if got := ip.FragOffset(); got != tt.off {
				t.Errorf("FragOffset = %d, want %d", got, tt.off)
			}
			if got := ip.IsFragment(); got != tt.isFrag {
				t.Errorf("IsFragment = %v, want %v", got, tt.isFrag)
			}
			// The encoder writes the same word back.
			h := wire.IPv4Header{Flags: tt.flags, FragOffset: tt.off}
			out := make([]byte, wire.IPv4MinHeaderLen)
			h.Encode(out)
			if got := be16(out, 6); got != tt.word {
				t.Errorf("encoded flags/offset %#04x, want %#04x", got, tt.word)
			}
		})
	}
}

func TestIPv4Setters(t *testing.T) {
	ip := wire.IPv4(clone(goldenIPv4TCP))
	ip.SetTTL(1)
	ip.SetSrc(ipGuest)
	ip.SetDst(ipGateway)
	ip.SetTotalLen(40)
	if ip.IsChecksumValid() {
		t.Fatal("IsChecksumValid = true after setters that do not update it")
	}
	ip.UpdateChecksum()
	want := unhex(`
		45 00 00 28 1c 46 40 00
		01 06 00 00 // TTL 1, TCP, checksum patched in below
		0a 00 02 0f 0a 00 02 02
	`)
	c := refChecksum(want)
	want[10], want[11] = byte(c>>8), byte(c)
	if !bytes.Equal(ip, want) {
		t.Errorf("got  % x\nwant % x", []byte(ip), want)
	}
	if !ip.IsChecksumValid() {
		t.Error("IsChecksumValid = false after UpdateChecksum")
	}
	ip.SetChecksum(0xbeef)
	if got := ip.Checksum(); got != 0xbeef {
		t.Errorf("Checksum after SetChecksum = %#04x", got)
	}
}

// A router decrementing TTL patches the checksum incrementally (RFC 1624);
// the result must equal a full recomputation.
func TestIPv4TTLDecrementIncrementalChecksum(t *testing.T) {
	for _, tt := range ipv4Tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := wire.IPv4(clone(tt.golden))
			old := be16(ip, 8)
			ip.SetTTL(ip.TTL() - 1)
			inc := wire.UpdateChecksum16(ip.Checksum(), old, be16(ip, 8))
			ip.UpdateChecksum()
			if inc != ip.Checksum() {
				t.Errorf("incremental %#04x, full %#04x", inc, ip.Checksum())
			}
		})
	}
}

// RFC 1122 §3.2.1.1: "A datagram whose version number is not 4 MUST be
// silently discarded."
func TestRFC1122_3_2_1_1_DiscardVersionNot4(t *testing.T) {
	for _, v := range []byte{0, 1, 5, 6, 15} {
		b := clone(goldenIPv4UDP)
		b[0] = v<<4 | 5
		if _, err := wire.ParseIPv4(b); err != wire.ErrBadVersion {
			t.Errorf("version %d: %v, want ErrBadVersion", v, err)
		}
	}
}

// RFC 791 §3.1: the minimum value of the Internet Header Length is 5.
func TestRFC791_3_1_IHLMinimumFive(t *testing.T) {
	for ihl := range byte(5) {
		b := cat(goldenIPv4UDP, make([]byte, 95))
		b[0] = 0x40 | ihl
		if _, err := wire.ParseIPv4(b); err != wire.ErrBadHeaderLen {
			t.Errorf("IHL %d: %v, want ErrBadHeaderLen", ihl, err)
		}
	}
}

func TestParseIPv4HeaderLenBeyondData(t *testing.T) {
	b := cat(goldenIPv4UDP, make([]byte, 12)) // 32 bytes; IHL 9 needs 36
	b[0] = 0x49
	b[2], b[3] = 0, 32
	if _, err := wire.ParseIPv4(b); err != wire.ErrBadHeaderLen {
		t.Errorf("IHL 9 in 32 bytes: %v, want ErrBadHeaderLen", err)
	}
	b[0] = 0x48 // 32-byte header: fits exactly
	if _, err := wire.ParseIPv4(b); err != nil {
		t.Errorf("IHL 8 in 32 bytes: %v, want nil", err)
	}
}

// RFC 791 §3.1: Total Length is the length of the datagram, header included,
// so it cannot be less than the header length.
func TestRFC791_3_1_TotalLengthBelowHeaderLength(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		tl   uint16
	}{
		{"Zero", goldenIPv4UDP, 0},
		{"19WithIHL5", goldenIPv4UDP, 19},
		{"23WithIHL6", goldenIPv4Options, 23},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := clone(tt.in)
			b[2], b[3] = byte(tt.tl>>8), byte(tt.tl)
			if _, err := wire.ParseIPv4(b); err != wire.ErrBadLength {
				t.Errorf("%v, want ErrBadLength", err)
			}
		})
	}
}

func TestParseIPv4Truncated(t *testing.T) {
	full := cat(goldenIPv4UDP, make([]byte, 115-20))
	for _, n := range []int{0, 1, 19} {
		if _, err := wire.ParseIPv4(full[:n]); err != wire.ErrTruncated {
			t.Errorf("%d bytes: %v, want ErrTruncated", n, err)
		}
	}
	// Total length 115 but one byte missing.
	if _, err := wire.ParseIPv4(full[:114]); err != wire.ErrTruncated {
		t.Errorf("114 of 115 bytes: %v, want ErrTruncated", err)
	}
	// Header only, total length equal to header length: a valid empty datagram.
	b := clone(goldenIPv4UDP)
	b[2], b[3] = 0, 20
	ip, err := wire.ParseIPv4(b)
	if err != nil || len(ip.Payload()) != 0 {
		t.Errorf("empty datagram: %v, payload %d bytes", err, len(ip.Payload()))
	}
}

// A short datagram arrives in a minimum-size Ethernet frame with padding
// after it (RFC 894); the view must stop at Total Length.
func TestParseIPv4TrimsLinkPadding(t *testing.T) {
	b := clone(goldenIPv4Options) // 32 bytes
	frame := cat(b, make([]byte, wire.EthernetMinFrame-wire.EthernetHeaderLen-len(b)))
	ip, err := wire.ParseIPv4(frame)
	if err != nil {
		t.Fatalf("ParseIPv4: %v", err)
	}
	if len(ip) != 32 || len(ip.Payload()) != 8 {
		t.Errorf("view %d bytes, payload %d; want 32, 8", len(ip), len(ip.Payload()))
	}
}

func TestIPProtoString(t *testing.T) {
	tests := []struct {
		in   wire.IPProto
		want string
	}{
		{wire.ProtoICMP, "ICMP"},
		{wire.ProtoTCP, "TCP"},
		{wire.ProtoUDP, "UDP"},
		{2, "0x0002"},
		{255, "0x00ff"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("IPProto(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
}

// An ICMP error quotes the offending datagram's header and only its first 8
// bytes of data (RFC 792); ParseIPv4Header accepts the quote that ParseIPv4
// must refuse.
func TestParseIPv4HeaderAcceptsICMPQuote(t *testing.T) {
	quote := goldenICMPFragNeeded[wire.ICMPv4HeaderLen:]
	if _, err := wire.ParseIPv4(quote); err != wire.ErrTruncated {
		t.Errorf("ParseIPv4(quote) = %v, want ErrTruncated", err)
	}
	ip, err := wire.ParseIPv4Header(quote)
	if err != nil {
		t.Fatalf("ParseIPv4Header: %v", err)
	}
	checkIPv4Fields(t, ip, wire.IPv4Header{
		TotalLen: 1500,
		ID:       0x1234,
		Flags:    wire.IPv4DontFragment,
		TTL:      63,
		Protocol: wire.ProtoUDP,
		Src:      wire.IPv4Addr{10, 0, 0, 1},
		Dst:      wire.IPv4Addr{192, 0, 2, 1},
	})
	if got, want := ip.Payload(), unhex("d4 31 00 35 05 c8 00 00"); !bytes.Equal(got, want) {
		t.Errorf("Payload = % x, want % x", got, want)
	}
	if !ip.IsChecksumValid() {
		t.Error("IsChecksumValid = false on the quoted header")
	}
}

func TestParseIPv4HeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"Truncated", goldenIPv4UDP[:19], wire.ErrTruncated},
		{"Version6", cat([]byte{0x65}, goldenIPv4UDP[1:]), wire.ErrBadVersion},
		{"IHL4", cat([]byte{0x44}, goldenIPv4UDP[1:]), wire.ErrBadHeaderLen},
		{"IHL6In20Bytes", cat([]byte{0x46}, goldenIPv4UDP[1:]), wire.ErrBadHeaderLen},
		// Total length is not checked: below the header length is accepted.
		{"TotalLenZero", cat(goldenIPv4UDP[:2], []byte{0, 0}, goldenIPv4UDP[4:]), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wire.ParseIPv4Header(tt.in); err != tt.want {
				t.Errorf("ParseIPv4Header = %v, want %v", err, tt.want)
			}
		})
	}
}
