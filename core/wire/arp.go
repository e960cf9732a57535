package wire

import "encoding/binary"

// ARPLen is the length of an ARP packet for IPv4 over Ethernet (RFC 826).
const ARPLen = 28

// ARPOp is the ARP operation code.
type ARPOp uint16

// ARP operations (RFC 826).
const (
	ARPRequest ARPOp = 1
	ARPReply   ARPOp = 2
)

const (
	offARPHType = 0
	offARPPType = 2
	offARPHLen  = 4
	offARPPLen  = 5
	offARPOp    = 6
	offARPSHA   = 8
	offARPSPA   = 14
	offARPTHA   = 18
	offARPTPA   = 24

	arpHTypeEthernet = 1
)

// ARP is a view of an ARP packet for IPv4 over Ethernet.
type ARP []byte

// ParseARP checks that b is an Ethernet/IPv4 ARP packet. Packets for other
// hardware or protocol types return ErrUnsupported.
func ParseARP(b []byte) (ARP, error) {
	if len(b) < ARPLen {
		return nil, ErrTruncated
	}
	a := ARP(b[:ARPLen])
	if binary.BigEndian.Uint16(a[offARPHType:]) != arpHTypeEthernet ||
		EtherType(binary.BigEndian.Uint16(a[offARPPType:])) != EtherTypeIPv4 ||
		a[offARPHLen] != 6 || a[offARPPLen] != 4 {
		return nil, ErrUnsupported
	}
	return a, nil
}

// Op returns the operation.
func (a ARP) Op() ARPOp { return ARPOp(binary.BigEndian.Uint16(a[offARPOp:])) }

// SenderMAC returns the sender hardware address.
func (a ARP) SenderMAC() MAC { return MAC(a[offARPSHA : offARPSHA+6]) }

// SenderIP returns the sender protocol address.
func (a ARP) SenderIP() IPv4Addr { return IPv4Addr(a[offARPSPA : offARPSPA+4]) }

// TargetMAC returns the target hardware address.
func (a ARP) TargetMAC() MAC { return MAC(a[offARPTHA : offARPTHA+6]) }

// TargetIP returns the target protocol address.
func (a ARP) TargetIP() IPv4Addr { return IPv4Addr(a[offARPTPA : offARPTPA+4]) }

// ARPHeader is the build side of an Ethernet/IPv4 ARP packet.
type ARPHeader struct {
	Op                   ARPOp
	SenderMAC, TargetMAC MAC
	SenderIP, TargetIP   IPv4Addr
}

// Encode writes the 28-byte packet into a.
func (h *ARPHeader) Encode(a ARP) {
	binary.BigEndian.PutUint16(a[offARPHType:], arpHTypeEthernet)
	binary.BigEndian.PutUint16(a[offARPPType:], uint16(EtherTypeIPv4))
	a[offARPHLen] = 6
	a[offARPPLen] = 4
	binary.BigEndian.PutUint16(a[offARPOp:], uint16(h.Op))
	copy(a[offARPSHA:], h.SenderMAC[:])
	copy(a[offARPSPA:], h.SenderIP[:])
	copy(a[offARPTHA:], h.TargetMAC[:])
	copy(a[offARPTPA:], h.TargetIP[:])
}
