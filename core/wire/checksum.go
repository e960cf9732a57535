package wire

import "encoding/binary"

// Checksum adds the bytes of b to the one's-complement running sum initial
// (RFC 1071) and returns the new running sum, folded to 16 bits. To checksum a
// message in pieces, every piece but the last must have even length. The
// Internet checksum of the whole is Fold(sum).
//
// It adds 32-bit words into four independent 64-bit accumulators, which
// cannot overflow below 2^31 rounds, so there is no carry chain to wait on.
// The words are loaded little-endian (plain loads) and the folded result is
// byte-swapped at the end: one's-complement sums are byte-order independent
// (RFC 1071 §2(B)).
func Checksum(b []byte, initial uint32) uint32 {
	var s0, s1, s2, s3 uint64
	const lo = 0xffffffff
	for len(b) >= 64 {
		x0 := binary.LittleEndian.Uint64(b)
		x1 := binary.LittleEndian.Uint64(b[8:])
		x2 := binary.LittleEndian.Uint64(b[16:])
		x3 := binary.LittleEndian.Uint64(b[24:])
		x4 := binary.LittleEndian.Uint64(b[32:])
		x5 := binary.LittleEndian.Uint64(b[40:])
		x6 := binary.LittleEndian.Uint64(b[48:])
		x7 := binary.LittleEndian.Uint64(b[56:])
		s0 += x0>>32 + x0&lo + x4>>32 + x4&lo
		s1 += x1>>32 + x1&lo + x5>>32 + x5&lo
		s2 += x2>>32 + x2&lo + x6>>32 + x6&lo
		s3 += x3>>32 + x3&lo + x7>>32 + x7&lo
		b = b[64:]
	}
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		s0 += x>>32 + x&lo
		b = b[8:]
	}
	if len(b) >= 4 {
		s1 += uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s2 += uint64(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s3 += uint64(b[0]) // the low byte in little-endian order is the high byte on the wire
	}
	s := s0 + s1 + s2 + s3 // each < 2^62 for any slice that fits in memory
	s = s>>32 + s&lo
	s = s>>32 + s&lo
	t := fold16(uint32(s))
	t = (t>>8 | t<<8) & 0xffff // back to network order
	return fold16(t + fold16(initial))
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
	s := fold16(initial) // at most 0xffff, so s+word cannot overflow
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
