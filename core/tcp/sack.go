package tcp

import "github.com/lwgo/lwgo/core/wire"

// Sender-side SACK loss recovery (RFC 6675). A connection that negotiated
// SACK keeps a scoreboard of the ranges above SND.UNA the peer reported
// holding; in fast recovery it retransmits what the scoreboard shows lost,
// as many segments as the congestion window allows beyond the bytes still
// in the network (pipe), instead of one hole per round trip as NewReno
// does. Without SACK the connection uses NewReno (RFC 6582).
//
// The scoreboard is bounded: maxSACKRanges disjoint ranges. When a new
// range does not fit, the lowest range is forgotten; that only makes the
// sender retransmit more than needed, never less (RFC 6675 §5: the sender
// may discard SACK information).

// maxSACKRanges bounds the scoreboard of each connection.
const maxSACKRanges = 6

// dupThresh is RFC 6675's DupThresh.
const dupThresh = 3

// sackRange is one SACKed range [left, right).
type sackRange struct{ left, right wire.Seq }

// scoreboard is a connection's SACK state (RFC 6675 §2), and what its
// loss recovery needs to be undone when it proves spurious.
type scoreboard struct {
	r       [maxSACKRanges]sackRange // sorted, disjoint, all above SND.UNA
	n       uint8
	reord   uint8    // reordering seen, in segments: DupThresh grows to it (0: none seen)
	highRxt wire.Seq // end of the highest byte retransmitted in this recovery (HighRxt + 1)

	// Undo (RFC 3522 Eifel detection, RFC 4015 response): the window
	// before the recovery's reduction and the TSval of its first
	// retransmission; undoTS 0 when there is nothing to undo.
	undoCwnd, undoSsthresh uint32
	undoTS                 uint32
	undoSeq                wire.Seq // the first retransmitted byte

	// A tail loss probe of new data that the peer SACKs while older data
	// is still missing shows that data lost (RFC 8985 §7.4, RACK's
	// reasoning: it was sent a PTO earlier and did not arrive): every
	// byte not SACKed below floor counts as lost.
	floor    wire.Seq
	hasFloor bool
	probe    wire.Seq // start of the outstanding new-data probe
	hasProbe bool
}

// dupThresh returns the connection's DupThresh in segments: RFC 6675's 3,
// or the reordering it has shown (as Linux's tp->reordering), but never
// more than two thirds of the flight (RFC 4653 §3.1's bound), so that a
// small window can still detect a loss without the RTO.
func (c *pcb) dupThresh() uint32 {
	t := uint32(max(dupThresh, c.sack.reord))
	if f := 2 * c.flight() / (3 * max(c.segMSS(), 1)); t > f {
		t = max(dupThresh, f)
	}
	return t
}

// maxReord bounds the adaptive DupThresh.
const maxReord = 64

func (sb *scoreboard) ranges() []sackRange { return sb.r[:sb.n] }

// sackUpdate records the SACK blocks of the segment under processing
// (RFC 6675 §5 Update()). Blocks at or below the cumulative ACK (D-SACK,
// RFC 2883, or stale) and blocks beyond what was sent are ignored.
func (l *Layer) sackUpdate(c *pcb) {
	in := &l.in
	// An old ACK (RFC 5961 accepts some below SND.UNA) must not bring back
	// ranges SND.UNA already covers.
	lo := in.ack
	if lo.LessThan(c.snd.UNA) {
		lo = c.snd.UNA
	}
	for i := range int(in.opts.NumSACK) {
		left, right := in.opts.SACK[i].Left, in.opts.SACK[i].Right
		if !left.LessThan(right) || !lo.LessThan(right) || c.snd.MAX.LessThan(right) {
			continue
		}
		if left.LessThan(lo) {
			left = lo
		}
		c.sack.insert(left, right)
	}
}

// insert merges [left, right) into the scoreboard.
func (sb *scoreboard) insert(left, right wire.Seq) {
	// Find the first range that ends at or after left: it and those after
	// it that start at or before right merge with the new one.
	i := 0
	for i < int(sb.n) && sb.r[i].right.LessThan(left) {
		i++
	}
	j := i
	for j < int(sb.n) && sb.r[j].left.LessThanEq(right) {
		if sb.r[j].left.LessThan(left) {
			left = sb.r[j].left
		}
		if right.LessThan(sb.r[j].right) {
			right = sb.r[j].right
		}
		j++
	}
	merged := j - i // ranges [i, j) become one
	if merged == 0 {
		if int(sb.n) == maxSACKRanges {
			// Full: forget the lowest range, the one the cumulative ACK
			// will cover first and the one IsLost counts for the fewest
			// holes (forgetting the highest would hide losses).
			if i == 0 {
				return // the new range is the lowest itself
			}
			copy(sb.r[:], sb.r[1:sb.n])
			sb.n--
			i--
		}
		copy(sb.r[i+1:sb.n+1], sb.r[i:sb.n])
		sb.n++
	} else if merged > 1 {
		copy(sb.r[i+1:], sb.r[j:sb.n])
		sb.n -= uint8(merged - 1)
	}
	sb.r[i] = sackRange{left, right}
}

