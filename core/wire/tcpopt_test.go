package wire_test

import (
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

func TestParseTCPOptions(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want wire.TCPOptions
	}{
		{"Empty", nil, wire.TCPOptions{}},
		{"LinuxSYN", unhex("02 04 05 b4 04 02 08 0a 00 9c 5e 42 00 00 00 00 01 03 03 07"),
			wire.TCPOptions{MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 0x009c5e42, HasWScale: true, WScale: 7}},
		{"WindowsSYN", unhex("02 04 05 b4 01 03 03 08 01 01 04 02"),
			wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 8, SACKPermitted: true}},
		{"MacOSSYN", unhex("02 04 05 b4 01 03 03 06 01 01 08 0a 3b 9a ca 00 00 00 00 00 04 02 00 00"),
			wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 6, HasTimestamps: true, TSVal: 1000000000, SACKPermitted: true}},
		{"NOPsOnly", unhex("01 01 01 01"), wire.TCPOptions{}},
		{"EOLOnly", unhex("00 00 00 00"), wire.TCPOptions{}},
		{"OneSACK", unhex("01 01 05 0a 00 00 03 e8 00 00 07 d0"),
			wire.TCPOptions{NumSACK: 1, SACK: [4]wire.SACKBlock{{1000, 2000}}}},
		{"FourSACK", unhex("01 01 05 22  00000001 00000002  00000003 00000004  00000005 00000006  fffffff0 00000010"),
			wire.TCPOptions{NumSACK: 4, SACK: [4]wire.SACKBlock{{1, 2}, {3, 4}, {5, 6}, {0xfffffff0, 0x10}}}},
		{"MSSZeroIsAbsent", unhex("02 04 00 00"), wire.TCPOptions{}},
		{"TimestampsAllOnes", unhex("08 0a ff ff ff ff ff ff ff ff"),
			wire.TCPOptions{HasTimestamps: true, TSVal: 0xffffffff, TSEcr: 0xffffffff}},
		// No padding after the last option: the walk ends at the end of b.
		{"NoTrailingPadding", unhex("03 03 02"), wire.TCPOptions{HasWScale: true, WScale: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o wire.TCPOptions
			if err := wire.ParseTCPOptions(tt.in, &o); err != nil {
				t.Fatalf("ParseTCPOptions: %v", err)
			}
			if o != tt.want {
				t.Errorf("\ngot  %+v\nwant %+v", o, tt.want)
			}
		})
	}
}

// ParseTCPOptions fills o from scratch: nothing from a previous segment
// survives.
func TestParseTCPOptionsResetsOutput(t *testing.T) {
	o := wire.TCPOptions{
		MSS: 9000, HasWScale: true, WScale: 3, SACKPermitted: true, HasTimestamps: true,
		TSVal: 1, TSEcr: 2, NumSACK: 4, SACK: allSACKs,
	}
	if err := wire.ParseTCPOptions(unhex("01 01 04 02"), &o); err != nil {
		t.Fatal(err)
	}
	if want := (wire.TCPOptions{SACKPermitted: true}); o != want {
		t.Errorf("\ngot  %+v\nwant %+v", o, want)
	}
	o = wire.TCPOptions{MSS: 1}
	if err := wire.ParseTCPOptions(unhex("02 03 00"), &o); err != wire.ErrBadOption {
		t.Fatalf("bad MSS: %v", err)
	}
	if o.MSS != 0 {
		t.Errorf("MSS %d survived a failed parse that reset o", o.MSS)
	}
}

