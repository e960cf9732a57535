package wire_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

func TestTCPGoldenChecksums(t *testing.T) {
	tests := []struct {
		name     string
		seg      []byte
		src, dst wire.IPv4Addr
		csum     uint16
	}{
		{"LinuxSYN", goldenTCPLinuxSYN, ipClient, ipServer, 0x7fea},
		{"Data", goldenTCPData, ipClient, ipServer, 0x27ef},
		{"SACK", goldenTCPSACK, ipServer, ipClient, 0xbce4},
		{"EncodedSYN", goldenTCPSynEncoded, ipClient, ipServer, 0x383d},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := clone(tt.seg)
			seg[16], seg[17] = 0, 0
			ph := pseudoHeader(tt.src, tt.dst, 6, len(seg))
			if got := refChecksum(ph, seg); got != tt.csum {
				t.Errorf("reference checksum %#04x, table says %#04x", got, tt.csum)
			}
			// And package wire agrees.
			if got := wire.Fold(wire.Checksum(seg, wire.PseudoHeaderSum(tt.src, tt.dst, wire.ProtoTCP, len(seg)))); got != tt.csum {
				t.Errorf("wire checksum %#04x, want %#04x", got, tt.csum)
			}
		})
	}
}

func TestTCPDecode(t *testing.T) {
	tests := []struct {
		name                 string
		seg                  []byte
		src, dst             wire.IPv4Addr
		srcPort, dstPort     uint16
		seq, ack             wire.Seq
		hlen                 int
		flags                wire.TCPFlags
		window, csum, urgent uint16
		payload              []byte
		opts                 wire.TCPOptions
	}{
		{
			name: "LinuxSYN", seg: goldenTCPLinuxSYN, src: ipClient, dst: ipServer,
			srcPort: 49152, dstPort: 80, seq: 0x9a3b1c2d, hlen: 40, flags: wire.FlagSYN,
			window: 64240, csum: 0x7fea,
			opts: wire.TCPOptions{
				MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 0x009c5e42,
				HasWScale: true, WScale: 7,
			},
		},
		{
			name: "Data", seg: goldenTCPData, src: ipClient, dst: ipServer,
			srcPort: 49152, dstPort: 80, seq: 0x9a3b1c2e, ack: 0x4f3e2d1d, hlen: 32,
			flags: wire.FlagPSH | wire.FlagACK, window: 502, csum: 0x27ef,
			payload: []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
			opts:    wire.TCPOptions{HasTimestamps: true, TSVal: 0x009c5e6a, TSEcr: 0x8e1f2c3d},
		},
		{
			name: "SACK", seg: goldenTCPSACK, src: ipServer, dst: ipClient,
			srcPort: 80, dstPort: 49152, seq: 0x4f3e2d1d, ack: 0x9a3b1c53, hlen: 52,
			flags: wire.FlagACK, window: 501, csum: 0xbce4,
			opts: wire.TCPOptions{
				HasTimestamps: true, TSVal: 0x8e1f2d00, TSEcr: 0x009c5e6a,
				NumSACK: 2,
				SACK:    [4]wire.SACKBlock{{0x4f3e3d1d, 0x4f3e42cd}, {0x4f3e4d1d, 0x4f3e52cd}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := wire.ParseTCP(tt.seg)
			if err != nil {
				t.Fatalf("ParseTCP: %v", err)
			}
			if got := s.SrcPort(); got != tt.srcPort {
				t.Errorf("SrcPort = %d, want %d", got, tt.srcPort)
			}
			if got := s.DstPort(); got != tt.dstPort {
				t.Errorf("DstPort = %d, want %d", got, tt.dstPort)
			}
			if got := s.Seq(); got != tt.seq {
				t.Errorf("Seq = %#08x, want %#08x", got, tt.seq)
			}
			if got := s.Ack(); got != tt.ack {
				t.Errorf("Ack = %#08x, want %#08x", got, tt.ack)
			}
			if got := s.HeaderLen(); got != tt.hlen {
				t.Errorf("HeaderLen = %d, want %d", got, tt.hlen)
			}
			if got := s.Flags(); got != tt.flags {
				t.Errorf("Flags = %v, want %v", got, tt.flags)
			}
			if got := s.Window(); got != tt.window {
				t.Errorf("Window = %d, want %d", got, tt.window)
			}
			if got := s.Checksum(); got != tt.csum {
				t.Errorf("Checksum = %#04x, want %#04x", got, tt.csum)
			}
			if got := s.Urgent(); got != tt.urgent {
				t.Errorf("Urgent = %d, want %d", got, tt.urgent)
			}
			if got, want := s.Options(), tt.seg[20:tt.hlen]; !bytes.Equal(got, want) {
				t.Errorf("Options = % x, want % x", got, want)
			}
			if got := s.Payload(); !bytes.Equal(got, tt.payload) {
				t.Errorf("Payload = %q, want %q", got, tt.payload)
			}
			if !s.IsChecksumValid(tt.src, tt.dst) {
				t.Error("IsChecksumValid = false on a golden segment")
			}
			if s.IsChecksumValid(tt.src, ipGuest) {
				t.Error("IsChecksumValid = true with the wrong pseudo-header")
			}
			var o wire.TCPOptions
			if err := wire.ParseTCPOptions(s.Options(), &o); err != nil {
				t.Fatalf("ParseTCPOptions: %v", err)
			}
			if o != tt.opts {
				t.Errorf("options\ngot  %+v\nwant %+v", o, tt.opts)
			}
		})
	}
}

// tcpBase returns the fixed 20 bytes that every encoder case below shares,
// with its own data-offset/flags word and checksum zero: ports 49152 to 80,
// seq 0x12345678, ack 0x9abcdef0, window 0x2000, urgent urg.
func tcpBase(dataOffset int, flags byte, urg uint16) []byte {
	b := unhex(`
		c0 00 00 50
		12 34 56 78
		9a bc de f0
		00 00        // data offset and flags, set below
		20 00
		00 00
		00 00        // urgent, set below
	`)
	b[12] = byte(dataOffset/4) << 4
	b[13] = flags
	b[18], b[19] = byte(urg>>8), byte(urg)
	return b
}

var (
	sack1    = wire.SACKBlock{Left: 0x4f3e3d1d, Right: 0x4f3e42cd}
	sack2    = wire.SACKBlock{Left: 0x4f3e4d1d, Right: 0x4f3e52cd}
	sack3    = wire.SACKBlock{Left: 0x4f3e5d1d, Right: 0x4f3e62cd}
	sack4    = wire.SACKBlock{Left: 0x4f3e6d1d, Right: 0x4f3e72cd}
	allSACKs = [4]wire.SACKBlock{sack1, sack2, sack3, sack4}
)

// Hand-written option bytes for the encoder cases.
var (
	optMSS    = unhex("02 04 05 b4")                         // MSS 1460
	optWS     = unhex("01 03 03 07")                         // NOP, window scale 7
	optSP     = unhex("01 01 04 02")                         // NOP NOP SACK-permitted
	optTS     = unhex("01 01 08 0a 00 9c 5e 6a 8e 1f 2c 3d") // NOP NOP TS
	optSACKn  = [5][]byte{nil, unhex("01 01 05 0a"), unhex("01 01 05 12"), unhex("01 01 05 1a"), unhex("01 01 05 22")}
	optBlocks = unhex(`
		4f 3e 3d 1d 4f 3e 42 cd
		4f 3e 4d 1d 4f 3e 52 cd
		4f 3e 5d 1d 4f 3e 62 cd
		4f 3e 6d 1d 4f 3e 72 cd
	`)
)

func TestTCPHeaderEncodeGolden(t *testing.T) {
	base := wire.TCPHeader{SrcPort: 49152, DstPort: 80, Seq: 0x12345678, Ack: 0x9abcdef0, Flags: wire.FlagACK, Window: 0x2000}
	with := func(f func(h *wire.TCPHeader)) wire.TCPHeader {
		h := base
		f(&h)
		return h
	}
	ts := wire.TCPOptions{HasTimestamps: true, TSVal: 0x009c5e6a, TSEcr: 0x8e1f2c3d}
	tests := []struct {
		name string
		h    wire.TCPHeader
		want []byte
	}{
		{"NoOptions", base, tcpBase(20, 0x10, 0)},
		{"RSTACK", with(func(h *wire.TCPHeader) { h.Flags = wire.FlagRST | wire.FlagACK }), tcpBase(20, 0x14, 0)},
		{"FINACKZeroWindow", with(func(h *wire.TCPHeader) { h.Flags = wire.FlagFIN | wire.FlagACK; h.Window = 0 }),
			func() []byte { b := tcpBase(20, 0x11, 0); b[14], b[15] = 0, 0; return b }()},
		{"URGPSHACK", with(func(h *wire.TCPHeader) { h.Flags = wire.FlagURG | wire.FlagPSH | wire.FlagACK; h.Urgent = 0x10 }),
			tcpBase(20, 0x38, 0x10)},
		{"ECECWR", with(func(h *wire.TCPHeader) { h.Flags = wire.FlagSYN | wire.FlagECE | wire.FlagCWR }), tcpBase(20, 0xc2, 0)},
		{"MSSOnly", with(func(h *wire.TCPHeader) { h.Options.MSS = 1460 }),
			cat(tcpBase(24, 0x10, 0), unhex("02 04 05 b4"))},
		{"WScaleOnly", with(func(h *wire.TCPHeader) { h.Options.HasWScale = true; h.Options.WScale = 7 }),
			cat(tcpBase(24, 0x10, 0), unhex("01 03 03 07"))},
		{"WScaleZero", with(func(h *wire.TCPHeader) { h.Options.HasWScale = true }),
			cat(tcpBase(24, 0x10, 0), unhex("01 03 03 00"))},
		// RFC 7323 §2.3: a shift above 14 is never sent.
		{"WScaleClampedTo14", with(func(h *wire.TCPHeader) { h.Options.HasWScale = true; h.Options.WScale = 20 }),
			cat(tcpBase(24, 0x10, 0), unhex("01 03 03 0e"))},
		{"SACKPermittedOnly", with(func(h *wire.TCPHeader) { h.Options.SACKPermitted = true }),
			cat(tcpBase(24, 0x10, 0), unhex("01 01 04 02"))},
		{"TimestampsOnly", with(func(h *wire.TCPHeader) { h.Options = ts }),
			cat(tcpBase(32, 0x10, 0), unhex("01 01 08 0a  00 9c 5e 6a  8e 1f 2c 3d"))},
		{"MSSWScale", with(func(h *wire.TCPHeader) {
			h.Flags = wire.FlagSYN | wire.FlagACK
			h.Options = wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 8}
		}), cat(tcpBase(28, 0x12, 0), unhex("02 04 05 b4  01 03 03 08"))},
		{"MSSWScaleSACKPermitted", with(func(h *wire.TCPHeader) {
			h.Flags = wire.FlagSYN
			h.Options = wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 8, SACKPermitted: true}
		}), cat(tcpBase(32, 0x02, 0), unhex("02 04 05 b4  01 03 03 08  01 01 04 02"))},
		{"OneSACKBlock", with(func(h *wire.TCPHeader) { h.Options.NumSACK = 1; h.Options.SACK = allSACKs }),
			cat(tcpBase(32, 0x10, 0), unhex("01 01 05 0a  4f 3e 3d 1d 4f 3e 42 cd"))},
		{"FourSACKBlocks", with(func(h *wire.TCPHeader) { h.Options.NumSACK = 4; h.Options.SACK = allSACKs }),
			cat(tcpBase(56, 0x10, 0), unhex(`
				01 01 05 22
				4f 3e 3d 1d 4f 3e 42 cd
				4f 3e 4d 1d 4f 3e 52 cd
				4f 3e 5d 1d 4f 3e 62 cd
				4f 3e 6d 1d 4f 3e 72 cd`))},
		{"TimestampsOneSACK", with(func(h *wire.TCPHeader) { h.Options = ts; h.Options.NumSACK = 1; h.Options.SACK = allSACKs }),
			cat(tcpBase(44, 0x10, 0), unhex(`
				01 01 08 0a 00 9c 5e 6a 8e 1f 2c 3d
				01 01 05 0a 4f 3e 3d 1d 4f 3e 42 cd`))},
		// RFC 2018 §3: with timestamps, at most three blocks fit in 40 bytes.
		{"TimestampsThreeSACKFill40Bytes", with(func(h *wire.TCPHeader) { h.Options = ts; h.Options.NumSACK = 3; h.Options.SACK = allSACKs }),
			cat(tcpBase(60, 0x10, 0), unhex(`
				01 01 08 0a 00 9c 5e 6a 8e 1f 2c 3d
				01 01 05 1a
				4f 3e 3d 1d 4f 3e 42 cd
				4f 3e 4d 1d 4f 3e 52 cd
				4f 3e 5d 1d 4f 3e 62 cd`))},
		{"TimestampsFourSACKKeepsThree", with(func(h *wire.TCPHeader) { h.Options = ts; h.Options.NumSACK = 4; h.Options.SACK = allSACKs }),
			cat(tcpBase(60, 0x10, 0), unhex(`
				01 01 08 0a 00 9c 5e 6a 8e 1f 2c 3d
				01 01 05 1a
				4f 3e 3d 1d 4f 3e 42 cd
				4f 3e 4d 1d 4f 3e 52 cd
				4f 3e 5d 1d 4f 3e 62 cd`))},
		{"AllOptionsOneSACKFits", with(func(h *wire.TCPHeader) {
			h.Options = wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true,
				HasTimestamps: true, TSVal: 0x009c5e6a, TSEcr: 0x8e1f2c3d, NumSACK: 3, SACK: allSACKs}
		}), cat(tcpBase(56, 0x10, 0), unhex(`
				02 04 05 b4  01 03 03 07  01 01 04 02
				01 01 08 0a 00 9c 5e 6a 8e 1f 2c 3d
				01 01 05 0a 4f 3e 3d 1d 4f 3e 42 cd`))},
		{"MSSWScaleSACKPermittedThreeSACKFit40Bytes", with(func(h *wire.TCPHeader) {
			h.Options = wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true, NumSACK: 4, SACK: allSACKs}
		}), cat(tcpBase(60, 0x10, 0), unhex(`
				02 04 05 b4  01 03 03 07  01 01 04 02
				01 01 05 1a
				4f 3e 3d 1d 4f 3e 42 cd
				4f 3e 4d 1d 4f 3e 52 cd
				4f 3e 5d 1d 4f 3e 62 cd`))},
		{"NegativeNumSACKWritesNone", with(func(h *wire.TCPHeader) { h.Options.NumSACK = -1; h.Options.SACK = allSACKs }),
			tcpBase(20, 0x10, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Len(); got != len(tt.want) {
				t.Errorf("Len = %d, want %d", got, len(tt.want))
			}
			buf := filled(wire.TCPMaxHeaderLen + slack)
			tt.h.Encode(wire.TCP(buf))
			checkEncoded(t, buf, tt.want)
		})
	}
}

