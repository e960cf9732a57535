package wire_test

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

var icmpTests = []struct {
	name     string
	golden   []byte
	h        wire.ICMPv4Header
	csum     uint16
	id, seq  uint16
	mtu      uint16
	isError  bool
	payloadN int
}{
	{"EchoRequest", goldenICMPEcho,
		wire.ICMPv4Header{Type: wire.ICMPv4Echo, Rest: 0x0001_0001},
		0x4d5a, 1, 1, 1, false, 32},
	{"FragNeeded", goldenICMPFragNeeded,
		wire.ICMPv4Header{Type: wire.ICMPv4DstUnreachable, Code: wire.ICMPv4FragNeeded, Rest: 1400},
		0x1d55, 0, 1400, 1400, true, 28},
}

func TestICMPv4GoldenChecksums(t *testing.T) {
	for _, tt := range icmpTests {
		t.Run(tt.name, func(t *testing.T) {
			m := clone(tt.golden)
			m[2], m[3] = 0, 0
			if got := refChecksum(m); got != tt.csum {
				t.Errorf("reference checksum %#04x, table says %#04x", got, tt.csum)
			}
		})
	}
	// The datagram quoted in the fragmentation-needed message is itself valid.
	if got := refChecksum(goldenICMPFragNeeded[8:28]); got != 0 {
		t.Errorf("quoted IPv4 header does not verify: %#04x", got)
	}
}

func TestICMPv4Decode(t *testing.T) {
	for _, tt := range icmpTests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wire.ParseICMPv4(tt.golden)
			if err != nil {
				t.Fatalf("ParseICMPv4: %v", err)
			}
			if got := m.Type(); got != tt.h.Type {
				t.Errorf("Type = %d, want %d", got, tt.h.Type)
			}
			if got := m.Code(); got != tt.h.Code {
				t.Errorf("Code = %d, want %d", got, tt.h.Code)
			}
			if got := m.Checksum(); got != tt.csum {
				t.Errorf("Checksum = %#04x, want %#04x", got, tt.csum)
			}
			if got := m.ID(); got != tt.id {
				t.Errorf("ID = %d, want %d", got, tt.id)
			}
			if got := m.Seq(); got != tt.seq {
				t.Errorf("Seq = %d, want %d", got, tt.seq)
			}
			if got := m.MTU(); got != tt.mtu {
				t.Errorf("MTU = %d, want %d", got, tt.mtu)
			}
			if got := m.Payload(); !bytes.Equal(got, tt.golden[8:]) || len(got) != tt.payloadN {
				t.Errorf("Payload: %d bytes, want %d", len(got), tt.payloadN)
			}
			if !m.IsChecksumValid() {
				t.Error("IsChecksumValid = false on a golden message")
			}
			if got := m.Type().IsError(); got != tt.isError {
				t.Errorf("Type().IsError() = %v, want %v", got, tt.isError)
			}
		})
	}
}

func TestICMPv4HeaderEncodeGolden(t *testing.T) {
	for _, tt := range icmpTests {
		t.Run(tt.name, func(t *testing.T) {
			want := clone(tt.golden[:wire.ICMPv4HeaderLen])
			want[2], want[3] = 0, 0 // Encode leaves the checksum zero
			buf := filled(wire.ICMPv4HeaderLen + slack)
			tt.h.Encode(wire.ICMPv4(buf))
			checkEncoded(t, buf, want)

			// With the payload in place, UpdateChecksum gives the golden message.
			m := wire.ICMPv4(cat(buf[:wire.ICMPv4HeaderLen], tt.golden[wire.ICMPv4HeaderLen:]))
			m.UpdateChecksum()
			if !bytes.Equal(m, tt.golden) {
				t.Errorf("after UpdateChecksum\ngot  % x\nwant % x", []byte(m), tt.golden)
			}
		})
	}
}

// RFC 792 / RFC 1122 §3.2.2.6: the echo reply is the request with the type
// changed to 0 and the checksum recomputed.
func TestICMPv4EchoToReply(t *testing.T) {
	m := wire.ICMPv4(clone(goldenICMPEcho))
	m.SetType(wire.ICMPv4EchoReply)
	if m.IsChecksumValid() {
		t.Fatal("IsChecksumValid = true after the type changed")
	}
	inc := wire.UpdateChecksum16(m.Checksum(), 0x0800, 0x0000)
	m.UpdateChecksum()
	if got := m.Checksum(); got != 0x555a {
		t.Errorf("reply checksum %#04x, want 0x555a", got)
	}
	if inc != m.Checksum() {
		t.Errorf("incremental checksum %#04x, full %#04x", inc, m.Checksum())
	}
	if !m.IsChecksumValid() || m.Type() != wire.ICMPv4EchoReply {
		t.Errorf("reply: type %d, valid %v", m.Type(), m.IsChecksumValid())
	}
	m.SetChecksum(0x1234)
	if got := m.Checksum(); got != 0x1234 {
		t.Errorf("Checksum after SetChecksum = %#04x", got)
	}
}

func TestICMPv4ChecksumCoversPayload(t *testing.T) {
	m := wire.ICMPv4(clone(goldenICMPEcho))
	m[len(m)-1] ^= 0x01
	if m.IsChecksumValid() {
		t.Error("IsChecksumValid = true after a payload byte changed")
	}
}

// RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result of
// receiving ... an ICMP error message"; IsError is how the stack tells.
func TestRFC1122_3_2_2_ICMPErrorTypes(t *testing.T) {
	errorTypes := map[wire.ICMPv4Type]bool{
		wire.ICMPv4DstUnreachable: true,
		wire.ICMPv4SourceQuench:   true,
		wire.ICMPv4Redirect:       true,
		wire.ICMPv4TimeExceeded:   true,
		wire.ICMPv4ParamProblem:   true,
	}
	for ty := range 256 {
		typ := wire.ICMPv4Type(ty)
		if got := typ.IsError(); got != errorTypes[typ] {
			t.Errorf("ICMPv4Type(%d).IsError() = %v, want %v", ty, got, errorTypes[typ])
		}
	}
}

func TestParseICMPv4Truncated(t *testing.T) {
	for n := range wire.ICMPv4HeaderLen {
		if _, err := wire.ParseICMPv4(goldenICMPEcho[:n]); err != wire.ErrTruncated {
			t.Errorf("%d bytes: %v, want ErrTruncated", n, err)
		}
	}
	m, err := wire.ParseICMPv4(goldenICMPEcho[:wire.ICMPv4HeaderLen])
	if err != nil || len(m.Payload()) != 0 {
		t.Errorf("header only: %v, payload %d bytes", err, len(m.Payload()))
	}
}