// The doc promises "A repeated option keeps its last value"; for SACK that
// includes the block list, with no blocks left over from the first option.
func TestParseTCPOptionsRepeatedOptionLastWins(t *testing.T) {
	in := unhex(`
		02 04 05 b4  02 04 02 18         // MSS 1460, then MSS 536
		03 03 02     03 03 09            // WS 2, then WS 9
		01 01 05 1a  00000001 00000002 00000003 00000004 00000005 00000006 // 3 blocks
		01 01 05 0a  0000000a 0000000b   // then 1 block
	`)
	var o wire.TCPOptions
	if err := wire.ParseTCPOptions(in, &o); err != nil {
		t.Fatal(err)
	}
	want := wire.TCPOptions{MSS: 536, HasWScale: true, WScale: 9, NumSACK: 1, SACK: [4]wire.SACKBlock{{10, 11}}}
	if o != want {
		t.Errorf("\ngot  %+v\nwant %+v", o, want)
	}
}

// RFC 9293 §3.1 and §3.2: option kind 0 ends the option list; what follows is
// padding, even if it would not parse as options.
func TestRFC9293_3_2_EndOfOptionListStopsTheWalk(t *testing.T) {
	in := unhex("02 04 05 b4  00  02 07 ff ff")
	var o wire.TCPOptions
	if err := wire.ParseTCPOptions(in, &o); err != nil {
		t.Fatalf("ParseTCPOptions: %v", err)
	}
	if want := (wire.TCPOptions{MSS: 1460}); o != want {
		t.Errorf("\ngot  %+v\nwant %+v", o, want)
	}
}

// RFC 9293 §3.2, MUST-6: "A TCP implementation MUST ignore without error any
// TCP option it does not implement, assuming that the option has a length
// field."
func TestRFC9293_MUST6_UnknownOptionsIgnored(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"MD5Signature", unhex("13 12 00112233445566778899aabbccddeeff  02 04 05 b4 01 01")}, // RFC 2385
		{"MPTCPCapable", unhex("1e 0c 00 81 0123456789abcdef  02 04 05 b4")},                 // RFC 8684
		{"TCPFastOpenCookie", unhex("22 0a 0102030405060708  02 04 05 b4 01 01")},            // RFC 7413
		{"Experimental", unhex("fd 04 ab cd  02 04 05 b4")},                                  // RFC 6994
		{"EmptyUnknown", unhex("fe 02  02 04 05 b4 01 01")},                                  // length 2, no data
		{"UnknownAtEnd", unhex("02 04 05 b4  1b 08 00 00 00 00 00 00")},                      // RFC 4782 quick-start
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o wire.TCPOptions
			if err := wire.ParseTCPOptions(tt.in, &o); err != nil {
				t.Fatalf("ParseTCPOptions: %v", err)
			}
			if want := (wire.TCPOptions{MSS: 1460}); o != want {
				t.Errorf("\ngot  %+v\nwant %+v", o, want)
			}
		})
	}
}

// RFC 9293 §3.2, MUST-7: "A TCP implementation MUST be prepared to handle an
// illegal option length (e.g., zero)"; lwgo drops the segment.
func TestRFC9293_MUST7_IllegalOptionLength(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"UnknownLengthZero", unhex("1e 00 00 00")},
		{"UnknownLengthOne", unhex("1e 01 00 00")},
		{"MSSLengthZero", unhex("02 00 05 b4")},
		{"NoLengthByte", unhex("01 01 01 1e")},
		{"LengthPastEnd", unhex("1e 08 00 00")},
		{"MSSPastEnd", unhex("01 01 02 04 05")},
		{"TimestampsPastEnd", unhex("01 01 08 0a 00 00 00 00 00 00 00")},
		{"SACKPastEnd", unhex("01 01 05 0a 00 00 00 01 00 00 00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o wire.TCPOptions
			if err := wire.ParseTCPOptions(tt.in, &o); err != wire.ErrBadOption {
				t.Errorf("ParseTCPOptions(% x) = %v, want ErrBadOption", tt.in, err)
			}
		})
	}
}

