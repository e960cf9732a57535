package wire

import "strconv"

// MAC is an IEEE 802 MAC-48 address. It is comparable and holds no pointer.
type MAC [6]byte

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsBroadcast reports whether m is ff:ff:ff:ff:ff:ff.
func (m MAC) IsBroadcast() bool { return m == BroadcastMAC }

// IsMulticast reports whether the group bit of m is set (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

const hexDigits = "0123456789abcdef"

// AppendTo appends m in the form 02:00:00:00:00:01 and returns the extended slice.
func (m MAC) AppendTo(b []byte) []byte {
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return b
}

// String returns m in the form 02:00:00:00:00:01.
func (m MAC) String() string { return string(m.AppendTo(make([]byte, 0, 17))) }

// IPv4Addr is an IPv4 address in network byte order. It is comparable and
// holds no pointer (unlike netip.Addr), so hot structures store it directly.
type IPv4Addr [4]byte

// Well-known IPv4 addresses.
var (
	IPv4Any       = IPv4Addr{}
	IPv4Broadcast = IPv4Addr{255, 255, 255, 255}
)

// IsUnspecified reports whether a is 0.0.0.0.
func (a IPv4Addr) IsUnspecified() bool { return a == IPv4Addr{} }

// IsBroadcast reports whether a is the limited broadcast 255.255.255.255.
func (a IPv4Addr) IsBroadcast() bool { return a == IPv4Broadcast }

// IsMulticast reports whether a is in 224.0.0.0/4.
func (a IPv4Addr) IsMulticast() bool { return a[0]&0xf0 == 0xe0 }

// IsLoopback reports whether a is in 127.0.0.0/8.
func (a IPv4Addr) IsLoopback() bool { return a[0] == 127 }

// IsClassE reports whether a is in 240.0.0.0/4 (reserved; broadcast included).
func (a IPv4Addr) IsClassE() bool { return a[0]&0xf0 == 0xf0 }

// Uint32 returns a as a host integer, most significant byte first.
func (a IPv4Addr) Uint32() uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

// IPv4FromUint32 is the inverse of IPv4Addr.Uint32.
func IPv4FromUint32(v uint32) IPv4Addr {
	return IPv4Addr{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// Mask returns a with the host bits of mask cleared.
func (a IPv4Addr) Mask(mask IPv4Addr) IPv4Addr {
	return IPv4Addr{a[0] & mask[0], a[1] & mask[1], a[2] & mask[2], a[3] & mask[3]}
}

// SameSubnet reports whether a and b agree on the bits of mask.
func (a IPv4Addr) SameSubnet(b, mask IPv4Addr) bool { return a.Mask(mask) == b.Mask(mask) }

// DirectedBroadcast returns the subnet-directed broadcast of a under mask.
func (a IPv4Addr) DirectedBroadcast(mask IPv4Addr) IPv4Addr {
	return IPv4Addr{a[0] | ^mask[0], a[1] | ^mask[1], a[2] | ^mask[2], a[3] | ^mask[3]}
}

// AppendTo appends a in dotted-quad form and returns the extended slice.
func (a IPv4Addr) AppendTo(b []byte) []byte {
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return b
}

// String returns a in dotted-quad form.
func (a IPv4Addr) String() string { return string(a.AppendTo(make([]byte, 0, 15))) }

// PrefixMask returns the netmask of a prefix length (0..32; larger values give /32).
func PrefixMask(bits int) IPv4Addr {
	if bits <= 0 {
		return IPv4Addr{}
	}
	if bits >= 32 {
		return IPv4Broadcast
	}
	return IPv4FromUint32(^uint32(0) << (32 - bits))
}
