package dhcp

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// unhex decodes hex with spaces and newlines; "zN" stands for N zero bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	for _, f := range strings.Fields(s) {
		if f[0] == 'z' {
			n := 0
			for _, c := range f[1:] {
				n = n*10 + int(c-'0')
			}
			out = append(out, make([]byte, n)...)
			continue
		}
		b, err := hex.DecodeString(f)
		if err != nil {
			t.Fatalf("bad hex %q", f)
		}
		out = append(out, b...)
	}
	return out
}

// goldenDiscover is a DHCPDISCOVER written out by hand from RFC 2131 §2
// (Figure 1) and RFC 2132: xid 0x3903f326, chaddr 02:00:00:00:00:01,
// options 53 (DISCOVER), 57 (1500), 55 (1 3 6 58 59), 12 ("box"), end,
// zero padding to 300 bytes.
const goldenDiscover = `
01 01 06 00  39 03 f3 26  0000 0000
00000000 00000000 00000000 00000000
020000000001 z10
z64
z128
63 82 53 63
35 01 01
39 02 05 dc
37 05 01 03 06 3a 3b
0c 03 62 6f 78
ff z40`

// RFC 2131 §2: the fixed part and options, encoded into a buffer full of
// 0xA5 so that every byte the encoder fails to write shows.
func TestRFC2131_2_EncodeDiscoverGolden(t *testing.T) {
	want := unhex(t, goldenDiscover)
	if len(want) != MinLen {
		t.Fatalf("golden is %d bytes", len(want))
	}
	buf := bytes.Repeat([]byte{0xa5}, MaxLen)
	h := Header{Op: OpRequest, XID: 0x3903f326, CHAddr: clientMAC}
	b := h.Encode(buf)
	b = AppendOptionByte(b, OptMsgType, uint8(Discover))
	b = AppendOptionUint16(b, OptMaxMsgSize, 1500)
	b = AppendOption(b, OptParamRequest, []byte{1, 3, 6, 58, 59})
	b = AppendOption(b, OptHostname, []byte("box"))
	b = AppendEnd(b, MinLen)
	if !bytes.Equal(b, want) {
		t.Fatalf("encoded\n%x\nwant\n%x", b, want)
	}
}

// The client's own DHCPDISCOVER is the golden message but for the xid.
func TestClientDiscoverMatchesGolden(t *testing.T) {
	h := newHarness(t, Config{Hostname: "box"})
	h.c.Start()
	h.poll()
	d := h.take(Discover)
	want := unhex(t, goldenDiscover)
	copy(want[offXID:], d.m[offXID:offXID+4])
	if !bytes.Equal(d.m, want) {
		t.Fatalf("sent\n%x\nwant\n%x", []byte(d.m), want)
	}
}

// goldenOffer is a DHCPOFFER as udhcpd sends it, by hand: xid 0x3903f326,
// yiaddr 192.168.1.100, siaddr 192.168.1.1, chaddr 02:00:00:00:00:01,
// message type OFFER, server 192.168.1.1, lease 86400, mask /24, router
// 192.168.1.1, DNS 192.168.1.1 and 8.8.8.8 and 9.9.9.9 (only two kept),
// hostname "lwgo", T1 43200, T2 75600, an unknown option 200, pad, end.
const goldenOffer = `
02 01 06 00  39 03 f3 26  0003 8000
00000000 c0a80164 c0a80101 00000000
020000000001 z10
z64
z128
63 82 53 63
35 01 02
36 04 c0 a8 01 01
33 04 00 01 51 80
01 04 ff ff ff 00
03 04 c0 a8 01 01
06 0c c0 a8 01 01 08 08 08 08 09 09 09 09
0c 04 6c 77 67 6f
3a 04 00 00 a8 c0
3b 04 00 01 27 50
c8 02 aa bb
00 00
ff`

// RFC 2131 §2 and RFC 2132: every field of a hand-written OFFER decodes.
func TestRFC2131_2_DecodeOfferGolden(t *testing.T) {
	m, err := Parse(unhex(t, goldenOffer))
	if err != nil {
		t.Fatal(err)
	}
	if m.Op() != OpReply || m.HType() != 1 || m.HLen() != 6 || m.Hops() != 0 || m.XID() != 0x3903f326 ||
		m.Secs() != 3 || m.Flags() != FlagBroadcast || m.CIAddr() != (wire.IPv4Addr{}) ||
		m.YIAddr() != (wire.IPv4Addr{192, 168, 1, 100}) || m.SIAddr() != (wire.IPv4Addr{192, 168, 1, 1}) ||
		m.GIAddr() != (wire.IPv4Addr{}) || m.CHAddrMAC() != clientMAC {
		t.Fatalf("header % x", []byte(m[:44]))
	}
	var o Options
	if err := m.ParseOptions(&o); err != nil {
		t.Fatal(err)
	}
	gw := wire.IPv4Addr{192, 168, 1, 1}
	if o.Type != Offer || o.ServerID != gw || o.LeaseTime != 86400 || o.SubnetMask != (wire.IPv4Addr{255, 255, 255, 0}) ||
		o.Router != gw || o.NumDNS != 2 || o.DNS[0] != gw || o.DNS[1] != (wire.IPv4Addr{8, 8, 8, 8}) ||
		string(o.Hostname) != "lwgo" || o.T1 != 43200 || o.T2 != 75600 || o.Overload != 0 {
		t.Fatalf("options %+v", o)
	}
	for _, c := range []uint8{OptMsgType, OptServerID, OptLeaseTime, OptSubnetMask, OptRouter, OptDNS, OptHostname, OptT1, OptT2} {
		if !o.Has(c) {
			t.Fatalf("option %d not marked present", c)
		}
	}
	if o.Has(OptRequestedIP) || o.Has(OptOverload) || o.Has(200) {
		t.Fatalf("absent options marked present")
	}
}

