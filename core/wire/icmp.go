package wire

import "encoding/binary"

// ICMPv4HeaderLen is the length of the fixed ICMPv4 header: type, code,
// checksum and the 4-byte rest-of-header (RFC 792).
const ICMPv4HeaderLen = 8

// ICMPv4Type is the ICMPv4 message type.
type ICMPv4Type uint8

// ICMPv4 types (RFC 792).
const (
	ICMPv4EchoReply      ICMPv4Type = 0
	ICMPv4DstUnreachable ICMPv4Type = 3
	ICMPv4SourceQuench   ICMPv4Type = 4
	ICMPv4Redirect       ICMPv4Type = 5
	ICMPv4Echo           ICMPv4Type = 8
	ICMPv4TimeExceeded   ICMPv4Type = 11
	ICMPv4ParamProblem   ICMPv4Type = 12
	ICMPv4Timestamp      ICMPv4Type = 13
	ICMPv4TimestampReply ICMPv4Type = 14
)

// IsError reports whether t is an ICMP error message (RFC 1122 §3.2.2): one
// about which no ICMP error may ever be sent.
func (t ICMPv4Type) IsError() bool {
	switch t {
	case ICMPv4DstUnreachable, ICMPv4SourceQuench, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// Destination-unreachable codes (RFC 792, RFC 1191).
const (
	ICMPv4NetUnreachable   uint8 = 0
	ICMPv4HostUnreachable  uint8 = 1
	ICMPv4ProtoUnreachable uint8 = 2
	ICMPv4PortUnreachable  uint8 = 3
	ICMPv4FragNeeded       uint8 = 4
)

// Time-exceeded codes (RFC 792).
const (
	ICMPv4TTLExceeded   uint8 = 0
	ICMPv4ReassExceeded uint8 = 1
)

const (
	offICMPType = 0
	offICMPCode = 1
	offICMPCsum = 2
	offICMPID   = 4
	offICMPSeq  = 6
)

// ICMPv4 is a view of an ICMPv4 message.
type ICMPv4 []byte

// ParseICMPv4 checks that b holds the fixed ICMPv4 header. It does not check
// the checksum (see IsChecksumValid).
func ParseICMPv4(b []byte) (ICMPv4, error) {
	if len(b) < ICMPv4HeaderLen {
		return nil, ErrTruncated
	}
	return ICMPv4(b), nil
}

// Type returns the message type.
func (m ICMPv4) Type() ICMPv4Type { return ICMPv4Type(m[offICMPType]) }

// Code returns the code.
func (m ICMPv4) Code() uint8 { return m[offICMPCode] }

// Checksum returns the checksum field.
func (m ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(m[offICMPCsum:]) }

// ID returns the identifier of an echo or echo reply.
func (m ICMPv4) ID() uint16 { return binary.BigEndian.Uint16(m[offICMPID:]) }

// Seq returns the sequence number of an echo or echo reply.
func (m ICMPv4) Seq() uint16 { return binary.BigEndian.Uint16(m[offICMPSeq:]) }

// MTU returns the next-hop MTU of a fragmentation-needed message (RFC 1191).
func (m ICMPv4) MTU() uint16 { return binary.BigEndian.Uint16(m[offICMPSeq:]) }

// Payload returns the bytes after the 8-byte header: echo data, or the
// offending datagram's header and leading bytes in an error.
func (m ICMPv4) Payload() []byte { return m[ICMPv4HeaderLen:] }

// IsChecksumValid reports whether the checksum over the whole message verifies.
func (m ICMPv4) IsChecksumValid() bool { return Fold(Checksum(m, 0)) == 0 }

// SetType sets the type without updating the checksum.
func (m ICMPv4) SetType(t ICMPv4Type) { m[offICMPType] = uint8(t) }

// SetChecksum sets the checksum field.
func (m ICMPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(m[offICMPCsum:], c) }

// UpdateChecksum recomputes the checksum over the whole message.
func (m ICMPv4) UpdateChecksum() {
	m.SetChecksum(0)
	m.SetChecksum(Fold(Checksum(m, 0)))
}

// ICMPv4Header is the build side of the fixed ICMPv4 header. Rest is the
// rest-of-header word: ID<<16|Seq for echoes, the MTU for fragmentation
// needed, zero for most errors.
type ICMPv4Header struct {
	Type ICMPv4Type
	Code uint8
	Rest uint32
}

// Encode writes the 8-byte header into m with a zero checksum; call
// UpdateChecksum once the payload is in place.
func (h *ICMPv4Header) Encode(m ICMPv4) {
	m[offICMPType] = uint8(h.Type)
	m[offICMPCode] = h.Code
	binary.BigEndian.PutUint16(m[offICMPCsum:], 0)
	binary.BigEndian.PutUint32(m[offICMPID:], h.Rest)
}
