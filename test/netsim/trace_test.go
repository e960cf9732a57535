package netsim

import (
	"encoding/binary"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/rawapi"
)

// traceFlag turns on a segment trace: one line per TCP segment a stack
// sends ("A sends") and per segment that reaches the wire after the fault
// wrapper ("A→B"), for the connection whose client port it names (0: every
// connection). For debugging failures:
//
//	go test ./test/netsim -run TestX -v -netsim.trace=59471
var traceFlag = flag.Int("netsim.trace", -1, "trace the TCP segments of the connection with this client port (0: all)")

// segment is the part of a TCP/IPv4 frame the taps look at.
type segment struct {
	srcPort, dstPort uint16
	seq, ack         uint32
	flags            uint8 // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
	wnd              uint16
	payload          int
	ipLen            int // IPv4 total length
	opts             []byte
}

// parseSegment decodes a TCP/IPv4 Ethernet frame; ok is false for others.
func parseSegment(f []byte) (s segment, ok bool) {
	if len(f) < 14+20 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return s, false
	}
	ip := f[14:]
	ihl := int(ip[0]&0xf) * 4
	s.ipLen = int(binary.BigEndian.Uint16(ip[2:]))
	if ip[9] != 6 || ihl < 20 || s.ipLen > len(ip) || s.ipLen < ihl+20 {
		return s, false
	}
	tcp := ip[ihl:s.ipLen]
	hl := int(tcp[12]>>4) * 4
	if hl < 20 || hl > len(tcp) {
		return s, false
	}
	s.srcPort, s.dstPort = binary.BigEndian.Uint16(tcp[0:]), binary.BigEndian.Uint16(tcp[2:])
	s.seq, s.ack = binary.BigEndian.Uint32(tcp[4:]), binary.BigEndian.Uint32(tcp[8:])
	s.flags, s.wnd = tcp[13], binary.BigEndian.Uint16(tcp[14:])
	s.payload = len(tcp) - hl
	s.opts = tcp[20:hl]
	return s, true
}

// String is one RFC-style line per segment.
func (s segment) String() string {
	var b strings.Builder
	var fl []string
	for i, n := range []string{"FIN", "SYN", "RST", "PSH", "ACK"} {
		if s.flags&(1<<i) != 0 {
			fl = append(fl, n)
		}
	}
	fmt.Fprintf(&b, "%d>%d <SEQ=%d><ACK=%d><WND=%d>[%s] (%d bytes, IP %d)", s.srcPort, s.dstPort,
		s.seq, s.ack, s.wnd, strings.Join(fl, ","), s.payload, s.ipLen)
	for o := s.opts; len(o) > 0; {
		if o[0] == 0 {
			break
		}
		if o[0] == 1 {
			o = o[1:]
			continue
		}
		if len(o) < 2 || int(o[1]) < 2 || int(o[1]) > len(o) {
			b.WriteString(" <bad options>")
			break
		}
		v := o[2:o[1]]
		switch {
		case o[0] == 2 && len(v) == 2:
			fmt.Fprintf(&b, " MSS=%d", binary.BigEndian.Uint16(v))
		case o[0] == 3 && len(v) == 1:
			fmt.Fprintf(&b, " WS=%d", v[0])
		case o[0] == 4:
			b.WriteString(" SACKOK")
		case o[0] == 5:
			b.WriteString(" SACK")
			for ; len(v) >= 8; v = v[8:] {
				fmt.Fprintf(&b, "[%d,%d)", binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:]))
			}
		case o[0] == 8 && len(v) == 8:
			fmt.Fprintf(&b, " TS=%d/%d", binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:]))
		}
		o = o[o[1]:]
	}
	return b.String()
}

// tapCounts counts the TCP segments one tap saw.
type tapCounts struct {
	segments, data, pureACKs int
	dropped                  int // by the tap's filter
	maxIPLen                 int
	isn                      map[uint16]uint32
}

// tap is a Device wrapper that traces and counts the TCP segments going
// through it and may drop some (simConfig.dropAB, dropBA). Two sit on each
// side: outside the fault wrapper (what the stack sends) and inside it
// (what reaches the wire).
type tap struct {
	netif.Device
	s      *sim
	name   string
	trace  bool
	drop   func(seg segment, rel uint32) bool
	counts tapCounts
}

// NextDeadline forwards the inner device's deadline (a fault wrapper's).
func (d *tap) NextDeadline() rawapi.Time {
	if in, ok := d.Device.(interface{ NextDeadline() rawapi.Time }); ok {
		return in.NextDeadline()
	}
	return rawapi.Never
}

// Transmit looks at each frame, then passes the survivors on.
func (d *tap) Transmit(frames []*pbuf.Buf) int {
	j := 0
	for _, b := range frames {
		seg, ok := parseSegment(b.Bytes())
		if ok {
			c := &d.counts
			c.segments++
			c.maxIPLen = max(c.maxIPLen, seg.ipLen)
			switch {
			case seg.payload > 0:
				c.data++
			case seg.flags&^0x08 == 0x10: // ACK, perhaps PSH, nothing else
				c.pureACKs++
			}
			if seg.flags&0x02 != 0 {
				if c.isn == nil {
					c.isn = map[uint16]uint32{}
				}
				c.isn[seg.srcPort] = seg.seq
			}
			if d.trace && (*traceFlag == 0 || int(seg.srcPort) == *traceFlag || int(seg.dstPort) == *traceFlag) {
				d.s.t.Logf("%12v %s %v", time.Duration(d.s.clk.Now()), d.name, seg)
			}
			if d.drop != nil && d.drop(seg, seg.seq-c.isn[seg.srcPort]) {
				c.dropped++
				if d.trace {
					d.s.t.Logf("%12v %s dropped by the test", time.Duration(d.s.clk.Now()), d.name)
				}
				b.Free()
				continue
			}
		}
		frames[j] = b
		j++
	}
	n := d.Device.Transmit(frames[:j])
	if n < j {
		// The inner device refused the rest; they are the caller's again,
		// but the caller counts from the full slice: free them here.
		for _, b := range frames[n:j] {
			b.Free()
		}
	}
	return len(frames)
}
