package tcp

import (
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// The send queue holds the bytes from snd.bufSeq on: sent and
// unacknowledged, then unsent. Segments are cut from it at send time, so
// their boundaries do not depend on how the application wrote; they are
// copied into fresh buffers, so a retransmission never touches a buffer a
// device may still hold.

// nodeLen returns the bytes a send-queue node holds.
func (l *Layer) nodeLen(i int32) int {
	n := &l.nodes[i]
	if n.buf != nil {
		return n.buf.Len()
	}
	return len(n.ext)
}

// sendBuffer is the honest send budget: the bytes a copying Write can queue
// now. It counts the connection's byte budget, the room in its last buffer,
// the pool's free buffers beyond the reserve, and free queue nodes, so that
// a Write of this many bytes cannot fail.
func (l *Layer) sendBuffer(c *pcb) int {
	room := l.cfg.SndBuf - c.snd.queued
	if room <= 0 {
		return 0
	}
	tail := 0
	if t := c.snd.q.tail; t >= 0 && l.nodes[t].buf != nil {
		tail = l.nodes[t].buf.Tailroom()
	}
	bufs := min(l.pool.Available()-l.cfg.ReserveBufs, l.nodesFree)
	if bufs < 0 {
		bufs = 0
	}
	return min(room, tail+bufs*l.pool.SlotSize())
}

// sndEnqueue appends p to the send queue (see Conn.Write).
func (l *Layer) sndEnqueue(c *pcb, p []byte, f WriteFlags) error {
	if f&WriteNoCopy != 0 {
		if len(p) > l.cfg.SndBuf-c.snd.queued || l.nocopy >= noCopyNodes || l.nodesFree == 0 {
			return errs.ErrMem
		}
		i := l.allocNode()
		l.nodes[i].ext = p
		l.push(&c.snd.q, i)
		l.nocopy++
		c.snd.queued += len(p)
		return nil
	}
	if len(p) > l.sendBuffer(c) {
		return errs.ErrMem
	}
	c.snd.queued += len(p)
	if t := c.snd.q.tail; t >= 0 && l.nodes[t].buf != nil {
		b := l.nodes[t].buf
		k := min(b.Tailroom(), len(p))
		copy(b.Append(k), p)
		p = p[k:]
	}
	for len(p) > 0 {
		k := min(len(p), l.pool.SlotSize())
		b, err := l.pool.Alloc(pbuf.LayerRaw, k)
		if err != nil { // sendBuffer promised room; this cannot happen
			panic("tcp: send budget broken")
		}
		copy(b.Bytes(), p)
		p = p[k:]
		i := l.allocNode()
		l.nodes[i].buf = b
		l.push(&c.snd.q, i)
	}
	return nil
}

// sndTrim removes n acknowledged bytes from the head of the send queue.
func (l *Layer) sndTrim(c *pcb, n int) {
	n = min(n, c.snd.queued)
	c.snd.queued -= n
	c.snd.bufSeq = c.snd.bufSeq.Add(wire.Size(n))
	curGone := false
	for rem := n; rem > 0; {
		h := c.snd.q.head
		k := l.nodeLen(h)
		if k <= rem {
			rem -= k
			if h == c.snd.cur {
				curGone = true
			}
			if l.nodes[h].buf == nil {
				l.nocopy--
			}
			l.popNode(&c.snd.q)
			continue
		}
		if b := l.nodes[h].buf; b != nil {
			b.Consume(rem)
		} else {
			l.nodes[h].ext = l.nodes[h].ext[rem:]
		}
		rem = 0
	}
	switch {
	case curGone || c.snd.cur < 0:
		c.snd.cur = -1
	case c.snd.cur == c.snd.q.head:
		c.snd.curOff = 0
	default:
		c.snd.curOff -= n
	}
}

// sndCopy copies len(dst) queued bytes starting at byte offset off of the
// queue into dst.
func (l *Layer) sndCopy(c *pcb, dst []byte, off int) {
	i, base := c.snd.cur, c.snd.curOff
	if i < 0 || off < base {
		i, base = c.snd.q.head, 0
	}
	for len(dst) > 0 && i >= 0 {
		n := &l.nodes[i]
		var src []byte
		if n.buf != nil {
			src = n.buf.Bytes()
		} else {
			src = n.ext
		}
		if off < base+len(src) {
			c.snd.cur, c.snd.curOff = i, base
			k := copy(dst, src[off-base:])
			dst = dst[k:]
			off += k
		}
		base += len(src)
		i = n.next
	}
}

// popNode removes the head node of q and frees its buffer and the node.
func (l *Layer) popNode(q *segList) {
	i := q.head
	q.head = l.nodes[i].next
	if q.head < 0 {
		q.tail = -1
	}
	if b := l.nodes[i].buf; b != nil {
		b.Free()
	}
	l.freeNode(i)
}

// recved reopens the window by n consumed bytes, announcing it at once when
// the right edge moves enough (lwIP TCP_WND_UPDATE_THRESHOLD: min(wnd/4,
// 4·MSS)); receiver-side SWS avoidance keeps smaller updates for later.
func (l *Layer) recved(c *pcb, n int) {
	n = min(n, c.rcv.unrecved)
	if n <= 0 {
		return
	}
	c.rcv.unrecved -= n
	// Recompute rather than add: data accepted up to a rounded-up edge may
	// have exceeded the window (queueReady stops at zero).
	c.rcv.wnd = uint32(max(l.cfg.RcvBuf-c.rcv.readyLen-c.rcv.unrecved, 0))
	if !c.state.synchronized() || c.state == CloseWait || c.state == LastAck || c.state == Closing || c.state == TimeWait {
		return
	}
	// Only what the window field can announce counts: without scaling, a
	// receive buffer beyond 64 KiB is no reason for an update.
	edge := c.rcv.NXT.Add(wire.Size(min(c.rcv.wnd, uint32(0xffff)<<c.rcv.scale)))
	thresh := min(uint32(l.cfg.RcvBuf)/4, 4*c.rcv.mss)
	if c.rcv.adv.LessThan(edge) && uint32(edge.Sub(c.rcv.adv)) >= thresh {
		c.flags |= fAckNow
		if !l.deferOutput(c) {
			l.output(c)
		}
	}
}

// oooInsert keeps an out-of-order segment: the node i (buffer holding
// exactly the payload, seq and fin set) goes into the sorted queue, trimmed
// against what is there. It reports whether the node was kept.
func (l *Layer) oooInsert(c *pcb, i int32) bool {
	n := &l.nodes[i]
	seq, end := n.seq, n.seq.Add(wire.Size(n.buf.Len()))
	prev := int32(-1)
	for j := c.rcv.ooseq.head; j >= 0; {
		m := &l.nodes[j]
		mEnd := m.seq.Add(wire.Size(m.buf.Len()))
		if end.LessThanEq(m.seq) {
			break // goes before m
		}
		if m.seq.LessThanEq(seq) && end.LessThanEq(mEnd) && !(n.fin && !m.fin && end == mEnd) {
			return false // wholly covered
		}
		if seq.LessThanEq(m.seq) && mEnd.LessThanEq(end) {
			// n covers m: drop m.
			nx := m.next
			if prev < 0 {
				c.rcv.ooseq.head = nx
			} else {
				l.nodes[prev].next = nx
			}
			if nx < 0 {
				c.rcv.ooseq.tail = prev
			}
			m.buf.Free()
			l.freeNode(j)
			c.rcv.ooCount--
			l.ooseq--
			j = nx
			continue
		}
		if m.seq.LessThan(seq) && seq.LessThan(mEnd) {
			// Overlaps m's tail: keep only our part after m.
			k := int(mEnd.Sub(seq))
			n.buf.Consume(k)
			seq = mEnd
			n.seq = seq
		} else if seq.LessThan(m.seq) && m.seq.LessThan(end) {
			// Overlaps m's head: cut ours short.
			n.buf.Truncate(int(m.seq.Sub(seq)))
			end = m.seq
			n.fin = false
			break
		}
		prev, j = j, m.next
	}
	if n.buf.Len() == 0 && !n.fin {
		return false
	}
	// Link after prev.
	if prev < 0 {
		n.next = c.rcv.ooseq.head
		c.rcv.ooseq.head = i
	} else {
		n.next = l.nodes[prev].next
		l.nodes[prev].next = i
	}
	if n.next < 0 {
		c.rcv.ooseq.tail = i
	}
	c.rcv.ooCount++
	l.ooseq++
	c.rcv.lastOOO = seq
	return true
}

// sackBlocks fills blocks from the out-of-order queue (RFC 2018 §4): the
// block holding the latest arrival first, then the others in order.
func (l *Layer) sackBlocks(c *pcb, blocks []wire.SACKBlock) int {
	var all [8]wire.SACKBlock
	n := 0
	for j := c.rcv.ooseq.head; j >= 0; j = l.nodes[j].next {
		m := &l.nodes[j]
		left, right := m.seq, m.seq.Add(wire.Size(m.buf.Len()))
		if n > 0 && all[n-1].Right == left {
			all[n-1].Right = right
			continue
		}
		if n == len(all) {
			break
		}
		all[n] = wire.SACKBlock{Left: left, Right: right}
		n++
	}
	k := 0
	for i := range n {
		if c.rcv.lastOOO.InRange(all[i].Left, all[i].Right) {
			blocks[0] = all[i]
			k = 1
			break
		}
	}
	for i := 0; i < n && k < len(blocks); i++ {
		if k > 0 && all[i] == blocks[0] {
			continue
		}
		blocks[k] = all[i]
		k++
	}
	return k
}