func TestTCPHeaderEncodeSYNGolden(t *testing.T) {
	h := synHeader
	if got := h.Len(); got != 44 {
		t.Errorf("Len = %d, want 44", got)
	}
	buf := filled(44 + slack)
	h.Encode(wire.TCP(buf))
	checkEncoded(t, buf, goldenTCPSynEncoded)

	seg := wire.TCP(buf[:44])
	c := wire.Fold(wire.Checksum(seg, wire.PseudoHeaderSum(ipClient, ipServer, wire.ProtoTCP, len(seg))))
	if c != 0x383d {
		t.Errorf("checksum %#04x, want 0x383d", c)
	}
	seg.SetChecksum(c)
	if !seg.IsChecksumValid(ipClient, ipServer) {
		t.Error("IsChecksumValid = false after SetChecksum")
	}
}

// TestTCPHeaderEncodeAllOptionCombinations encodes every combination of the
// five options (SACK with 0 to 4 blocks) and checks the bytes against the
// hand-written fragments above, laid out in the documented order with the
// 40-byte limit applied to SACK blocks (RFC 9293 §3.1: the data offset caps
// options at 40 bytes). It also decodes every result.
func TestTCPHeaderEncodeAllOptionCombinations(t *testing.T) {
	for mask := range 16 {
		for nsack := 0; nsack <= 4; nsack++ {
			mss, ws, sp, ts := mask&1 != 0, mask&2 != 0, mask&4 != 0, mask&8 != 0
			name := fmt.Sprintf("MSS=%v/WS=%v/SP=%v/TS=%v/SACK=%d", mss, ws, sp, ts, nsack)
			t.Run(name, func(t *testing.T) {
				h := wire.TCPHeader{SrcPort: 49152, DstPort: 80, Seq: 0x12345678, Ack: 0x9abcdef0, Flags: wire.FlagACK, Window: 0x2000}
				var want []byte
				if mss {
					h.Options.MSS = 1460
					want = append(want, optMSS...)
				}
				if ws {
					h.Options.HasWScale, h.Options.WScale = true, 7
					want = append(want, optWS...)
				}
				if sp {
					h.Options.SACKPermitted = true
					want = append(want, optSP...)
				}
				if ts {
					h.Options.HasTimestamps, h.Options.TSVal, h.Options.TSEcr = true, 0x009c5e6a, 0x8e1f2c3d
					want = append(want, optTS...)
				}
				h.Options.NumSACK, h.Options.SACK = nsack, allSACKs
				fit := nsack
				for fit > 0 && len(want)+4+8*fit > 40 {
					fit--
				}
				if fit > 0 {
					want = append(want, optSACKn[fit]...)
					want = append(want, optBlocks[:8*fit]...)
				}
				if len(want)%4 != 0 || len(want) > 40 {
					t.Fatalf("test bug: %d option bytes", len(want))
				}
				want = cat(tcpBase(20+len(want), 0x10, 0), want)

				if got := h.Len(); got != len(want) {
					t.Errorf("Len = %d, want %d", got, len(want))
				}
				if got := h.Options.Len(); got != len(want)-20 {
					t.Errorf("Options.Len = %d, want %d", got, len(want)-20)
				}
				buf := filled(wire.TCPMaxHeaderLen + slack)
				h.Encode(wire.TCP(buf))
				checkEncoded(t, buf, want)

				s, err := wire.ParseTCP(buf[:len(want)])
				if err != nil {
					t.Fatalf("ParseTCP: %v", err)
				}
				var o wire.TCPOptions
				if err := wire.ParseTCPOptions(s.Options(), &o); err != nil {
					t.Fatalf("ParseTCPOptions: %v", err)
				}
				wantOpts := h.Options
				wantOpts.NumSACK = fit
				wantOpts.SACK = [4]wire.SACKBlock{}
				copy(wantOpts.SACK[:], allSACKs[:fit])
				if o != wantOpts {
					t.Errorf("decoded options\ngot  %+v\nwant %+v", o, wantOpts)
				}
			})
		}
	}
}

