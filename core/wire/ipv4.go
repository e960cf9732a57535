package wire

import "encoding/binary"

// IPv4 header constants (RFC 791).
const (
	IPv4MinHeaderLen = 20
	IPv4MaxHeaderLen = 60
	IPv4MaxTotalLen  = 65535
	// IPv4MinMTU is the smallest MTU every link must carry, and the datagram
	// size every host must accept (RFC 791, RFC 1122 §3.3.2 EMTU_R ≥ 576).
	IPv4MinMTU = 68
)

// IPProto is the protocol field of an IPv4 header.
type IPProto uint8

// IPProto values.
const (
	ProtoICMP IPProto = 1
	ProtoTCP  IPProto = 6
	ProtoUDP  IPProto = 17
)

// String returns the protocol name or its number.
func (p IPProto) String() string {
	switch p {
	case ProtoICMP:
		return "ICMP"
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	}
	return string(appendHex16(make([]byte, 0, 6), uint16(p)))
}

// IPv4Flags are the flag bits of the flags/fragment-offset word.
type IPv4Flags uint8

// IPv4Flags values.
const (
	IPv4MoreFragments IPv4Flags = 1 << 0 // MF
	IPv4DontFragment  IPv4Flags = 1 << 1 // DF
	IPv4Reserved      IPv4Flags = 1 << 2 // evil bit; must be zero
)

const (
	offIPv4VerIHL   = 0
	offIPv4TOS      = 1
	offIPv4TotalLen = 2
	offIPv4ID       = 4
	offIPv4FlagsOff = 6
	offIPv4TTL      = 8
	offIPv4Proto    = 9
	offIPv4Csum     = 10
	offIPv4Src      = 12
	offIPv4Dst      = 16
)

// IPv4 is a view of an IPv4 datagram. A view from ParseIPv4 ends at the
// datagram's total length (link padding is cut off).
type IPv4 []byte

// ParseIPv4 checks the version, header length and total length of b and
// returns the datagram trimmed to its total length. It does not check the
// header checksum (see IsChecksumValid), because a device may have done so.
func ParseIPv4(b []byte) (IPv4, error) {
	if len(b) < IPv4MinHeaderLen {
		return nil, ErrTruncated
	}
	if b[offIPv4VerIHL]>>4 != 4 {
		return nil, ErrBadVersion
	}
	hl := int(b[offIPv4VerIHL]&0xf) * 4
	if hl < IPv4MinHeaderLen || hl > len(b) {
		return nil, ErrBadHeaderLen
	}
	tl := int(binary.BigEndian.Uint16(b[offIPv4TotalLen:]))
	if tl < hl {
		return nil, ErrBadLength
	}
	if tl > len(b) {
		return nil, ErrTruncated
	}
	return IPv4(b[:tl]), nil
}

// HeaderLen returns the header length in bytes, options included.
func (ip IPv4) HeaderLen() int { return int(ip[offIPv4VerIHL]&0xf) * 4 }

// TOS returns the type-of-service (DSCP and ECN) byte.
func (ip IPv4) TOS() uint8 { return ip[offIPv4TOS] }

// TotalLen returns the total-length field.
func (ip IPv4) TotalLen() int { return int(binary.BigEndian.Uint16(ip[offIPv4TotalLen:])) }

// ID returns the identification field.
func (ip IPv4) ID() uint16 { return binary.BigEndian.Uint16(ip[offIPv4ID:]) }

// Flags returns the flag bits.
func (ip IPv4) Flags() IPv4Flags { return IPv4Flags(ip[offIPv4FlagsOff] >> 5) }

// FragOffset returns the fragment offset in bytes.
func (ip IPv4) FragOffset() int {
	return int(binary.BigEndian.Uint16(ip[offIPv4FlagsOff:])&0x1fff) * 8
}

// IsFragment reports whether ip is a fragment (MF set or offset nonzero).
func (ip IPv4) IsFragment() bool {
	return binary.BigEndian.Uint16(ip[offIPv4FlagsOff:])&0x3fff != 0
}

// TTL returns the time-to-live.
func (ip IPv4) TTL() uint8 { return ip[offIPv4TTL] }

// Protocol returns the payload protocol.
func (ip IPv4) Protocol() IPProto { return IPProto(ip[offIPv4Proto]) }

// Checksum returns the header checksum field.
func (ip IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(ip[offIPv4Csum:]) }

// Src returns the source address.
func (ip IPv4) Src() IPv4Addr { return IPv4Addr(ip[offIPv4Src : offIPv4Src+4]) }

