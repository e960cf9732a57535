package wire

import "encoding/binary"

// EthernetHeaderLen is the length of an Ethernet II header (RFC 894).
const EthernetHeaderLen = 14

// EthernetMinFrame is the minimum frame length without FCS; shorter frames
// are padded on transmit.
const EthernetMinFrame = 60

// EtherType is the type field of an Ethernet II frame. It prints unknown
// values in hex.
type EtherType uint16

// EtherType values.
const (
	EtherTypeIPv4 EtherType = 0x0800
	EtherTypeARP  EtherType = 0x0806
	EtherTypeVLAN EtherType = 0x8100
	EtherTypeIPv6 EtherType = 0x86dd
)

// String returns the name of t, or its value in hex.
func (t EtherType) String() string {
	switch t {
	case EtherTypeIPv4:
		return "IPv4"
	case EtherTypeARP:
		return "ARP"
	case EtherTypeVLAN:
		return "VLAN"
	case EtherTypeIPv6:
		return "IPv6"
	}
	return string(appendHex16(make([]byte, 0, 6), uint16(t)))
}

func appendHex16(b []byte, v uint16) []byte {
	return append(b, '0', 'x', hexDigits[v>>12], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf])
}

const (
	offEthDst  = 0
	offEthSrc  = 6
	offEthType = 12
)

// Ethernet is a view of an Ethernet II frame without FCS.
type Ethernet []byte

// ParseEthernet checks that b holds an Ethernet II header.
func ParseEthernet(b []byte) (Ethernet, error) {
	if len(b) < EthernetHeaderLen {
		return nil, ErrTruncated
	}
	return Ethernet(b), nil
}

// Dst returns the destination MAC address.
func (e Ethernet) Dst() MAC { return MAC(e[offEthDst : offEthDst+6]) }

// Src returns the source MAC address.
func (e Ethernet) Src() MAC { return MAC(e[offEthSrc : offEthSrc+6]) }

// Type returns the EtherType.
func (e Ethernet) Type() EtherType { return EtherType(binary.BigEndian.Uint16(e[offEthType:])) }

// Payload returns the bytes after the header.
func (e Ethernet) Payload() []byte { return e[EthernetHeaderLen:] }

// SetDst sets the destination MAC address.
func (e Ethernet) SetDst(m MAC) { *(*MAC)(e[offEthDst : offEthDst+6]) = m }

// SetSrc sets the source MAC address.
func (e Ethernet) SetSrc(m MAC) { *(*MAC)(e[offEthSrc : offEthSrc+6]) = m }

// SetType sets the EtherType.
func (e Ethernet) SetType(t EtherType) { binary.BigEndian.PutUint16(e[offEthType:], uint16(t)) }

// EthernetHeader is the build side of an Ethernet II header.
type EthernetHeader struct {
	Dst, Src MAC
	Type     EtherType
}

// Encode writes the 14-byte header into e.
func (h *EthernetHeader) Encode(e Ethernet) {
	e.SetDst(h.Dst)
	e.SetSrc(h.Src)
	e.SetType(h.Type)
}