func TestTCPFlags(t *testing.T) {
	tests := []struct {
		in   wire.TCPFlags
		want string
	}{
		{0, "[]"},
		{wire.FlagSYN, "[SYN]"},
		{wire.FlagSYN | wire.FlagACK, "[SYN,ACK]"},
		{wire.FlagFIN | wire.FlagPSH | wire.FlagACK, "[FIN,PSH,ACK]"},
		{wire.FlagRST, "[RST]"},
		{0xff, "[FIN,SYN,RST,PSH,ACK,URG,ECE,CWR]"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			if got := string(tt.in.AppendTo([]byte("f="))); got != "f="+tt.want {
				t.Errorf("AppendTo = %q", got)
			}
		})
	}
	// The bit values are fixed by RFC 9293 §3.1 and RFC 3168 §6.1.
	bits := []struct {
		f   wire.TCPFlags
		bit uint8
	}{
		{wire.FlagFIN, 0x01}, {wire.FlagSYN, 0x02}, {wire.FlagRST, 0x04}, {wire.FlagPSH, 0x08},
		{wire.FlagACK, 0x10}, {wire.FlagURG, 0x20}, {wire.FlagECE, 0x40}, {wire.FlagCWR, 0x80},
	}
	for _, b := range bits {
		if uint8(b.f) != b.bit {
			t.Errorf("%v = %#02x, want %#02x", b.f, uint8(b.f), b.bit)
		}
	}
	sa := wire.FlagSYN | wire.FlagACK
	if !sa.Has(wire.FlagSYN) || !sa.Has(sa) || sa.Has(wire.FlagSYN|wire.FlagFIN) {
		t.Error("Has: wrong result")
	}
	if !sa.HasAny(wire.FlagSYN|wire.FlagFIN) || sa.HasAny(wire.FlagFIN|wire.FlagRST) || sa.HasAny(0) {
		t.Error("HasAny: wrong result")
	}
	if !sa.Has(0) {
		t.Error("Has(0) = false; every set contains the empty set")
	}
}

