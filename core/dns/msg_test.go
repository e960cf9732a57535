package dns

import (
	"bytes"
	"strings"
	"testing"
)

// Hand-built per RFC 1035 §4.1 (facts/apps.md §9.1): a query for
// example.com A, ID 0x1234, RD set (29 bytes), and its answer with the
// owner name compressed to c0 0c, TTL 300, 192.0.2.1 (45 bytes).
const (
	goldenQuery = `12 34 01 00 00 01 00 00 00 00 00 00
		07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01`
	goldenResponse = `12 34 81 80 00 01 00 01 00 00 00 00
		07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01
		c0 0c 00 01 00 01 00 00 01 2c 00 04 c0 00 02 01`
)

// RFC 1035 §4.1.1, §4.1.2: the query, into a buffer with junk capacity.
func TestRFC1035_4_1_EncodeQueryGolden(t *testing.T) {
	want := unhex(t, goldenQuery)
	junk := bytes.Repeat([]byte{0xa5}, 64)
	got, err := AppendQuery(junk[:0], 0x1234, "example.com", TypeA)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("query %x (%v), want %x", got, err, want)
	}
	// A final dot changes nothing (the root label is implicit).
	got, _ = AppendQuery(nil, 0x1234, "example.com.", TypeA)
	if !bytes.Equal(got, want) {
		t.Fatalf("with final dot: %x", got)
	}
}

// The resolver sends exactly the golden query, ID aside.
func TestResolverQueryMatchesGolden(t *testing.T) {
	h := newHarness(t, Config{})
	h.lookup("example.com")
	q := h.take()
	want := unhex(t, goldenQuery)
	copy(want, q.msg[:2])
	if !bytes.Equal(q.msg, want) {
		t.Fatalf("sent %x, want %x", []byte(q.msg), want)
	}
}

// RFC 1035 §4.1.3, §4.1.4: every field of the golden response.
func TestRFC1035_4_1_3_DecodeResponseGolden(t *testing.T) {
	m, err := ParseMessage(unhex(t, goldenResponse))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID() != 0x1234 || !m.IsResponse() || m.Opcode() != 0 || m.IsTruncated() || m.RCode() != RCodeNoError ||
		m.Flags() != FlagQR|FlagRD|FlagRA || m.QDCount() != 1 || m.ANCount() != 1 || m.NSCount() != 0 || m.ARCount() != 0 {
		t.Fatalf("header %x", []byte(m[:12]))
	}
	var q Question
	off, err := ReadQuestion(m, HeaderLen, make([]byte, 0, MaxNameLen), &q)
	if err != nil || off != 29 || q.Type != TypeA || q.Class != ClassIN || !bytes.Equal(q.Name, []byte("\x07example\x03com\x00")) {
		t.Fatalf("question %+v off %d err %v", q, off, err)
	}
	var rr RR
	end, err := ReadRR(m, off, make([]byte, 0, MaxNameLen), &rr)
	if err != nil || end != len(m) {
		t.Fatalf("RR end %d err %v", end, err)
	}
	if !EqualNames(rr.Name, q.Name) || rr.Type != TypeA || rr.Class != ClassIN || rr.TTL != 300 ||
		!bytes.Equal(rr.Data, []byte{192, 0, 2, 1}) || rr.DataOff != 41 {
		t.Fatalf("RR %+v", rr)
	}
}

// RFC 1035 §4.1.4's example: F.ISI.ARPA at offset 20, FOO.F.ISI.ARPA at 40
// as "3 FOO" and a pointer to 20, ARPA at 64 as a pointer to 26, and the
// root at 92.
func TestRFC1035_4_1_4_CompressionExample(t *testing.T) {
	msg := make([]byte, 93)
	copy(msg[20:], "\x01F\x03ISI\x04ARPA\x00")
	copy(msg[40:], "\x03FOO\xc0\x14")
	copy(msg[64:], "\xc0\x1a")
	msg[92] = 0
	for _, tc := range []struct {
		off  int
		want string
		next int
	}{
		{20, "\x01F\x03ISI\x04ARPA\x00", 32},
		{40, "\x03FOO\x01F\x03ISI\x04ARPA\x00", 46},
		{64, "\x04ARPA\x00", 66},
		{92, "\x00", 93},
	} {
		name, next, err := ReadName(msg, tc.off, make([]byte, 0, MaxNameLen))
		if err != nil || string(name) != tc.want || next != tc.next {
			t.Fatalf("at %d: %q next %d err %v", tc.off, name, next, err)
		}
	}
}