// prune drops what SND.UNA now covers.
func (sb *scoreboard) prune(una wire.Seq) {
	k := 0
	for _, r := range sb.ranges() {
		if r.right.LessThanEq(una) {
			continue
		}
		if r.left.LessThan(una) {
			r.left = una
		}
		sb.r[k] = r
		k++
	}
	sb.n = uint8(k)
	if sb.highRxt.LessThan(una) {
		sb.highRxt = una
	}
	if sb.hasProbe && !una.LessThan(sb.probe) {
		sb.hasProbe = false
	}
	if sb.hasFloor && !una.LessThan(sb.floor) {
		sb.hasFloor = false
	}
}

// clear forgets every range: after a retransmission timeout the sender
// must not trust SACK information, since the receiver may have reneged
// (RFC 2018 §8).
func (sb *scoreboard) clear() { sb.n, sb.hasFloor, sb.hasProbe = 0, false, false }

// probeDelivered checks whether the segment's SACK blocks cover the
// outstanding new-data probe while SND.UNA is below it; if so, everything
// below the probe not SACKed is lost (see floor).
func (sb *scoreboard) probeDelivered(una wire.Seq) {
	if !sb.hasProbe || !una.LessThan(sb.probe) {
		return
	}
	for _, r := range sb.ranges() {
		if sb.probe.InRange(r.left, r.right) {
			sb.floor, sb.hasFloor, sb.hasProbe = sb.probe, true, false
			return
		}
	}
}

// sacked returns the SACKed bytes within [a, b).
func (sb *scoreboard) sacked(a, b wire.Seq) uint32 {
	var n uint32
	for _, r := range sb.ranges() {
		lo, hi := r.left, r.right
		if lo.LessThan(a) {
			lo = a
		}
		if b.LessThan(hi) {
			hi = b
		}
		if lo.LessThan(hi) {
			n += uint32(hi.Sub(lo))
		}
	}
	return n
}

// unsacked returns the bytes within [a, b) not SACKed.
func (sb *scoreboard) unsacked(a, b wire.Seq) uint32 {
	if !a.LessThan(b) {
		return 0
	}
	return uint32(b.Sub(a)) - sb.sacked(a, b)
}

// lostEdge returns the sequence number below which every byte not SACKed
// is lost by RFC 6675's IsLost: more than (th−1)·SMSS bytes are SACKed
// above it, th being DupThresh. una when nothing is.
func (sb *scoreboard) lostEdge(una wire.Seq, mss, th uint32) wire.Seq {
	var above uint32
	for k := int(sb.n) - 1; k >= 0; k-- {
		above += uint32(sb.r[k].right.Sub(sb.r[k].left))
		if above > (th-1)*mss {
			return sb.floorAbove(sb.r[k].left)
		}
	}
	return sb.floorAbove(una)
}

// floorAbove returns the later of edge and the probe's floor.
func (sb *scoreboard) floorAbove(edge wire.Seq) wire.Seq {
	if sb.hasFloor && edge.LessThan(sb.floor) {
		return sb.floor
	}
	return edge
}

// isLost reports RFC 6675's IsLost(seq).
func (sb *scoreboard) isLost(seq wire.Seq, una wire.Seq, mss, th uint32) bool {
	return seq.LessThan(sb.lostEdge(una, mss, th))
}

// pipe returns RFC 6675's SetPipe(): the bytes presumed in the network.
// Every byte not SACKed counts once unless it is lost, and once more if it
// was retransmitted in this recovery.
func (l *Layer) pipe(c *pcb) uint32 {
	sb := &c.sack
	una, max := c.snd.UNA, c.snd.MAX
	edge := sb.lostEdge(una, c.segMSS(), c.dupThresh())
	p := sb.unsacked(una, max) - sb.unsacked(una, edge)
	if una.LessThan(sb.highRxt) {
		p += sb.unsacked(una, minSeq(sb.highRxt, max))
	}
	return p
}

func minSeq(a, b wire.Seq) wire.Seq {
	if a.LessThan(b) {
		return a
	}
	return b
}

// nextHole returns the first byte at or after s that is not SACKed, and
// how many bytes from it up to the next SACKed range (or max).
func (sb *scoreboard) nextHole(s, max wire.Seq) (wire.Seq, uint32) {
	for _, r := range sb.ranges() {
		if !s.LessThan(max) {
			return s, 0
		}
		if s.LessThan(r.left) {
			return s, uint32(minSeq(r.left, max).Sub(s))
		}
		if s.LessThan(r.right) {
			s = r.right
		}
	}
	if !s.LessThan(max) {
		return s, 0
	}
	return s, uint32(max.Sub(s))
}