// RFC 9293 §3.1: Data Offset is the header length in 32-bit words; the header
// is at least 20 bytes, so a value below 5 is malformed.
func TestRFC9293_3_1_DataOffsetBelowFive(t *testing.T) {
	for off := range byte(5) {
		seg := clone(goldenTCPData)
		seg[12] = off<<4 | seg[12]&0x0f
		if _, err := wire.ParseTCP(seg); err != wire.ErrBadHeaderLen {
			t.Errorf("data offset %d: %v, want ErrBadHeaderLen", off, err)
		}
	}
}

func TestParseTCPDataOffsetBeyondSegment(t *testing.T) {
	seg := clone(goldenTCPSACK[:48]) // data offset says 52
	if _, err := wire.ParseTCP(seg); err != wire.ErrBadHeaderLen {
		t.Errorf("52-byte header in 48 bytes: %v, want ErrBadHeaderLen", err)
	}
	seg = clone(goldenTCPSACK[:20])
	seg[12] = 0xf0 // 60-byte header in 20 bytes
	if _, err := wire.ParseTCP(seg); err != wire.ErrBadHeaderLen {
		t.Errorf("60-byte header in 20 bytes: %v, want ErrBadHeaderLen", err)
	}
	// Exactly fitting: no payload.
	s, err := wire.ParseTCP(goldenTCPSACK)
	if err != nil || len(s.Payload()) != 0 {
		t.Errorf("exact fit: %v, payload %d bytes", err, len(s.Payload()))
	}
}

