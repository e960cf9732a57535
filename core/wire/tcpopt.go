package wire

import "encoding/binary"

// TCP option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018).
const (
	tcpOptEnd           = 0
	tcpOptNOP           = 1
	tcpOptMSS           = 2
	tcpOptWScale        = 3
	tcpOptSACKPermitted = 4
	tcpOptSACK          = 5
	tcpOptTimestamps    = 8
)

// MaxSACKBlocks is the most SACK blocks one option can carry (RFC 2018 §3).
const MaxSACKBlocks = 4

// MaxWScale is the largest window-scale shift (RFC 7323 §2.3); larger
// received values are used as 14.
const MaxWScale = 14

// SACKBlock is one block of a SACK option: [Left, Right).
type SACKBlock struct{ Left, Right Seq }

// TCPOptions is the decoded form of the options TCP uses. Zero values mean
// absent, except where a Has field says otherwise.
type TCPOptions struct {
	MSS           uint16 // 0: absent
	HasWScale     bool
	WScale        uint8 // the shift as received (may exceed MaxWScale)
	SACKPermitted bool
	HasTimestamps bool
	TSVal, TSEcr  uint32
	NumSACK       int // blocks in SACK[:NumSACK]
	SACK          [MaxSACKBlocks]SACKBlock
}

// ParseTCPOptions walks the option bytes of a TCP header (TCP.Options) into o.
// Unknown options are skipped by their length. An option with an illegal
// length, or one that runs past the header, returns ErrBadOption; the caller
// drops the segment. A repeated option keeps its last value.
func ParseTCPOptions(b []byte, o *TCPOptions) error {
	*o = TCPOptions{}
	for len(b) > 0 {
		kind := b[0]
		switch kind {
		case tcpOptEnd:
			return nil
		case tcpOptNOP:
			b = b[1:]
			continue
		}
		if len(b) < 2 {
			return ErrBadOption
		}
		n := int(b[1])
		if n < 2 || n > len(b) {
			return ErrBadOption
		}
		v := b[2:n]
		switch kind {
		case tcpOptMSS:
			if n != 4 {
				return ErrBadOption
			}
			o.MSS = binary.BigEndian.Uint16(v)
		case tcpOptWScale:
			if n != 3 {
				return ErrBadOption
			}
			o.HasWScale, o.WScale = true, v[0]
		case tcpOptSACKPermitted:
			if n != 2 {
				return ErrBadOption
			}
			o.SACKPermitted = true
		case tcpOptTimestamps:
			if n != 10 {
				return ErrBadOption
			}
			o.HasTimestamps = true
			o.TSVal = binary.BigEndian.Uint32(v)
			o.TSEcr = binary.BigEndian.Uint32(v[4:])
		case tcpOptSACK:
			if (n-2)%8 != 0 || n == 2 || (n-2)/8 > MaxSACKBlocks {
				return ErrBadOption
			}
			o.NumSACK = (n - 2) / 8
			o.SACK = [MaxSACKBlocks]SACKBlock{} // no stale blocks from an earlier SACK option
			for i := range o.NumSACK {
				o.SACK[i] = SACKBlock{
					Left:  Seq(binary.BigEndian.Uint32(v[8*i:])),
					Right: Seq(binary.BigEndian.Uint32(v[8*i+4:])),
				}
			}
		}
		b = b[n:]
	}
	return nil
}

// Len returns the encoded length of o, padded to a multiple of 4. SACK blocks
// beyond what fits in 40 option bytes are not counted (and not written).
func (o *TCPOptions) Len() int {
	n := 0
	if o.MSS != 0 {
		n += 4
	}
	if o.HasWScale {
		n += 4 // NOP + 3
	}
	if o.SACKPermitted {
		n += 4 // NOP NOP + 2 (or 2 + TS alignment)
	}
	if o.HasTimestamps {
		n += 12 // NOP NOP + 10
	}
	if k := o.sackFit(n); k > 0 {
		n += 4 + 8*k
	}
	return n
}

// sackFit returns how many SACK blocks fit after used option bytes.
func (o *TCPOptions) sackFit(used int) int {
	k := min(o.NumSACK, MaxSACKBlocks, (40-used-4)/8)
	return max(k, 0)
}

// encode writes the options into b, which is exactly o.Len() bytes.
func (o *TCPOptions) encode(b []byte) {
	i := 0
	if o.MSS != 0 {
		b[0], b[1] = tcpOptMSS, 4
		binary.BigEndian.PutUint16(b[2:], o.MSS)
		i = 4
	}
	if o.HasWScale {
		b[i], b[i+1], b[i+2], b[i+3] = tcpOptNOP, tcpOptWScale, 3, min(o.WScale, MaxWScale)
		i += 4
	}
	if o.SACKPermitted {
		b[i], b[i+1], b[i+2], b[i+3] = tcpOptNOP, tcpOptNOP, tcpOptSACKPermitted, 2
		i += 4
	}
	if o.HasTimestamps {
		b[i], b[i+1], b[i+2], b[i+3] = tcpOptNOP, tcpOptNOP, tcpOptTimestamps, 10
		binary.BigEndian.PutUint32(b[i+4:], o.TSVal)
		binary.BigEndian.PutUint32(b[i+8:], o.TSEcr)
		i += 12
	}
	if k := o.sackFit(i); k > 0 {
		b[i], b[i+1], b[i+2], b[i+3] = tcpOptNOP, tcpOptNOP, tcpOptSACK, uint8(2+8*k)
		i += 4
		for j := range k {
			binary.BigEndian.PutUint32(b[i:], uint32(o.SACK[j].Left))
			binary.BigEndian.PutUint32(b[i+4:], uint32(o.SACK[j].Right))
			i += 8
		}
	}
	for ; i < len(b); i++ {
		b[i] = tcpOptEnd
	}
}