// sackEnterRecovery starts RFC 6675 loss recovery (§5 step 4): the
// recovery point, the halved window, and the first segment presumed lost
// retransmitted at once. Output then sends as pipe allows.
func (l *Layer) sackEnterRecovery(c *pcb) {
	l.stats.FastRetransmits++
	l.saveUndo(c)
	c.ccAl.OnLoss(&c.cc, c.flight(), l.ccIn(c))
	c.cc.Cwnd = c.cc.Ssthresh
	c.snd.recover = c.snd.MAX
	c.flags |= fInRecovery | fSACKRecovery
	c.sack.highRxt = c.snd.UNA
	if s, n := c.sack.nextHole(c.snd.UNA, c.snd.MAX); s == c.snd.UNA && n > 0 {
		l.sackRetransmit(c, s, n) // the hole only, not SACKed bytes after it
	}
}

// sackRetransmit resends up to n bytes of the hole starting at seq, at
// most one segment, and moves HighRxt past it. It reports the bytes sent.
func (l *Layer) sackRetransmit(c *pcb, seq wire.Seq, n uint32) uint32 {
	if c.synUnacked() || n == 0 || c.snd.queued <= int(seq.Sub(c.snd.bufSeq)) {
		return 0
	}
	k, ok := l.resend(c, seq, int(n))
	if !ok {
		return 0
	}
	if end := seq.Add(wire.Size(k)); c.sack.highRxt.LessThan(end) {
		c.sack.highRxt = end
	}
	return uint32(k)
}

// sackLostSend sends retransmissions while the window allows (cwnd − pipe
// at least one SMSS): rule 1 of NextSeg() (RFC 6675 §4), holes presumed
// lost above HighRxt; with anyHole, also rule 3, holes below the highest
// SACKed byte not yet presumed lost, for when no new data can go. It
// returns the new pipe.
func (l *Layer) sackLostSend(c *pcb, pipe uint32, anyHole bool) uint32 {
	mss := c.segMSS()
	limit := c.sack.lostEdge(c.snd.UNA, mss, c.dupThresh())
	if anyHole && c.sack.n > 0 {
		// Rule 3 is bounded like rule 1 (RFC 6675 §4 (1.b)): only holes
		// below the highest SACKed byte, never the tail.
		limit = c.sack.r[c.sack.n-1].right
	}
	for pipe+mss <= c.cc.Cwnd {
		start := c.sack.highRxt
		if start.LessThan(c.snd.UNA) {
			start = c.snd.UNA
		}
		s, n := c.sack.nextHole(start, limit)
		if n == 0 {
			break
		}
		k := l.sackRetransmit(c, s, n)
		if k == 0 {
			break
		}
		// A retransmission of a byte presumed lost adds it to pipe once;
		// one not presumed lost was counted already and counts again.
		pipe += k
	}
	return pipe
}

// saveUndo notes, as fast recovery starts, what undoing it would restore
// and the TSval its first retransmission carries (timestamps only: the
// echo tells whether the original arrived after all).
func (l *Layer) saveUndo(c *pcb) {
	sb := &c.sack
	sb.undoTS = 0
	if c.flags&fTimestamps == 0 {
		return
	}
	sb.undoCwnd, sb.undoSsthresh = c.cc.Cwnd, c.cc.Ssthresh
	sb.undoTS = l.tsNow() + c.ts.offset
	sb.undoSeq = c.snd.UNA
	if sb.undoTS == 0 {
		sb.undoTS = 1 // 0 means none
	}
}

// spuriousRecovery checks the first ACK that covers the recovery's first
// retransmission (RFC 3522 Eifel detection): an echoed TSval older than
// the retransmission's means the original segment arrived, and the
// "loss" was reordering. Then the window reduction is undone (RFC 4015),
// recovery ends, and the connection's DupThresh doubles, so that the same
// reordering does not fool it again.
func (l *Layer) spuriousRecovery(c *pcb) {
	sb := &c.sack
	in := &l.in
	if sb.undoTS == 0 || !sb.undoSeq.LessThan(in.ack) {
		return
	}
	ts := sb.undoTS
	sb.undoTS = 0
	if !in.opts.HasTimestamps || in.opts.TSEcr == 0 || int32(in.opts.TSEcr-ts) >= 0 {
		return // the retransmission's echo, or no way to tell
	}
	// Only the first retransmission is known spurious: with other holes
	// still SACKed around, or other retransmissions unacknowledged (or,
	// without SACK, the recovery point not reached), a real loss may be
	// under repair; keep the recovery (as Linux's tcp_try_undo_partial
	// declines with retransmissions out).
	if sb.n > 0 || in.ack.LessThan(sb.highRxt) || c.flags&fSACKRecovery == 0 && in.ack.LessThan(c.snd.recover) {
		return
	}
	l.stats.SpuriousRecoveries++
	c.cc.Cwnd = max(c.cc.Cwnd, sb.undoCwnd)
	c.cc.Ssthresh = max(c.cc.Ssthresh, sb.undoSsthresh)
	c.flags &^= fInRecovery | fSACKRecovery
	c.snd.recover = c.snd.UNA // a new loss may start a recovery at once
	sb.reord = uint8(min(2*int(max(dupThresh, sb.reord)), maxReord))
}
