package dhcp

import (
	"encoding/binary"

	"github.com/lwgo/lwgo/core/wire"
)

// UDP ports (RFC 2131 §4.1).
const (
	ServerPort = 67
	ClientPort = 68
)

// Message layout (RFC 2131 §2, Figure 1): a 236-byte fixed part, the magic
// cookie, then options.
const (
	offOp      = 0
	offHType   = 1
	offHLen    = 2
	offHops    = 3
	offXID     = 4
	offSecs    = 8
	offFlags   = 10
	offCIAddr  = 12
	offYIAddr  = 16
	offSIAddr  = 20
	offGIAddr  = 24
	offCHAddr  = 28
	offSName   = 44
	offFile    = 108
	offCookie  = 236
	offOptions = 240

	lenCHAddr = 16
	lenSName  = 64
	lenFile   = 128

	// HeaderLen is the length of the fixed part and the magic cookie: the
	// shortest valid message.
	HeaderLen = offOptions
	// MinLen is the length of the messages the client sends, padded with
	// zeros after the end option: the BOOTP minimum (RFC 1542 §3.2) that some
	// relays and servers still require.
	MinLen = 300
	// MaxLen is the longest message the client sends or accepts: RFC 2131 §2
	// requires every DHCP node to take 576-byte IP datagrams, and the client
	// announces that size in option 57.
	MaxLen = 576 - wire.IPv4MinHeaderLen - wire.UDPHeaderLen
)

// MagicCookie starts the options field (RFC 2131 §3, RFC 1497): 99.130.83.99.
var MagicCookie = [4]byte{99, 130, 83, 99}

// Op is the BOOTP message op code.
type Op uint8

// Op codes (RFC 2131 §2).
const (
	OpRequest Op = 1 // BOOTREQUEST: client to server
	OpReply   Op = 2 // BOOTREPLY: server to client
)

// HTypeEthernet is the htype of 10 Mb/s Ethernet and its successors (RFC 1700
// "Hardware Type"); its hlen is 6.
const HTypeEthernet = 1

// FlagBroadcast is the BROADCAST bit of the flags field (RFC 2131 §2, Figure 2).
const FlagBroadcast = 0x8000

// MsgType is the DHCP message type, option 53 (RFC 2132 §9.6).
type MsgType uint8

// Message types.
const (
	Discover MsgType = 1
	Offer    MsgType = 2
	Request  MsgType = 3
	Decline  MsgType = 4
	Ack      MsgType = 5
	Nak      MsgType = 6
	Release  MsgType = 7
	Inform   MsgType = 8
)

// String returns the RFC's name ("DHCPDISCOVER").
func (t MsgType) String() string {
	switch t {
	case Discover:
		return "DHCPDISCOVER"
	case Offer:
		return "DHCPOFFER"
	case Request:
		return "DHCPREQUEST"
	case Decline:
		return "DHCPDECLINE"
	case Ack:
		return "DHCPACK"
	case Nak:
		return "DHCPNAK"
	case Release:
		return "DHCPRELEASE"
	case Inform:
		return "DHCPINFORM"
	}
	return "DHCP?"
}

// Option codes the client sends or reads (RFC 2132).
const (
	OptPad          = 0   // §3.1
	OptSubnetMask   = 1   // §3.3, 4 bytes
	OptRouter       = 3   // §3.5, n×4 bytes
	OptDNS          = 6   // §3.8, n×4 bytes
	OptHostname     = 12  // §3.14, ≥ 1 byte
	OptRequestedIP  = 50  // §9.1, 4 bytes
	OptLeaseTime    = 51  // §9.2, 4 bytes, seconds
	OptOverload     = 52  // §9.3, 1 byte: 1 file, 2 sname, 3 both
	OptMsgType      = 53  // §9.6, 1 byte
	OptServerID     = 54  // §9.7, 4 bytes
	OptParamRequest = 55  // §9.8, n bytes
	OptMaxMsgSize   = 57  // §9.10, 2 bytes, ≥ 576
	OptT1           = 58  // §9.11, 4 bytes, seconds
	OptT2           = 59  // §9.12, 4 bytes, seconds
	OptClientID     = 61  // §9.14
	OptEnd          = 255 // §3.2
)

// Infinite is the lease time that never expires (RFC 2131 §3.3: 0xffffffff).
const Infinite = 0xffffffff

// MaxDNSServers is how many option-6 servers a lease keeps
// (LWIP_DHCP_MAX_DNS_SERVERS).
const MaxDNSServers = 2

// ParseError is why a message was refused. Callers count it and drop the
// message.
type ParseError uint8

// Parse errors.
const (
	ErrTruncated ParseError = iota + 1 // shorter than the fixed part and cookie
	ErrCookie                          // the magic cookie is wrong: BOOTP, or garbage
	ErrOption                          // an option runs past its field, or has an illegal length or value
)

