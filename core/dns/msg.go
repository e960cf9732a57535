package dns

import "encoding/binary"

// Sizes and limits (RFC 1035 §2.3.4, §4.2.1).
const (
	// Port is the DNS server port.
	Port = 53
	// HeaderLen is the length of the message header (§4.1.1).
	HeaderLen = 12
	// MaxUDPLen is the largest message over UDP without EDNS (§2.3.4).
	MaxUDPLen = 512
	// MaxNameLen is the longest name in wire form, length octets and the
	// final zero included (§2.3.4: "255 octets or less").
	MaxNameLen = 255
	// MaxLabelLen is the longest label (§2.3.4: "63 octets or less").
	MaxLabelLen = 63
	// maxJumps bounds the compression pointers followed in one name. With
	// pointers required to go strictly backwards it is a second guard only.
	maxJumps = 64
)

// Record types and classes (RFC 1035 §3.2.2, §3.2.4; RFC 3596).
const (
	TypeA     = 1
	TypeNS    = 2
	TypeCNAME = 5
	TypeSOA   = 6
	TypeAAAA  = 28
	ClassIN   = 1
)

// Header flag bits (RFC 1035 §4.1.1).
const (
	FlagQR = 0x8000 // response
	FlagAA = 0x0400 // authoritative answer
	FlagTC = 0x0200 // truncated
	FlagRD = 0x0100 // recursion desired
	FlagRA = 0x0080 // recursion available

	maskOpcode = 0x7800
	maskRCode  = 0x000f
)

// RCode is a response code (RFC 1035 §4.1.1).
type RCode uint8

// Response codes.
const (
	RCodeNoError  RCode = 0
	RCodeFormErr  RCode = 1
	RCodeServFail RCode = 2
	RCodeNXDomain RCode = 3
	RCodeNotImp   RCode = 4
	RCodeRefused  RCode = 5
)

// ParseError is why a message or name was refused; callers count it and
// drop the message.
type ParseError uint8

// Parse errors.
const (
	ErrShort    ParseError = iota + 1 // the message ends inside a header, name or record
	ErrLabel                          // a label longer than 63, or of a reserved type (0x40, 0x80)
	ErrNameLen                        // a name longer than 255 octets
	ErrPointer                        // a compression pointer not strictly backwards (forward, or a loop)
	ErrName                           // a name to encode is empty or has an empty label
	ErrRDLength                       // a record's data is inconsistent with its type
)

// Error returns a short description.
func (e ParseError) Error() string {
	switch e {
	case ErrShort:
		return "dns: message truncated"
	case ErrLabel:
		return "dns: bad label"
	case ErrNameLen:
		return "dns: name too long"
	case ErrPointer:
		return "dns: bad compression pointer"
	case ErrName:
		return "dns: bad name"
	case ErrRDLength:
		return "dns: bad record length"
	}
	return "dns: bad message"
}

// Message is a view of a DNS message. Once ParseMessage has accepted it,
// the header accessors never panic; names and records are read with
// ReadName and ReadRR, which check every length.
type Message []byte

// ParseMessage checks that b holds a header.
func ParseMessage(b []byte) (Message, error) {
	if len(b) < HeaderLen {
		return nil, ErrShort
	}
	return Message(b), nil
}

// ID returns the message ID.
func (m Message) ID() uint16 { return binary.BigEndian.Uint16(m[0:]) }

// Flags returns the flags word (QR, opcode, AA, TC, RD, RA, Z, RCODE).
func (m Message) Flags() uint16 { return binary.BigEndian.Uint16(m[2:]) }

// IsResponse reports the QR bit.
func (m Message) IsResponse() bool { return m.Flags()&FlagQR != 0 }

// Opcode returns the opcode (0: standard query).
func (m Message) Opcode() uint8 { return uint8(m.Flags() & maskOpcode >> 11) }

// IsTruncated reports the TC bit.
func (m Message) IsTruncated() bool { return m.Flags()&FlagTC != 0 }

// RCode returns the response code.
func (m Message) RCode() RCode { return RCode(m.Flags() & maskRCode) }

// QDCount returns the number of questions.
func (m Message) QDCount() int { return int(binary.BigEndian.Uint16(m[4:])) }

// ANCount returns the number of answer records.
func (m Message) ANCount() int { return int(binary.BigEndian.Uint16(m[6:])) }

// NSCount returns the number of authority records.
func (m Message) NSCount() int { return int(binary.BigEndian.Uint16(m[8:])) }

// ARCount returns the number of additional records.
func (m Message) ARCount() int { return int(binary.BigEndian.Uint16(m[10:])) }

// Header is the build side of a message header.
type Header struct {
	ID                                 uint16
	Flags                              uint16
	QDCount, ANCount, NSCount, ARCount uint16
}

// Append appends the 12-byte header to b.
func (h *Header) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, h.ID)
	b = binary.BigEndian.AppendUint16(b, h.Flags)
	b = binary.BigEndian.AppendUint16(b, h.QDCount)
	b = binary.BigEndian.AppendUint16(b, h.ANCount)
	b = binary.BigEndian.AppendUint16(b, h.NSCount)
	return binary.BigEndian.AppendUint16(b, h.ARCount)
}

