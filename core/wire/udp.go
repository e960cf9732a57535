package wire

import "encoding/binary"

// UDPHeaderLen is the length of a UDP header (RFC 768).
const UDPHeaderLen = 8

const (
	offUDPSrcPort = 0
	offUDPDstPort = 2
	offUDPLen     = 4
	offUDPCsum    = 6
)

// UDP is a view of a UDP datagram. A view from ParseUDP ends at the length
// field.
type UDP []byte

// ParseUDP checks the header and length field of b and returns the datagram
// trimmed to its length field.
func ParseUDP(b []byte) (UDP, error) {
	if len(b) < UDPHeaderLen {
		return nil, ErrTruncated
	}
	n := int(binary.BigEndian.Uint16(b[offUDPLen:]))
	if n < UDPHeaderLen {
		return nil, ErrBadLength
	}
	if n > len(b) {
		return nil, ErrTruncated
	}
	return UDP(b[:n]), nil
}

// SrcPort returns the source port.
func (u UDP) SrcPort() uint16 { return binary.BigEndian.Uint16(u[offUDPSrcPort:]) }

// DstPort returns the destination port.
func (u UDP) DstPort() uint16 { return binary.BigEndian.Uint16(u[offUDPDstPort:]) }

// Length returns the length field.
func (u UDP) Length() int { return int(binary.BigEndian.Uint16(u[offUDPLen:])) }

// Checksum returns the checksum field; zero means none was sent.
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[offUDPCsum:]) }

// Payload returns the data after the header.
func (u UDP) Payload() []byte { return u[UDPHeaderLen:] }

// IsChecksumValid reports whether the checksum verifies against the
// pseudo-header. A zero checksum field (none sent) is valid (RFC 768).
func (u UDP) IsChecksumValid(src, dst IPv4Addr) bool {
	if u.Checksum() == 0 {
		return true
	}
	return Fold(Checksum(u, PseudoHeaderSum(src, dst, ProtoUDP, len(u)))) == 0
}

// SetChecksum sets the checksum field.
func (u UDP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(u[offUDPCsum:], c) }

// UDPHeader is the build side of a UDP header.
type UDPHeader struct {
	SrcPort, DstPort uint16
	Length           int // header and payload
}

// Encode writes the 8-byte header into u with a zero checksum.
func (h *UDPHeader) Encode(u UDP) {
	binary.BigEndian.PutUint16(u[offUDPSrcPort:], h.SrcPort)
	binary.BigEndian.PutUint16(u[offUDPDstPort:], h.DstPort)
	binary.BigEndian.PutUint16(u[offUDPLen:], uint16(h.Length))
	binary.BigEndian.PutUint16(u[offUDPCsum:], 0)
}

// UDPChecksum returns the value for the checksum field of a complete datagram
// u between src and dst: the Internet checksum, with 0 sent as 0xffff (RFC 768).
// The checksum field of u must be zero, as Encode leaves it.
func UDPChecksum(u UDP, src, dst IPv4Addr) uint16 {
	c := Fold(Checksum(u, PseudoHeaderSum(src, dst, ProtoUDP, len(u))))
	if c == 0 {
		c = 0xffff
	}
	return c
}