// Malformed options are refused; lenient cases are accepted.
func TestRFC2132_ParseOptionsTable(t *testing.T) {
	base := unhex(t, goldenOffer)[:offOptions]
	for _, tc := range []struct {
		name string
		opts string
		err  error
	}{
		{"empty", "", nil},
		{"only-pad", "00 00 00", nil},
		{"no-end", "35 01 05", nil},
		{"after-end-ignored", "35 01 05 ff 36 09", nil},
		{"length-overrun", "35 01 05 36 05 01 02 03 04", ErrOption},
		{"code-without-length", "35 01 05 36", ErrOption},
		{"msgtype-len-2", "35 02 05 05", ErrOption},
		{"msgtype-0", "35 01 00", ErrOption},
		{"mask-len-3", "01 03 ff ff ff", ErrOption},
		{"router-len-6", "03 06 01 02 03 04 05 06", ErrOption},
		{"router-len-0", "03 00", ErrOption},
		{"dns-len-5", "06 05 01 02 03 04 05", ErrOption},
		{"lease-len-2", "33 02 00 01", ErrOption},
		{"server-len-5", "36 05 01 02 03 04 05", ErrOption},
		{"hostname-empty", "0c 00", ErrOption},
		{"overload-4", "34 01 04", ErrOption},
		{"overload-len-2", "34 02 01 01", ErrOption},
		{"maxsize-len-1", "39 01 05", ErrOption},
		{"unknown-skipped", "fe 03 01 02 03 35 01 05", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Message(append(bytes.Clone(base), unhex(t, tc.opts)...))
			var o Options
			if err := m.ParseOptions(&o); err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
		})
	}
}

// RFC 2132 §9.3: overloaded file and sname fields are parsed after the
// options field, file first; an option 52 inside them is ignored, and a
// malformed option there is refused.
func TestRFC2132_9_3_OverloadFields(t *testing.T) {
	m := Message(unhex(t, goldenOffer))
	opts := append(m[:offOptions:offOptions], unhex(t, "35 01 05 34 01 03 ff")...)
	m = Message(opts)
	copy(m.File(), unhex(t, "33 04 00 00 00 0a 34 01 01 ff"))
	copy(m.SName(), unhex(t, "33 04 00 00 00 14 ff")) // sname after file: wins
	var o Options
	if err := m.ParseOptions(&o); err != nil {
		t.Fatal(err)
	}
	if o.Type != Ack || o.Overload != 3 || o.LeaseTime != 20 {
		t.Fatalf("options %+v", o)
	}
	copy(m.SName(), unhex(t, "33 09 00"))
	if err := m.ParseOptions(&o); err != ErrOption {
		t.Fatalf("bad sname option: %v", err)
	}
	// Without option 52 the fields are names, not options.
	m = Message(append(m[:offOptions:offOptions], unhex(t, "35 01 05 ff")...))
	copy(m.File(), unhex(t, "33 09 00"))
	if err := m.ParseOptions(&o); err != nil || o.Has(OptLeaseTime) {
		t.Fatalf("file parsed without overload: %v %+v", err, o)
	}
}

func TestRFC2131_3_ParseRefusesShortAndBOOTP(t *testing.T) {
	b := unhex(t, goldenOffer)
	if _, err := Parse(b[:HeaderLen-1]); err != ErrTruncated {
		t.Fatalf("short: %v", err)
	}
	b[offCookie+3] = 0
	if _, err := Parse(b); err != ErrCookie {
		t.Fatalf("bad cookie: %v", err)
	}
	for _, e := range []ParseError{ErrTruncated, ErrCookie, ErrOption, 0} {
		if e.Error() == "" {
			t.Fatalf("no text for %d", e)
		}
	}
	for typ := MsgType(0); typ <= Inform+1; typ++ {
		if typ.String() == "" {
			t.Fatal("no name")
		}
	}
	for st := Off; st <= Releasing+1; st++ {
		if st.String() == "" {
			t.Fatal("no name")
		}
	}
	for ev := Event(0); ev <= EventDeclined+1; ev++ {
		if ev.String() == "" {
			t.Fatal("no name")
		}
	}
}