// AppendName appends the uncompressed wire form of the dotted name (a
// final dot is optional) to b. It returns ErrName for an empty name or
// label, ErrLabel for a label over 63 octets and ErrNameLen for a name over
// 255 octets; b is then returned unchanged. Backslash escapes are not
// interpreted.
func AppendName(b []byte, name string) ([]byte, error) {
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	if name == "" {
		return b, ErrName
	}
	if len(name)+2 > MaxNameLen {
		return b, ErrNameLen
	}
	start := len(b)
	for len(name) > 0 {
		i := 0
		for i < len(name) && name[i] != '.' {
			i++
		}
		switch {
		case i == 0:
			return b[:start], ErrName // ".a", "a..b"
		case i > MaxLabelLen:
			return b[:start], ErrLabel
		}
		b = append(b, uint8(i))
		b = append(b, name[:i]...)
		if i == len(name) {
			break
		}
		name = name[i+1:]
		if name == "" {
			return b[:start], ErrName // "a..": the trailing dot was stripped once
		}
	}
	return append(b, 0), nil
}

// ReadName decodes the name at msg[off:], following compression pointers
// (RFC 1035 §4.1.4), into dst's storage in uncompressed wire form, and
// returns it with the offset just past the name where it starts (past the
// first pointer if any). A pointer must point strictly before the start of
// the labels that contain it, so that every jump goes backwards and no
// loop is possible; labels over 63 octets, reserved label types and names
// over 255 octets are refused. dst needs a capacity of MaxNameLen to avoid
// allocating.
func ReadName(msg []byte, off int, dst []byte) (name []byte, next int, err error) {
	dst = dst[:0]
	next = -1
	pos, seg := off, off // seg: where the current run of labels began
	for jumps := 0; ; {
		if pos < 0 || pos >= len(msg) {
			return nil, 0, ErrShort
		}
		l := int(msg[pos])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				dst = append(dst, 0)
				if next < 0 {
					next = pos + 1
				}
				return dst, next, nil
			}
			if pos+1+l > len(msg) {
				return nil, 0, ErrShort
			}
			if len(dst)+1+l+1 > MaxNameLen {
				return nil, 0, ErrNameLen
			}
			dst = append(dst, msg[pos:pos+1+l]...)
			pos += 1 + l
		case 0xc0:
			if pos+2 > len(msg) {
				return nil, 0, ErrShort
			}
			ptr := int(binary.BigEndian.Uint16(msg[pos:]) & 0x3fff)
			if ptr >= seg || jumps >= maxJumps {
				return nil, 0, ErrPointer
			}
			jumps++
			if next < 0 {
				next = pos + 2
			}
			pos, seg = ptr, ptr
		default:
			return nil, 0, ErrLabel // 0x40 (extended, RFC 6891 deprecated) and 0x80: reserved
		}
	}
}

// EqualNames reports whether two wire-form names are equal, ASCII letters
// compared without case (RFC 1035 §2.3.3, RFC 4343).
func EqualNames(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// AppendQuery appends a standard query for name, type qtype and class IN,
// with recursion desired, to b (RFC 1035 §4.1).
func AppendQuery(b []byte, id uint16, name string, qtype uint16) ([]byte, error) {
	h := Header{ID: id, Flags: FlagRD, QDCount: 1}
	start := len(b)
	b = h.Append(b)
	b, err := AppendName(b, name)
	if err != nil {
		return b[:start], err
	}
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, ClassIN), nil
}

// Question is a decoded question entry (RFC 1035 §4.1.2).
type Question struct {
	Name  []byte // uncompressed wire form, in the caller's buffer
	Type  uint16
	Class uint16
}

// ReadQuestion decodes the question at off into q, the name into nameBuf,
// and returns the offset after it.
func ReadQuestion(msg []byte, off int, nameBuf []byte, q *Question) (int, error) {
	name, next, err := ReadName(msg, off, nameBuf)
	if err != nil {
		return 0, err
	}
	if next+4 > len(msg) {
		return 0, ErrShort
	}
	q.Name = name
	q.Type = binary.BigEndian.Uint16(msg[next:])
	q.Class = binary.BigEndian.Uint16(msg[next+2:])
	return next + 4, nil
}

// RR is a decoded resource record (RFC 1035 §4.1.3).
type RR struct {
	Name    []byte // uncompressed wire form, in the caller's buffer
	Type    uint16
	Class   uint16
	TTL     uint32 // as sent; see EffectiveTTL
	Data    []byte // RDATA, within the message
	DataOff int    // offset of RDATA in the message (names in it may be compressed)
}

// EffectiveTTL returns the TTL to use: RFC 2181 §8 says a value with the
// most significant bit set is to be treated as zero.
func (rr *RR) EffectiveTTL() uint32 {
	if rr.TTL&0x80000000 != 0 {
		return 0
	}
	return rr.TTL
}

// ReadRR decodes the record at off into rr, its owner name into nameBuf,
// and returns the offset after it.
func ReadRR(msg []byte, off int, nameBuf []byte, rr *RR) (int, error) {
	name, next, err := ReadName(msg, off, nameBuf)
	if err != nil {
		return 0, err
	}
	if next+10 > len(msg) {
		return 0, ErrShort
	}
	rr.Name = name
	rr.Type = binary.BigEndian.Uint16(msg[next:])
	rr.Class = binary.BigEndian.Uint16(msg[next+2:])
	rr.TTL = binary.BigEndian.Uint32(msg[next+4:])
	n := int(binary.BigEndian.Uint16(msg[next+8:]))
	next += 10
	if next+n > len(msg) {
		return 0, ErrShort
	}
	rr.Data, rr.DataOff = msg[next:next+n], next
	return next + n, nil
}
