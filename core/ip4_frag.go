package core

import (
	"bytes"
	"math/bits"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// reassSlot is one datagram under reassembly. lwIP: struct ip_reassdata.
//
// Received data is tracked in 8-byte units (the fragment-offset unit) in a
// bitmap, so overlap and duplicate checks cost O(fragment), not O(datagram).
type reassSlot struct {
	used     bool
	src, dst wire.IPv4Addr
	id       uint16
	proto    wire.IPProto
	buf      *pbuf.Buf // payload goes at reassBase+offset
	bits     []uint64  // received 8-byte units
	hdr      [wire.IPv4MaxHeaderLen]byte
	hdrLen   int        // nonzero once fragment 0 arrived
	total    int        // payload length once the last fragment arrived, else -1
	flags    pbuf.Flags // LinkBroadcast if any fragment came as a link broadcast
	have     int        // payload bytes received
	deadline clock.Time
}

// reassTable holds the datagrams under reassembly; its memory is fixed by
// Config.ReassMaxDatagrams and Config.ReassMaxSize.
type reassTable struct {
	slots      []reassSlot
	maxPayload int
	timeout    clock.Duration
}

// reassBase is where payload byte 0 sits in a reassembly buffer: room for
// the IP header and everything below it.
const reassBase = pbuf.DeviceHeadroom + wire.EthernetHeaderLen + wire.IPv4MinHeaderLen + wire.TCPMaxHeaderLen + wire.IPv4MaxHeaderLen

func (t *reassTable) init(cfg Config) {
	t.slots = make([]reassSlot, cfg.ReassMaxDatagrams)
	t.maxPayload = cfg.ReassMaxSize - wire.IPv4MinHeaderLen
	t.timeout = cfg.ReassTimeout
	words := (t.maxPayload/8 + 1 + 63) / 64
	for i := range t.slots {
		t.slots[i].bits = make([]uint64, words)
	}
}

func (t *reassTable) busy() bool {
	for i := range t.slots {
		if t.slots[i].used {
			return true
		}
	}
	return false
}

// release frees a slot and its buffer.
func (t *reassTable) release(r *reassSlot) {
	if r.buf != nil {
		r.buf.Free()
	}
	bm := r.bits
	clear(bm)
	*r = reassSlot{bits: bm}
}

// tick expires partial datagrams (RFC 1122 §3.2.1.4: discard, and send Time
// Exceeded code 1 if fragment 0 arrived). lwIP: ip_reass_tmr.
func (t *reassTable) tick(s *Stack) {
	for i := range t.slots {
		r := &t.slots[i]
		if !r.used || s.now < r.deadline {
			continue
		}
		s.stats.IPDrop.ReassTimeout++
		s.stats.IP.Drop++
		if r.hdrLen > 0 {
			if n := s.localNetif(r.dst); n != nil {
				lead := r.buf.Bytes() // the window starts at reassBase
				lead = lead[:min(len(lead), 8, r.have)]
				s.icmpErrorRaw(n, r.hdr[:r.hdrLen], lead, r.flags, wire.ICMPv4TimeExceeded, wire.ICMPv4ReassExceeded, 0)
			}
		}
		t.release(r)
	}
}

// lookup finds or starts the slot for a fragment's datagram; nil when no
// buffer can be had.
func (t *reassTable) lookup(s *Stack, ip wire.IPv4) *reassSlot {
	src, dst, id, proto := ip.Src(), ip.Dst(), ip.ID(), ip.Protocol()
	var free, oldest *reassSlot
	for i := range t.slots {
		r := &t.slots[i]
		if !r.used {
			if free == nil {
				free = r
			}
			continue
		}
		if r.id == id && r.src == src && r.dst == dst && r.proto == proto {
			return r
		}
		if oldest == nil || r.deadline < oldest.deadline {
			oldest = r
		}
	}
	if free == nil {
		// Every slot is busy: drop the oldest partial datagram, as lwIP
		// does, which also returns its buffer.
		s.stats.IPDrop.ReassEvicted++
		s.stats.IP.Drop++
		t.release(oldest)
		free = oldest
	}
	b, err := s.reassPool.Alloc(pbuf.LayerRaw, 0)
	if err != nil {
		s.stats.IPDrop.ReassNoBuf++ // every buffer is held by an application
		return nil
	}
	b.SetWindow(reassBase, reassBase+t.maxPayload)
	*free = reassSlot{
		used: true, src: src, dst: dst, id: id, proto: proto, buf: b, bits: free.bits,
		total: -1, deadline: s.now.Add(t.timeout),
	}
	return free
}

// reassemble adds a fragment (b, whose data is the datagram ip) to its
// datagram. It takes ownership of b. It returns the whole datagram, in a
// buffer from the reassembly pool, once complete, and nil before.
// lwIP: ip4_reass.
func (s *Stack) reassemble(n *netif.Netif, b *pbuf.Buf, ip wire.IPv4) *pbuf.Buf {
	t := &s.reass
	d := &s.stats.IPDrop
	s.stats.IPFrag.Recv++
	defer b.Free()
	off, data := ip.FragOffset(), ip.Payload()
	more := ip.Flags()&wire.IPv4MoreFragments != 0
	end := off + len(data)
	// RFC 791: every fragment but the last carries a multiple of 8 bytes; no
	// datagram exceeds 65535 bytes (the "ping of death").
	if more && (len(data) == 0 || len(data)%8 != 0) || end+ip.HeaderLen() > wire.IPv4MaxTotalLen {
		d.BadFragment++
		s.stats.IPFrag.ProtErr++
		s.stats.IP.Drop++
		return nil
	}
	r := t.lookup(s, ip)
	if r == nil {
		s.stats.IP.Drop++
		return nil
	}
	if end > t.maxPayload {
		d.ReassTooBig++
		s.stats.IP.Drop++
		t.release(r)
		return nil
	}
	if r.total >= 0 && (end > r.total || !more && end != r.total) ||
		!more && r.total < 0 && r.anySetFrom(end) {
		d.ReassOverlap++ // fragments disagree on where the datagram ends
		s.stats.IP.Drop++
		t.release(r)
		return nil
	}
	if !more {
		r.total = end
	}
	r.flags |= b.Flags & pbuf.LinkBroadcast
	if len(data) > 0 {
		lo, hi := off/8, (end+7)/8
		dst := r.buf.Bytes()[off:end]
		switch set := r.countSet(lo, hi); {
		case set == hi-lo:
			// Whole duplicate (a retransmission or a duplicating link): ignore
			// it if the bytes agree, else someone is rewriting the datagram.
			if !bytes.Equal(dst, data) {
				d.ReassOverlap++
				s.stats.IP.Drop++
				t.release(r)
				return nil
			}
			d.ReassDup++
			return nil
		case set > 0:
			// A partial overlap: dropped whole, as RFC 5722 does for IPv6 and
			// Linux does for IPv4, so no overlap can rewrite a header.
			d.ReassOverlap++
			s.stats.IP.Drop++
			t.release(r)
			return nil
		}
		copy(dst, data)
		r.setRange(lo, hi)
		r.have += len(data)
	}
	if off == 0 {
		r.hdrLen = copy(r.hdr[:], ip[:ip.HeaderLen()])
	}
	if r.total < 0 || r.have != r.total || r.hdrLen == 0 {
		return nil
	}
	if r.hdrLen+r.total > t.maxPayload+wire.IPv4MinHeaderLen {
		d.ReassTooBig++ // options made it too long
		s.stats.IP.Drop++
		t.release(r)
		return nil
	}
	// Complete: put the first fragment's header in front, as one datagram.
	out := r.buf
	r.buf = nil
	out.Truncate(r.total)
	h := wire.IPv4(out.Prepend(r.hdrLen))
	copy(h, r.hdr[:r.hdrLen])
	h.SetTotalLen(r.hdrLen + r.total)
	h[6], h[7] = 0, 0 // flags and offset: a whole datagram now
	h.UpdateChecksum()
	out.Flags = r.flags
	t.release(r)
	return out
}

// countSet returns the number of received units in [lo, hi).
func (r *reassSlot) countSet(lo, hi int) int {
	c := 0
	for lo < hi {
		w, bit := lo/64, lo%64
		k := min(64-bit, hi-lo)
		mask := ^uint64(0) >> (64 - k) << bit
		c += bits.OnesCount64(r.bits[w] & mask)
		lo += k
	}
	return c
}

// setRange marks units [lo, hi) received.
func (r *reassSlot) setRange(lo, hi int) {
	for lo < hi {
		w, bit := lo/64, lo%64
		k := min(64-bit, hi-lo)
		r.bits[w] |= ^uint64(0) >> (64 - k) << bit
		lo += k
	}
}

// anySetFrom reports whether data was received at or beyond byte end.
func (r *reassSlot) anySetFrom(end int) bool {
	lo := (end + 7) / 8
	return r.countSet(lo, len(r.bits)*64) > 0
}
