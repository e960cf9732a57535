package wire

import "encoding/binary"

// TCP header constants (RFC 9293 §3.1).
const (
	TCPMinHeaderLen = 20
	TCPMaxHeaderLen = 60
	// TCPDefaultMSS is the MSS assumed when the peer sends none (RFC 9293 §3.7.1).
	TCPDefaultMSS = 536
)

// TCPFlags is the set of TCP control bits.
type TCPFlags uint8

// TCP control bits.
const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether all bits of g are set in f.
func (f TCPFlags) Has(g TCPFlags) bool { return f&g == g }

// HasAny reports whether any bit of g is set in f.
func (f TCPFlags) HasAny(g TCPFlags) bool { return f&g != 0 }

// AppendTo appends the flags as "[SYN,ACK]" and returns the extended slice.
func (f TCPFlags) AppendTo(b []byte) []byte {
	names := [8]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	b = append(b, '[')
	first := true
	for i, n := range names {
		if f&(1<<i) != 0 {
			if !first {
				b = append(b, ',')
			}
			b = append(b, n...)
			first = false
		}
	}
	return append(b, ']')
}

// String returns the flags as "[SYN,ACK]".
func (f TCPFlags) String() string { return string(f.AppendTo(nil)) }

const (
	offTCPSrcPort = 0
	offTCPDstPort = 2
	offTCPSeq     = 4
	offTCPAck     = 8
	offTCPDataOff = 12
	offTCPFlags   = 13
	offTCPWindow  = 14
	offTCPCsum    = 16
	offTCPUrgent  = 18
)

// TCP is a view of a TCP segment.
type TCP []byte

// ParseTCP checks that b holds a TCP header whose data offset lies within b.
// Options are not examined; ParseTCPOptions walks them.
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < TCPMinHeaderLen {
		return nil, ErrTruncated
	}
	if n := TCP(b).HeaderLen(); n < TCPMinHeaderLen || n > len(b) {
		return nil, ErrBadHeaderLen
	}
	return TCP(b), nil
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[offTCPSrcPort:]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[offTCPDstPort:]) }

// Seq returns the sequence number.
func (t TCP) Seq() Seq { return Seq(binary.BigEndian.Uint32(t[offTCPSeq:])) }

// Ack returns the acknowledgment number.
func (t TCP) Ack() Seq { return Seq(binary.BigEndian.Uint32(t[offTCPAck:])) }

// HeaderLen returns the data offset in bytes.
func (t TCP) HeaderLen() int { return int(t[offTCPDataOff]>>4) * 4 }

// Flags returns the control bits.
func (t TCP) Flags() TCPFlags { return TCPFlags(t[offTCPFlags]) }

// Window returns the unscaled window field.
func (t TCP) Window() uint16 { return binary.BigEndian.Uint16(t[offTCPWindow:]) }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[offTCPCsum:]) }

// Urgent returns the urgent pointer.
func (t TCP) Urgent() uint16 { return binary.BigEndian.Uint16(t[offTCPUrgent:]) }

// Options returns the option bytes.
func (t TCP) Options() []byte { return t[TCPMinHeaderLen:t.HeaderLen()] }

// Payload returns the segment data.
func (t TCP) Payload() []byte { return t[t.HeaderLen():] }

// IsChecksumValid reports whether the checksum verifies against the pseudo-header.
func (t TCP) IsChecksumValid(src, dst IPv4Addr) bool {
	return Fold(Checksum(t, PseudoHeaderSum(src, dst, ProtoTCP, len(t)))) == 0
}

// SetChecksum sets the checksum field.
func (t TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(t[offTCPCsum:], c) }

// UpdateChecksum computes the checksum over the whole segment and the
// pseudo-header, and stores it.
func (t TCP) UpdateChecksum(src, dst IPv4Addr) {
	t.SetChecksum(0)
	t.SetChecksum(Fold(Checksum(t, PseudoHeaderSum(src, dst, ProtoTCP, len(t)))))
}

// TCPHeader is the build side of a TCP header with options. Options are
// written in a fixed order, each aligned as RFC 7323 Appendix A suggests.
type TCPHeader struct {
	SrcPort, DstPort uint16
	Seq, Ack         Seq
	Flags            TCPFlags
	Window           uint16
	Urgent           uint16
	Options          TCPOptions
}

// Len returns the header length Encode writes: 20 bytes plus options and
// padding, a multiple of 4.
func (h *TCPHeader) Len() int { return TCPMinHeaderLen + h.Options.Len() }

// Encode writes the header and options into t with a zero checksum.
// It writes h.Len() bytes; t must be at least that long.
func (h *TCPHeader) Encode(t TCP) {
	n := h.Len()
	binary.BigEndian.PutUint16(t[offTCPSrcPort:], h.SrcPort)
	binary.BigEndian.PutUint16(t[offTCPDstPort:], h.DstPort)
	binary.BigEndian.PutUint32(t[offTCPSeq:], uint32(h.Seq))
	binary.BigEndian.PutUint32(t[offTCPAck:], uint32(h.Ack))
	t[offTCPDataOff] = uint8(n/4) << 4
	t[offTCPFlags] = uint8(h.Flags)
	binary.BigEndian.PutUint16(t[offTCPWindow:], h.Window)
	binary.BigEndian.PutUint16(t[offTCPCsum:], 0)
	binary.BigEndian.PutUint16(t[offTCPUrgent:], h.Urgent)
	h.Options.encode(t[TCPMinHeaderLen:n])
}
