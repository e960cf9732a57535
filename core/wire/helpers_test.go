package wire_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// unhex decodes hex written for people: whitespace is ignored and "//" starts
// a comment that runs to the end of the line. It panics on bad input, since
// every input is a constant in these files.
func unhex(s string) []byte {
	var sb strings.Builder
	for line := range strings.Lines(s) {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		panic("unhex: " + err.Error())
	}
	return b
}

// cat concatenates byte slices into a new slice.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// clone returns a private copy of b, so a test can modify it.
func clone(b []byte) []byte { return append([]byte(nil), b...) }

// marker fills the buffers encoders write into: any byte an encoder fails to
// write, or writes beyond its header, shows up as 0xA5.
const marker = 0xA5

// filled returns n bytes of marker.
func filled(n int) []byte { return bytes.Repeat([]byte{marker}, n) }

// slack is how many marker bytes follow the header in an encode buffer.
const slack = 8

// checkEncoded reports the first difference between buf[:len(want)] and want,
// and any byte after it that is no longer the marker.
func checkEncoded(t *testing.T, buf, want []byte) {
	t.Helper()
	got := buf[:len(want)]
	if !bytes.Equal(got, want) {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("byte %d: got %#02x, want %#02x\ngot  % x\nwant % x", i, got[i], want[i], got, want)
				break
			}
		}
	}
	for i := len(want); i < len(buf); i++ {
		if buf[i] != marker {
			t.Errorf("byte %d past the header was written: %#02x", i, buf[i])
		}
	}
}

// refChecksum is an independent RFC 1071 checksum used to verify the golden
// checksums: the concatenation of parts as big-endian 16-bit words (an odd
// last byte padded with zero), summed in 64 bits, folded once at the end and
// complemented. It shares no code with package wire.
func refChecksum(parts ...[]byte) uint16 {
	b := cat(parts...)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	var s uint64
	for i := 0; i < len(b); i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// pseudoHeader returns the 12-byte IPv4 pseudo-header of RFC 768 and RFC 9293
// §3.1 written out byte by byte.
func pseudoHeader(src, dst [4]byte, proto uint8, length int) []byte {
	return []byte{
		src[0], src[1], src[2], src[3],
		dst[0], dst[1], dst[2], dst[3],
		0, proto,
		byte(length >> 8), byte(length),
	}
}

// be16 returns the big-endian 16-bit word at b[i:].
func be16(b []byte, i int) uint16 { return uint16(b[i])<<8 | uint16(b[i+1]) }

// mustPanic reports an error unless f panics.
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}