// optionLengthTests checks that every length but the one a RFC fixes for an
// option kind is rejected with ErrBadOption, and the right one is accepted.
func optionLengthTests(t *testing.T, kind byte, ok func(n int) bool) {
	t.Helper()
	for n := 2; n <= 40; n++ {
		in := make([]byte, 40)
		in[0], in[1] = kind, byte(n)
		for i := 2; i < n; i++ {
			in[i] = 0x11 // nonzero data: a value of 0 would not show MSS
		}
		var o wire.TCPOptions
		err := wire.ParseTCPOptions(in, &o)
		if ok(n) && err != nil {
			t.Errorf("kind %d length %d: %v, want nil", kind, n, err)
		}
		if !ok(n) && err != wire.ErrBadOption {
			t.Errorf("kind %d length %d: %v, want ErrBadOption", kind, n, err)
		}
	}
}

// RFC 9293 §3.2: the MSS option has length 4.
func TestRFC9293_3_2_MSSOptionLength(t *testing.T) {
	optionLengthTests(t, 2, func(n int) bool { return n == 4 })
}

// RFC 7323 §2.2: the Window Scale option has length 3.
func TestRFC7323_WScaleOptionLength(t *testing.T) {
	optionLengthTests(t, 3, func(n int) bool { return n == 3 })
}

// RFC 7323 §3.2: the Timestamps option has length 10.
func TestRFC7323_TimestampsOptionLength(t *testing.T) {
	optionLengthTests(t, 8, func(n int) bool { return n == 10 })
}

// RFC 2018 §2: the SACK-Permitted option has length 2.
func TestRFC2018_SACKPermittedOptionLength(t *testing.T) {
	optionLengthTests(t, 4, func(n int) bool { return n == 2 })
}

// RFC 2018 §3: a SACK option is 2 bytes plus 8 per block, one to four blocks
// (lwgo accepts at most MaxSACKBlocks).
func TestRFC2018_SACKOptionLength(t *testing.T) {
	optionLengthTests(t, 5, func(n int) bool { return n >= 10 && n <= 34 && (n-2)%8 == 0 })
}

// RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt value
// larger than 14, the TCP SHOULD log the error but MUST use 14 instead of the
// specified value." The parser reports the value as received (the caller
// clamps it); the encoder never sends more than 14.
func TestRFC7323_2_3_WScaleAbove14(t *testing.T) {
	var o wire.TCPOptions
	if err := wire.ParseTCPOptions(unhex("01 03 03 0f"), &o); err != nil {
		t.Fatal(err)
	}
	if !o.HasWScale || o.WScale != 15 {
		t.Errorf("parsed WScale %v/%d, want true/15", o.HasWScale, o.WScale)
	}
	h := wire.TCPHeader{Options: o}
	buf := make([]byte, h.Len())
	h.Encode(buf)
	if got := buf[23]; got != wire.MaxWScale {
		t.Errorf("encoded shift %d, want %d", got, wire.MaxWScale)
	}
}

func TestTCPOptionsLen(t *testing.T) {
	tests := []struct {
		name string
		o    wire.TCPOptions
		want int
	}{
		{"None", wire.TCPOptions{}, 0},
		{"MSS", wire.TCPOptions{MSS: 1}, 4},
		{"SYN", wire.TCPOptions{MSS: 1460, HasWScale: true, SACKPermitted: true, HasTimestamps: true}, 24},
		{"TS", wire.TCPOptions{HasTimestamps: true}, 12},
		{"FourSACK", wire.TCPOptions{NumSACK: 4}, 36},
		{"TooManySACK", wire.TCPOptions{NumSACK: 9}, 36},
		{"TSFourSACK", wire.TCPOptions{HasTimestamps: true, NumSACK: 4}, 40},
		{"EverythingFourSACK", wire.TCPOptions{MSS: 1, HasWScale: true, SACKPermitted: true, HasTimestamps: true, NumSACK: 4}, 36},
		{"NegativeSACK", wire.TCPOptions{NumSACK: -3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Len(); got != tt.want {
				t.Errorf("Len = %d, want %d", got, tt.want)
			}
		})
	}
}