// Error returns a short description.
func (e ParseError) Error() string {
	switch e {
	case ErrTruncated:
		return "dhcp: truncated message"
	case ErrCookie:
		return "dhcp: bad magic cookie"
	case ErrOption:
		return "dhcp: malformed option"
	}
	return "dhcp: bad message"
}

// Message is a view of a DHCP message, starting at the op field. Once Parse
// has accepted it, no accessor panics while the bytes are unmodified.
type Message []byte

// Parse checks the length and magic cookie of b and returns it as a Message.
// Options are checked by ParseOptions.
func Parse(b []byte) (Message, error) {
	if len(b) < HeaderLen {
		return nil, ErrTruncated
	}
	if [4]byte(b[offCookie:offOptions]) != MagicCookie {
		return nil, ErrCookie
	}
	return Message(b), nil
}

// Op returns the op code.
func (m Message) Op() Op { return Op(m[offOp]) }

// HType returns the hardware address type.
func (m Message) HType() uint8 { return m[offHType] }

// HLen returns the hardware address length.
func (m Message) HLen() uint8 { return m[offHLen] }

// Hops returns the relay hop count.
func (m Message) Hops() uint8 { return m[offHops] }

// XID returns the transaction ID.
func (m Message) XID() uint32 { return binary.BigEndian.Uint32(m[offXID:]) }

// Secs returns the seconds since the client began acquisition.
func (m Message) Secs() uint16 { return binary.BigEndian.Uint16(m[offSecs:]) }

// Flags returns the flags field.
func (m Message) Flags() uint16 { return binary.BigEndian.Uint16(m[offFlags:]) }

// CIAddr returns the client's address, as the client knows it.
func (m Message) CIAddr() wire.IPv4Addr { return wire.IPv4Addr(m[offCIAddr:]) }

// YIAddr returns "your" address: the one the server offers or assigns.
func (m Message) YIAddr() wire.IPv4Addr { return wire.IPv4Addr(m[offYIAddr:]) }

// SIAddr returns the next server's address (for booting).
func (m Message) SIAddr() wire.IPv4Addr { return wire.IPv4Addr(m[offSIAddr:]) }

// GIAddr returns the relay agent's address.
func (m Message) GIAddr() wire.IPv4Addr { return wire.IPv4Addr(m[offGIAddr:]) }

// CHAddrMAC returns the first six bytes of chaddr: the client's MAC when
// htype is Ethernet.
func (m Message) CHAddrMAC() wire.MAC { return wire.MAC(m[offCHAddr:]) }

// CHAddr returns the whole 16-byte chaddr field.
func (m Message) CHAddr() []byte { return m[offCHAddr : offCHAddr+lenCHAddr] }

// SName returns the server host name field (64 bytes; options if overloaded).
func (m Message) SName() []byte { return m[offSName : offSName+lenSName] }

// File returns the boot file name field (128 bytes; options if overloaded).
func (m Message) File() []byte { return m[offFile : offFile+lenFile] }

// OptionsField returns the bytes after the magic cookie.
func (m Message) OptionsField() []byte { return m[offOptions:] }

// Options are the options of a message the client understands, decoded
// without allocating. Slices point into the message.
type Options struct {
	present [2]uint64 // bit per option code below 128

	Type        MsgType
	SubnetMask  wire.IPv4Addr
	Router      wire.IPv4Addr // the first router of option 3
	DNS         [MaxDNSServers]wire.IPv4Addr
	NumDNS      int    // DNS servers kept from option 6 (extra ones are ignored)
	Hostname    []byte // option 12
	LeaseTime   uint32 // seconds; Infinite for ever
	T1, T2      uint32 // seconds
	ServerID    wire.IPv4Addr
	RequestedIP wire.IPv4Addr
	Overload    uint8
	MaxMsgSize  uint16
}

// Has reports whether the message carried option code (codes below 128).
func (o *Options) Has(code uint8) bool {
	return code < 128 && o.present[code/64]&(1<<(code%64)) != 0
}

func (o *Options) set(code uint8) {
	if code < 128 {
		o.present[code/64] |= 1 << (code % 64)
	}
}

// ParseOptions decodes m's options into o: the options field, then file and
// sname when option 52 says they are overloaded (RFC 2131 §4.1, RFC 2132
// §9.3). Unknown options are skipped. It returns ErrOption for an option
// running past its field or with an illegal length, leaving o partly filled.
// A field may end without the end option (lenient, as most clients are).
func (m Message) ParseOptions(o *Options) error {
	*o = Options{}
	if err := parseField(m[offOptions:], o, true); err != nil {
		return err
	}
	if o.Overload&1 != 0 {
		if err := parseField(m.File(), o, false); err != nil {
			return err
		}
	}
	if o.Overload&2 != 0 {
		if err := parseField(m.SName(), o, false); err != nil {
			return err
		}
	}
	return nil
}

