package tcp

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

// twRec is a connection in TIME-WAIT, kept as a compact record: no
// connection slot, no buffers (lwIP keeps a whole tcp_pcb for 2·MSL).
type twRec struct {
	used     bool
	hasTS    bool
	scale    uint8
	id       tuple
	sndNXT   wire.Seq
	rcvNXT   wire.Seq
	wnd      uint32 // window to announce
	tsRecent uint32
	tsOffset uint32
	expires  clock.Time
}

// TIME-WAIT records all live for Config.TimeWait, so they expire in the
// order they were made: the table is a ring with the oldest at twHead and
// the next free slot at twHead+twLen. A record removed early (reused by a
// SYN) leaves a hole that the head skips; a record whose life a
// retransmitted FIN extended keeps its place and may hold younger records
// back until it expires, which only lengthens their TIME-WAIT.

// twEnter turns c into a TIME-WAIT record and releases it (RFC 9293
// §3.10.7.4). When the ring is full the oldest record is recycled.
func (l *Layer) twEnter(c *pcb) {
	n := len(l.tw)
	if l.twLen == n {
		if h := &l.tw[l.twHead]; h.used {
			l.stats.TimeWaitRecycled++
			l.twIdx.del(h.id)
			*h = twRec{}
		}
		l.twHead = (l.twHead + 1) % n
		l.twLen--
	}
	ri := (l.twHead + l.twLen) % n
	l.twLen++
	r := &l.tw[ri]
	*r = twRec{
		used: true, hasTS: c.flags&fTimestamps != 0, scale: c.rcv.scale, id: c.id,
		sndNXT: c.snd.NXT, rcvNXT: c.rcv.NXT, wnd: c.rcv.wnd,
		tsRecent: c.ts.recent, tsOffset: c.ts.offset,
		expires: l.now.Add(l.cfg.TimeWait),
	}
	l.release(c)
	l.twIdx.put(r.id, int32(ri))
	l.arm(r.expires)
}

// twRemove frees record i; its slot stays a hole until the head passes it.
func (l *Layer) twRemove(i int32) {
	r := &l.tw[i]
	l.twIdx.del(r.id)
	*r = twRec{}
}

// timewaitInput handles a segment for a TIME-WAIT record. It reports true
// when the segment is a SYN that may open a new connection (RFC 6191 with
// timestamps, RFC 1122 §4.2.2.13 without) and the record is gone.
// lwIP: tcp_timewait_input.
func (l *Layer) timewaitInput(i int32) bool {
	in := &l.in
	r := &l.tw[i]
	switch {
	case in.flags.Has(wire.FlagRST):
		return false // RFC 1337: ignore RST in TIME-WAIT
	case in.flags.Has(wire.FlagSYN) && !in.flags.Has(wire.FlagACK):
		newer := r.rcvNXT.LessThan(in.seq)
		if r.hasTS && in.opts.HasTimestamps {
			newer = int32(in.opts.TSVal-r.tsRecent) > 0
		}
		if newer {
			l.stats.TimeWaitReused++
			l.twRemove(i)
			return true
		}
		l.twAck(r)
		return false
	case !in.flags.Has(wire.FlagACK):
		return false
	case in.flags.Has(wire.FlagFIN):
		// A retransmitted FIN: our last ACK was lost. Acknowledge it and
		// restart the 2·MSL timeout.
		r.expires = l.now.Add(l.cfg.TimeWait)
		l.arm(r.expires)
		l.twAck(r)
	case in.seq != r.rcvNXT || in.data > 0:
		l.twAck(r)
	}
	return false
}

func (l *Layer) twAck(r *twRec) {
	h := wire.TCPHeader{
		SrcPort: r.id.lport, DstPort: r.id.rport, Seq: r.sndNXT, Ack: r.rcvNXT,
		Flags: wire.FlagACK, Window: uint16(min(r.wnd>>r.scale, 0xffff)),
	}
	if r.hasTS {
		h.Options.HasTimestamps = true
		h.Options.TSVal = l.tsNow() + r.tsOffset
		h.Options.TSEcr = r.tsRecent
	}
	l.sendHeader(&h, r.id, r.tos())
}

func (r *twRec) tos() uint8 { return 0 }

// twTimer expires records.
func (l *Layer) twTimer() clock.Time {
	n := len(l.tw)
	for l.twLen > 0 {
		r := &l.tw[l.twHead]
		if r.used {
			if l.now < r.expires {
				return r.expires
			}
			l.twRemove(int32(l.twHead))
		}
		l.twHead = (l.twHead + 1) % n
		l.twLen--
	}
	return clock.Never
}