func TestParseTCPTruncated(t *testing.T) {
	for n := range wire.TCPMinHeaderLen {
		if _, err := wire.ParseTCP(goldenTCPData[:n]); err != wire.ErrTruncated {
			t.Errorf("%d bytes: %v, want ErrTruncated", n, err)
		}
	}
}

// The low four bits of byte 12 are reserved (RFC 9293 §3.1); they change
// neither the header length nor the flags.
func TestTCPHeaderLenIgnoresReservedBits(t *testing.T) {
	seg := clone(goldenTCPData)
	seg[12] |= 0x0f
	s, err := wire.ParseTCP(seg)
	if err != nil || s.HeaderLen() != 32 || s.Flags() != wire.FlagPSH|wire.FlagACK {
		t.Errorf("ParseTCP: %v, header %d, flags %v", err, s.HeaderLen(), s.Flags())
	}
}

func TestTCPSetChecksum(t *testing.T) {
	s := wire.TCP(clone(goldenTCPData))
	s.SetChecksum(0)
	if s.IsChecksumValid(ipClient, ipServer) {
		t.Error("IsChecksumValid = true with a zero checksum")
	}
	s.SetChecksum(0x27ef)
	if !bytes.Equal(s, goldenTCPData) {
		t.Error("SetChecksum did not restore the golden bytes")
	}
	s[len(s)-1] ^= 0x20
	if s.IsChecksumValid(ipClient, ipServer) {
		t.Error("IsChecksumValid = true after a payload byte changed")
	}
}