// Dst returns the destination address.
func (ip IPv4) Dst() IPv4Addr { return IPv4Addr(ip[offIPv4Dst : offIPv4Dst+4]) }

// Options returns the option bytes (possibly empty).
func (ip IPv4) Options() []byte { return ip[IPv4MinHeaderLen:ip.HeaderLen()] }

// Payload returns the bytes after the header, up to the total length.
func (ip IPv4) Payload() []byte { return ip[ip.HeaderLen():] }

// IsChecksumValid reports whether the header checksum verifies.
func (ip IPv4) IsChecksumValid() bool {
	if ip.HeaderLen() == IPv4MinHeaderLen {
		return Fold(headerSum20(ip)) == 0
	}
	return Fold(Checksum(ip[:ip.HeaderLen()], 0)) == 0
}

// SetTTL sets the TTL without updating the checksum.
func (ip IPv4) SetTTL(ttl uint8) { ip[offIPv4TTL] = ttl }

// SetSrc sets the source address without updating the checksum.
func (ip IPv4) SetSrc(a IPv4Addr) { *(*IPv4Addr)(ip[offIPv4Src : offIPv4Src+4]) = a }

// SetDst sets the destination address without updating the checksum.
func (ip IPv4) SetDst(a IPv4Addr) { *(*IPv4Addr)(ip[offIPv4Dst : offIPv4Dst+4]) = a }

// SetChecksum sets the checksum field.
func (ip IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(ip[offIPv4Csum:], c) }

// SetTotalLen sets the total-length field without updating the checksum.
func (ip IPv4) SetTotalLen(n int) { binary.BigEndian.PutUint16(ip[offIPv4TotalLen:], uint16(n)) }

// UpdateChecksum recomputes the header checksum.
func (ip IPv4) UpdateChecksum() {
	ip.SetChecksum(0)
	if ip.HeaderLen() == IPv4MinHeaderLen {
		ip.SetChecksum(Fold(headerSum20(ip)))
		return
	}
	ip.SetChecksum(Fold(Checksum(ip[:ip.HeaderLen()], 0)))
}

// headerSum20 sums an option-less 20-byte header as five 32-bit words: the
// per-packet path of every datagram we send.
func headerSum20(h []byte) uint32 {
	_ = h[19]
	s := uint64(binary.BigEndian.Uint32(h)) + uint64(binary.BigEndian.Uint32(h[4:])) +
		uint64(binary.BigEndian.Uint32(h[8:])) + uint64(binary.BigEndian.Uint32(h[12:])) +
		uint64(binary.BigEndian.Uint32(h[16:]))
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint32(s)
}

// IPv4Header is the build side of an IPv4 header without options.
type IPv4Header struct {
	TOS        uint8
	TotalLen   int // header and payload
	ID         uint16
	Flags      IPv4Flags
	FragOffset int // in bytes; a multiple of 8
	TTL        uint8
	Protocol   IPProto
	Src, Dst   IPv4Addr
}

// Encode writes the 20-byte header into ip, checksum included.
func (h *IPv4Header) Encode(ip IPv4) {
	ip[offIPv4VerIHL] = 4<<4 | IPv4MinHeaderLen/4
	ip[offIPv4TOS] = h.TOS
	binary.BigEndian.PutUint16(ip[offIPv4TotalLen:], uint16(h.TotalLen))
	binary.BigEndian.PutUint16(ip[offIPv4ID:], h.ID)
	binary.BigEndian.PutUint16(ip[offIPv4FlagsOff:], uint16(h.Flags&7)<<13|uint16(h.FragOffset/8)&0x1fff)
	ip[offIPv4TTL] = h.TTL
	ip[offIPv4Proto] = uint8(h.Protocol)
	ip.SetSrc(h.Src)
	ip.SetDst(h.Dst)
	ip.UpdateChecksum()
}

// ParseIPv4Header checks the version and header length of b, like ParseIPv4,
// but accepts a datagram cut short of its total length: the quote inside an
// ICMP error. Payload then returns what is present.
func ParseIPv4Header(b []byte) (IPv4, error) {
	if len(b) < IPv4MinHeaderLen {
		return nil, ErrTruncated
	}
	if b[offIPv4VerIHL]>>4 != 4 {
		return nil, ErrBadVersion
	}
	if hl := int(b[offIPv4VerIHL]&0xf) * 4; hl < IPv4MinHeaderLen || hl > len(b) {
		return nil, ErrBadHeaderLen
	}
	return IPv4(b), nil
}
