package tap

import (
	"encoding/binary"

	"github.com/lwgo/lwgo/core/wire"
)

// The virtio-net header (struct virtio_net_hdr, include/uapi/linux/virtio_net.h)
// that precedes every frame on a TAP opened with IFF_VNET_HDR. Legacy virtio
// headers are in the host's byte order; the kernel's default header size is
// these 10 bytes (TUNSETVNETHDRSZ is left alone).
const vnetHdrLen = 10

// Header flags (VIRTIO_NET_HDR_F_*).
const (
	vnetFNeedsCsum = 1 // checksum from CsumStart to the end, stored at CsumStart+CsumOffset
	vnetFDataValid = 2 // the kernel validated the checksum (ignored: we verify ourselves)
)

// GSO types (VIRTIO_NET_HDR_GSO_*).
const (
	vnetGSONone  = 0
	vnetGSOTCPv4 = 1
	vnetGSOECN   = 0x80 // flag: the TCP segments carry ECN (CWR only on the first)
)

// vnetHdr is a decoded virtio_net_hdr.
type vnetHdr struct {
	Flags      uint8
	GSOType    uint8
	HdrLen     uint16 // a hint from the kernel; never trusted
	GSOSize    uint16 // payload bytes per segment
	CsumStart  uint16
	CsumOffset uint16
}

// decodeVnetHdr decodes the first vnetHdrLen bytes of b, which must be that long.
func decodeVnetHdr(b []byte) vnetHdr {
	e := binary.NativeEndian
	return vnetHdr{
		Flags:      b[0],
		GSOType:    b[1],
		HdrLen:     e.Uint16(b[2:]),
		GSOSize:    e.Uint16(b[4:]),
		CsumStart:  e.Uint16(b[6:]),
		CsumOffset: e.Uint16(b[8:]),
	}
}

// encode writes h into the first vnetHdrLen bytes of b.
func (h *vnetHdr) encode(b []byte) {
	e := binary.NativeEndian
	b[0], b[1] = h.Flags, h.GSOType
	e.PutUint16(b[2:], h.HdrLen)
	e.PutUint16(b[4:], h.GSOSize)
	e.PutUint16(b[6:], h.CsumStart)
	e.PutUint16(b[8:], h.CsumOffset)
}

// completeChecksum finishes a checksum-partial frame (VIRTIO_NET_HDR_F_NEEDS_CSUM)
// in place, as the kernel's skb_checksum_help does: the checksum field already
// holds the pseudo-header sum, so the Internet checksum of frame[start:] goes
// into frame[start+offset:]. A result of 0 is sent as 0xffff (CSUM_MANGLED_0).
// It reports false, changing nothing, when the offsets do not fit the frame.
func completeChecksum(frame []byte, start, offset int) bool {
	if start < wire.EthernetHeaderLen || start >= len(frame) || offset < 0 || start+offset+2 > len(frame) || offset&1 != 0 {
		return false
	}
	c := wire.Fold(wire.Checksum(frame[start:], 0))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(frame[start+offset:], c)
	return true
}

// Offsets inside the headers that segmentation rewrites.
const (
	offIPTotalLen = 2
	offIPID       = 4
	offIPCsum     = 10
	offTCPSeq     = 4
	offTCPFlags   = 13
	offTCPCsum    = 16
)

// TCP flags that segmentation keeps on only one segment.
const (
	tcpFIN = 0x01
	tcpPSH = 0x08
	tcpCWR = 0x80
)

// gsoFrame is a TCPv4 super-frame being cut into MSS-sized frames
// (the kernel's tcp_gso_segment, done in userspace).
type gsoFrame struct {
	frame  []byte // Ethernet + IPv4 + TCP headers + the whole payload
	hdrLen int    // Ethernet + IPv4 + TCP headers
	ipOff  int    // start of the IPv4 header
	tcpOff int    // start of the TCP header
	mss    int    // payload bytes per segment
	nseg   int    // segments in all
	next   int    // next segment to produce
}

// pending reports whether segments are left to produce.
func (g *gsoFrame) pending() bool { return g.next < g.nseg }

// reset drops the super-frame.
func (g *gsoFrame) reset() { *g = gsoFrame{} }

