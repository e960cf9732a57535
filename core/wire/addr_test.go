package wire_test

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

func TestMAC(t *testing.T) {
	tests := []struct {
		name                         string
		in                           wire.MAC
		str                          string
		broadcast, multicast, isZero bool
	}{
		{"Unicast", macGuest, "52:54:00:12:34:56", false, false, false},
		{"Broadcast", wire.BroadcastMAC, "ff:ff:ff:ff:ff:ff", true, true, false},
		{"IPv4Multicast", wire.MAC{0x01, 0x00, 0x5e, 0x00, 0x00, 0x16}, "01:00:5e:00:00:16", false, true, false},
		{"LocallyAdministered", wire.MAC{0x02, 0xab, 0xcd, 0xef, 0x01, 0x23}, "02:ab:cd:ef:01:23", false, false, false},
		{"Zero", wire.MAC{}, "00:00:00:00:00:00", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.str {
				t.Errorf("String = %q, want %q", got, tt.str)
			}
			if got := string(tt.in.AppendTo([]byte("mac="))); got != "mac="+tt.str {
				t.Errorf("AppendTo = %q, want %q", got, "mac="+tt.str)
			}
			if got := tt.in.IsBroadcast(); got != tt.broadcast {
				t.Errorf("IsBroadcast = %v, want %v", got, tt.broadcast)
			}
			if got := tt.in.IsMulticast(); got != tt.multicast {
				t.Errorf("IsMulticast = %v, want %v", got, tt.multicast)
			}
			if got := tt.in.IsZero(); got != tt.isZero {
				t.Errorf("IsZero = %v, want %v", got, tt.isZero)
			}
		})
	}
}

func TestIPv4Addr(t *testing.T) {
	tests := []struct {
		name                                                string
		in                                                  wire.IPv4Addr
		str                                                 string
		u32                                                 uint32
		unspecified, broadcast, multicast, loopback, classE bool
	}{
		{"Any", wire.IPv4Any, "0.0.0.0", 0, true, false, false, false, false},
		{"Private", ipGuest, "10.0.2.15", 0x0a00020f, false, false, false, false, false},
		{"Loopback", wire.IPv4Addr{127, 0, 0, 1}, "127.0.0.1", 0x7f000001, false, false, false, true, false},
		{"AllSystems", wire.IPv4Addr{224, 0, 0, 1}, "224.0.0.1", 0xe0000001, false, false, true, false, false},
		{"LastMulticast", wire.IPv4Addr{239, 255, 255, 255}, "239.255.255.255", 0xefffffff, false, false, true, false, false},
		{"ClassE", wire.IPv4Addr{240, 0, 0, 1}, "240.0.0.1", 0xf0000001, false, false, false, false, true},
		{"Broadcast", wire.IPv4Broadcast, "255.255.255.255", 0xffffffff, false, true, false, false, true},
		{"Public", ipServer, "93.184.216.34", 0x5db8d822, false, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.str {
				t.Errorf("String = %q, want %q", got, tt.str)
			}
			if got := netip.AddrFrom4(tt.in).String(); got != tt.str {
				t.Errorf("netip.AddrFrom4 = %q, want %q", got, tt.str)
			}
			if got := string(tt.in.AppendTo([]byte("ip="))); got != "ip="+tt.str {
				t.Errorf("AppendTo = %q", got)
			}
			if got := tt.in.Uint32(); got != tt.u32 {
				t.Errorf("Uint32 = %#08x, want %#08x", got, tt.u32)
			}
			if got := wire.IPv4FromUint32(tt.u32); got != tt.in {
				t.Errorf("IPv4FromUint32(%#08x) = %v, want %v", tt.u32, got, tt.in)
			}
			checks := []struct {
				what      string
				got, want bool
			}{
				{"IsUnspecified", tt.in.IsUnspecified(), tt.unspecified},
				{"IsBroadcast", tt.in.IsBroadcast(), tt.broadcast},
				{"IsMulticast", tt.in.IsMulticast(), tt.multicast},
				{"IsLoopback", tt.in.IsLoopback(), tt.loopback},
				{"IsClassE", tt.in.IsClassE(), tt.classE},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestPrefixMask(t *testing.T) {
	tests := []struct {
		bits int
		want wire.IPv4Addr
	}{
		{-1, wire.IPv4Addr{}},
		{0, wire.IPv4Addr{}},
		{1, wire.IPv4Addr{128, 0, 0, 0}},
		{8, wire.IPv4Addr{255, 0, 0, 0}},
		{20, wire.IPv4Addr{255, 255, 240, 0}},
		{24, wire.IPv4Addr{255, 255, 255, 0}},
		{31, wire.IPv4Addr{255, 255, 255, 254}},
		{32, wire.IPv4Broadcast},
		{33, wire.IPv4Broadcast},
	}
	for _, tt := range tests {
		if got := wire.PrefixMask(tt.bits); got != tt.want {
			t.Errorf("PrefixMask(%d) = %v, want %v", tt.bits, got, tt.want)
		}
	}
	// Cross-check against net/netip for every length.
	for bits := 0; bits <= 32; bits++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), bits).Masked()
		if got, want := wire.PrefixMask(bits), wire.IPv4Addr(p.Addr().As4()); got != want {
			t.Errorf("PrefixMask(%d) = %v, netip says %v", bits, got, want)
		}
	}
}

func TestIPv4AddrSubnet(t *testing.T) {
	mask := wire.PrefixMask(24)
	if got, want := ipGuest.Mask(mask), (wire.IPv4Addr{10, 0, 2, 0}); got != want {
		t.Errorf("Mask = %v, want %v", got, want)
	}
	if !ipGuest.SameSubnet(ipGateway, mask) {
		t.Errorf("%v and %v not in the same /24", ipGuest, ipGateway)
	}
	if ipGuest.SameSubnet(wire.IPv4Addr{10, 0, 3, 2}, mask) {
		t.Errorf("%v and 10.0.3.2 reported in the same /24", ipGuest)
	}
	if got, want := ipGuest.DirectedBroadcast(mask), (wire.IPv4Addr{10, 0, 2, 255}); got != want {
		t.Errorf("DirectedBroadcast /24 = %v, want %v", got, want)
	}
	if got, want := ipGuest.DirectedBroadcast(wire.PrefixMask(20)), (wire.IPv4Addr{10, 0, 15, 255}); got != want {
		t.Errorf("DirectedBroadcast /20 = %v, want %v", got, want)
	}
}