// parseField decodes one options field. top is the options field proper,
// the only place option 52 may appear.
func parseField(b []byte, o *Options, top bool) error {
	for i := 0; i < len(b); {
		code := b[i]
		switch code {
		case OptPad:
			i++
			continue
		case OptEnd:
			return nil
		}
		if i+2 > len(b) {
			return ErrOption
		}
		n := int(b[i+1])
		if i+2+n > len(b) {
			return ErrOption
		}
		v := b[i+2 : i+2+n]
		i += 2 + n
		switch code {
		case OptMsgType:
			if n != 1 || v[0] == 0 {
				return ErrOption
			}
			o.Type = MsgType(v[0])
		case OptSubnetMask:
			if n != 4 {
				return ErrOption
			}
			o.SubnetMask = wire.IPv4Addr(v)
		case OptRouter:
			if n == 0 || n%4 != 0 {
				return ErrOption
			}
			o.Router = wire.IPv4Addr(v)
		case OptDNS:
			// Repeated instances concatenate (RFC 3396); keep the first few.
			if n == 0 || n%4 != 0 {
				return ErrOption
			}
			for ; len(v) >= 4 && o.NumDNS < MaxDNSServers; v = v[4:] {
				o.DNS[o.NumDNS] = wire.IPv4Addr(v)
				o.NumDNS++
			}
		case OptHostname:
			if n == 0 {
				return ErrOption
			}
			o.Hostname = v
		case OptLeaseTime, OptT1, OptT2:
			if n != 4 {
				return ErrOption
			}
			t := binary.BigEndian.Uint32(v)
			switch code {
			case OptLeaseTime:
				o.LeaseTime = t
			case OptT1:
				o.T1 = t
			default:
				o.T2 = t
			}
		case OptServerID, OptRequestedIP:
			if n != 4 {
				return ErrOption
			}
			if code == OptServerID {
				o.ServerID = wire.IPv4Addr(v)
			} else {
				o.RequestedIP = wire.IPv4Addr(v)
			}
		case OptOverload:
			if !top {
				continue // RFC 2132 §9.3: only in the options field
			}
			if n != 1 || v[0] < 1 || v[0] > 3 {
				return ErrOption
			}
			o.Overload = v[0]
		case OptMaxMsgSize:
			if n != 2 {
				return ErrOption
			}
			o.MaxMsgSize = binary.BigEndian.Uint16(v)
		}
		o.set(code)
	}
	return nil
}

// Header is the build side of the fixed part of a message.
type Header struct {
	Op     Op
	XID    uint32
	Secs   uint16
	Flags  uint16
	CIAddr wire.IPv4Addr
	YIAddr wire.IPv4Addr
	SIAddr wire.IPv4Addr
	GIAddr wire.IPv4Addr
	CHAddr wire.MAC // htype Ethernet, hlen 6
}

// Encode writes the fixed part and the magic cookie into b[:HeaderLen],
// every byte of it (sname and file zeroed), and returns b[:HeaderLen] for
// the options to be appended to. b must hold at least HeaderLen bytes.
func (h *Header) Encode(b []byte) []byte {
	b = b[:HeaderLen]
	clear(b)
	b[offOp] = uint8(h.Op)
	b[offHType] = HTypeEthernet
	b[offHLen] = 6
	binary.BigEndian.PutUint32(b[offXID:], h.XID)
	binary.BigEndian.PutUint16(b[offSecs:], h.Secs)
	binary.BigEndian.PutUint16(b[offFlags:], h.Flags)
	copy(b[offCIAddr:], h.CIAddr[:])
	copy(b[offYIAddr:], h.YIAddr[:])
	copy(b[offSIAddr:], h.SIAddr[:])
	copy(b[offGIAddr:], h.GIAddr[:])
	copy(b[offCHAddr:], h.CHAddr[:])
	copy(b[offCookie:], MagicCookie[:])
	return b
}

// AppendOption appends option code with value v (at most 255 bytes; longer
// values are cut).
func AppendOption(b []byte, code uint8, v []byte) []byte {
	v = v[:min(len(v), 255)]
	b = append(b, code, uint8(len(v)))
	return append(b, v...)
}

// AppendOptionByte appends a one-byte option.
func AppendOptionByte(b []byte, code, v uint8) []byte { return append(b, code, 1, v) }

// AppendOptionAddr appends a four-byte address option.
func AppendOptionAddr(b []byte, code uint8, a wire.IPv4Addr) []byte {
	return append(b, code, 4, a[0], a[1], a[2], a[3])
}

// AppendOptionUint32 appends a four-byte integer option (lease, T1, T2).
func AppendOptionUint32(b []byte, code uint8, v uint32) []byte {
	b = append(b, code, 4)
	return binary.BigEndian.AppendUint32(b, v)
}

// AppendOptionUint16 appends a two-byte integer option (maximum size).
func AppendOptionUint16(b []byte, code uint8, v uint16) []byte {
	b = append(b, code, 2)
	return binary.BigEndian.AppendUint16(b, v)
}

// AppendEnd appends the end option and zero padding up to minLen bytes.
func AppendEnd(b []byte, minLen int) []byte {
	b = append(b, OptEnd)
	for len(b) < minLen {
		b = append(b, 0)
	}
	return b
}