// RFC 1035 §4.1.4 and §2.3.4: malformed names are refused, never looped
// over.
func TestRFC1035_4_1_4_MalformedNames(t *testing.T) {
	long := strings.Repeat("\x3f"+strings.Repeat("a", 63), 4) + "\x00" // 257 octets
	for _, tc := range []struct {
		name string
		msg  string
		off  int
		err  error
	}{
		{"pointer-to-itself", "\xc0\x00", 0, ErrPointer},
		{"pointer-forward", "\xc0\x02\x01a\x00", 0, ErrPointer},
		{"two-pointer-loop", "\x01a\xc0\x04\x01b\xc0\x00", 4, ErrPointer}, // 4 → 0 → "a" → 4
		{"pointer-into-own-labels", "\x01a\x01b\xc0\x02", 0, ErrPointer},
		{"label-type-01", "\x40" + strings.Repeat("a", 64) + "\x00", 0, ErrLabel},
		{"label-type-10", "\x80\x00", 0, ErrLabel},
		{"name-over-255", long, 0, ErrNameLen},
		{"name-over-255-via-pointers", long[:192] + "\x00" + "\x3f" + strings.Repeat("b", 63) + "\xc0\x00", 193, ErrNameLen},
		{"label-past-end", "\x05ab", 0, ErrShort},
		{"pointer-past-end", "\xc0", 0, ErrShort},
		{"no-terminator", "\x01a", 0, ErrShort},
		{"offset-past-end", "\x00", 1, ErrShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadName([]byte(tc.msg), tc.off, make([]byte, 0, MaxNameLen))
			if err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
		})
	}
	// The longest legal name decodes: 255 octets.
	ok := strings.Repeat("\x3f"+strings.Repeat("a", 63), 3) + "\x3d" + strings.Repeat("a", 61) + "\x00"
	if name, _, err := ReadName([]byte(ok), 0, nil); err != nil || len(name) != MaxNameLen {
		t.Fatalf("255-octet name: %d %v", len(name), err)
	}
}

func TestRFC1035_2_3_4_AppendName(t *testing.T) {
	l63, l64 := strings.Repeat("a", 63), strings.Repeat("a", 64)
	n253 := l63 + "." + l63 + "." + l63 + "." + strings.Repeat("a", 61)
	for _, tc := range []struct {
		in   string
		want string
		err  error
	}{
		{"a.b", "\x01a\x01b\x00", nil},
		{"a.b.", "\x01a\x01b\x00", nil},
		{"Mixed.Case", "\x05Mixed\x04Case\x00", nil},
		{"", "", ErrName},
		{".", "", ErrName},
		{"a..b", "", ErrName},
		{".a", "", ErrName},
		{"a..", "", ErrName},
		{l63 + ".x", "\x3f" + l63 + "\x01x\x00", nil},
		{l64 + ".x", "", ErrLabel},
		{n253, "", nil},
		{n253 + "a", "", ErrNameLen},
	} {
		got, err := AppendName([]byte("pre"), tc.in)
		if err != tc.err {
			t.Fatalf("%q: err %v, want %v", tc.in, err, tc.err)
		}
		if err != nil {
			if string(got) != "pre" {
				t.Fatalf("%q: buffer changed on error", tc.in)
			}
			continue
		}
		if tc.want != "" && string(got[3:]) != tc.want {
			t.Fatalf("%q: %q", tc.in, got[3:])
		}
		if len(got)-3 > MaxNameLen {
			t.Fatalf("%q: %d octets", tc.in, len(got)-3)
		}
	}
}

func TestRFC4343_EqualNamesIgnoresASCIICase(t *testing.T) {
	a, _ := AppendName(nil, "WWW.Example.COM")
	b, _ := AppendName(nil, "www.example.com")
	c, _ := AppendName(nil, "www.example.co")
	if !EqualNames(a, b) || EqualNames(a, c) || EqualNames([]byte{1, 0xc1, 0}, []byte{1, 0xe1, 0}) {
		t.Fatal("EqualNames")
	}
}

// RFC 2181 §8: a TTL with the top bit set is treated as zero.
func TestRFC2181_8_TTLHighBit(t *testing.T) {
	rr := RR{TTL: 0x80000001}
	if rr.EffectiveTTL() != 0 {
		t.Fatal("high-bit TTL")
	}
	rr.TTL = 0x7fffffff
	if rr.EffectiveTTL() != 0x7fffffff {
		t.Fatal("largest TTL")
	}
}

func TestParseErrorsText(t *testing.T) {
	for e := ParseError(0); e <= ErrRDLength+1; e++ {
		if e.Error() == "" {
			t.Fatal("no text")
		}
	}
	if _, err := ParseMessage(make([]byte, 11)); err != ErrShort {
		t.Fatal("short header")
	}
}