// initGSO validates a TCPv4 GSO super-frame (Ethernet frame, header already
// removed) and prepares g to segment it into frames of at most maxFrame bytes.
// It reports false for anything it cannot segment: not IPv4/TCP, an IPv4
// fragment, bad header lengths, a zero or oversized segment size. The
// frame's length fields and checksums are not trusted: segmentation rewrites
// them all.
func (g *gsoFrame) initGSO(frame []byte, h vnetHdr, maxFrame int) bool {
	g.reset()
	const ethLen = wire.EthernetHeaderLen
	if len(frame) < ethLen+wire.IPv4MinHeaderLen+wire.TCPMinHeaderLen {
		return false
	}
	if binary.BigEndian.Uint16(frame[12:]) != uint16(wire.EtherTypeIPv4) {
		return false
	}
	ip := frame[ethLen:]
	ihl := int(ip[0]&0xf) * 4
	if ip[0]>>4 != 4 || ihl < wire.IPv4MinHeaderLen || ethLen+ihl+wire.TCPMinHeaderLen > len(frame) {
		return false
	}
	if wire.IPProto(ip[9]) != wire.ProtoTCP || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
		return false // not TCP, or a fragment (MF set or an offset)
	}
	tcpOff := ethLen + ihl
	doff := int(frame[tcpOff+12]>>4) * 4
	hdrLen := tcpOff + doff
	if doff < wire.TCPMinHeaderLen || hdrLen > len(frame) {
		return false
	}
	mss := int(h.GSOSize)
	payload := len(frame) - hdrLen
	if mss == 0 || payload == 0 || hdrLen+mss > maxFrame {
		return false
	}
	*g = gsoFrame{
		frame: frame, hdrLen: hdrLen, ipOff: ethLen, tcpOff: tcpOff, mss: mss,
		nseg: (payload + mss - 1) / mss,
	}
	return true
}

// segment writes segment g.next into out, which must hold at least
// hdrLen+mss bytes, advances g and returns the segment's length. Both
// checksums are computed in full.
func (g *gsoFrame) segment(out []byte) int {
	i := g.next
	g.next++
	start := g.hdrLen + i*g.mss
	end := min(start+g.mss, len(g.frame))
	n := copy(out, g.frame[:g.hdrLen])
	n += copy(out[n:], g.frame[start:end])
	out = out[:n]
	last := g.next == g.nseg

	ip := out[g.ipOff:g.tcpOff]
	binary.BigEndian.PutUint16(ip[offIPTotalLen:], uint16(n-g.ipOff))
	id := binary.BigEndian.Uint16(g.frame[g.ipOff+offIPID:])
	binary.BigEndian.PutUint16(ip[offIPID:], id+uint16(i))
	binary.BigEndian.PutUint16(ip[offIPCsum:], 0)
	binary.BigEndian.PutUint16(ip[offIPCsum:], wire.Fold(wire.Checksum(ip, 0)))

	tcp := out[g.tcpOff:]
	seq := binary.BigEndian.Uint32(g.frame[g.tcpOff+offTCPSeq:])
	binary.BigEndian.PutUint32(tcp[offTCPSeq:], seq+uint32(i*g.mss))
	if !last {
		tcp[offTCPFlags] &^= tcpFIN | tcpPSH
	}
	if i > 0 {
		tcp[offTCPFlags] &^= tcpCWR
	}
	v4 := wire.IPv4(ip)
	wire.TCP(tcp).UpdateChecksum(v4.Src(), v4.Dst())
	return n
}

// txHeader fills h for an outgoing IPv4/TCP frame whose checksum field holds
// the pseudo-header sum (Linux's CHECKSUM_PARTIAL convention) and which, if
// gsoSize is not 0 (and tso allowed), the kernel is to cut into segments of
// gsoSize payload bytes. It reports false for a frame that is not IPv4/TCP
// with sane header lengths.
func txHeader(h *vnetHdr, frame []byte, gsoSize uint16, tso bool) bool {
	const ethLen = wire.EthernetHeaderLen
	if len(frame) < ethLen+wire.IPv4MinHeaderLen+wire.TCPMinHeaderLen ||
		binary.BigEndian.Uint16(frame[12:]) != uint16(wire.EtherTypeIPv4) {
		return false
	}
	ihl := int(frame[ethLen]&0xf) * 4
	tcpOff := ethLen + ihl
	if frame[ethLen]>>4 != 4 || ihl < wire.IPv4MinHeaderLen || wire.IPProto(frame[ethLen+9]) != wire.ProtoTCP ||
		tcpOff+wire.TCPMinHeaderLen > len(frame) {
		return false
	}
	doff := int(frame[tcpOff+12]>>4) * 4
	if doff < wire.TCPMinHeaderLen || tcpOff+doff > len(frame) {
		return false
	}
	*h = vnetHdr{Flags: vnetFNeedsCsum, CsumStart: uint16(tcpOff), CsumOffset: offTCPCsum}
	if gsoSize != 0 {
		if !tso || tcpOff+doff == len(frame) {
			return false
		}
		h.GSOType, h.GSOSize, h.HdrLen = vnetGSOTCPv4, gsoSize, uint16(tcpOff+doff)
	}
	return true
}
