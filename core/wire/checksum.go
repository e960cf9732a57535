package wire

import (
	"encoding/binary"
	"math/bits"
)

// Checksum adds the bytes of b to the one's-complement running sum initial
// (RFC 1071) and returns the new running sum, folded to 16 bits. To checksum a
// message in pieces, every piece but the last must have even length. The
// Internet checksum of the whole is Fold(sum).
//
// It sums eight bytes at a time with end-around carry; the word order does not
// matter in one's-complement arithmetic (RFC 1071 §2(B)), so big-endian loads
// of 64-bit words give the same folded result as 16-bit adds.
func Checksum(b []byte, initial uint32) uint32 {
	s := uint64(initial)
	var c, c2, c3, c4 uint64
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		s, c2 = bits.Add64(s, binary.BigEndian.Uint64(b[8:]), c2)
		s, c3 = bits.Add64(s, binary.BigEndian.Uint64(b[16:]), c3)
		s, c4 = bits.Add64(s, binary.BigEndian.Uint64(b[24:]), c4)
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	s, c = bits.Add64(s, c2+c3+c4, c)
	s, c = bits.Add64(s, 0, c)
	s += c // cannot carry: bits.Add64 with a zero addend leaves room
	if len(b) >= 4 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint32(b)), 0)
		s += c
		b = b[4:]
	}
	if len(b) >= 2 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint16(b)), 0)
		s += c
		b = b[2:]
	}
	if len(b) == 1 {
		s, c = bits.Add64(s, uint64(b[0])<<8, 0)
		s += c
	}
	// Fold 64 → 32 → 16 bits with end-around carry.
	t := uint32(s>>32) + uint32(s)
	if t < uint32(s) {
		t++
	}
	return fold16(t)
}

func fold16(s uint32) uint32 {
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return s
}

// Fold finishes a running sum: it returns the one's complement of the sum
// folded to 16 bits, the value that goes into a checksum field.
func Fold(sum uint32) uint16 { return ^uint16(fold16(sum)) }

// ChecksumSimple is the RFC 1071 reference: 16 bits at a time. It is kept as
// the oracle for tests and fuzzing of Checksum.
func ChecksumSimple(b []byte, initial uint32) uint32 {
	s := initial
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		s = fold16(s)
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return fold16(s)
}

// PseudoHeaderSum returns the running sum of the IPv4 pseudo-header used by
// UDP and TCP (RFC 768, RFC 9293 §3.1): addresses, protocol and the transport
// length.
func PseudoHeaderSum(src, dst IPv4Addr, proto IPProto, length int) uint32 {
	s := uint32(src[0])<<8 | uint32(src[1])
	s += uint32(src[2])<<8 | uint32(src[3])
	s += uint32(dst[0])<<8 | uint32(dst[1])
	s += uint32(dst[2])<<8 | uint32(dst[3])
	s += uint32(proto)
	s += uint32(length) & 0xffff
	return fold16(s)
}

// UpdateChecksum16 returns checksum field hc after a 16-bit word of the
// covered data changes from old to new, per RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m').
func UpdateChecksum16(hc, old, new uint16) uint16 {
	s := uint32(^hc) + uint32(^old) + uint32(new)
	return ^uint16(fold16(s))
}

// UpdateChecksum32 is UpdateChecksum16 for a 32-bit field (for example an
// IPv4 address), treated as two 16-bit words.
func UpdateChecksum32(hc uint16, old, new uint32) uint16 {
	s := uint32(^hc) + uint32(^uint16(old>>16)) + uint32(^uint16(old)) + new>>16 + new&0xffff
	return ^uint16(fold16(s))
}
