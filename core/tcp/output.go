package tcp

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// segMSS returns the payload bytes per full segment: the send MSS less the
// timestamp option (RFC 7323 §3.2 counts options against the MSS).
func (c *pcb) segMSS() uint32 {
	if c.flags&fTimestamps != 0 {
		return c.snd.mss - 12
	}
	return c.snd.mss
}

// output sends what the state, the windows, Nagle's algorithm and the
// queue allow, and an ACK if one is owed and nothing else carried it.
// lwIP: tcp_output.
func (l *Layer) output(c *pcb) {
	switch c.state {
	case Closed, Listen:
		return
	case SynSent, SynReceived:
		if c.snd.NXT == c.snd.ISS {
			l.sendSYN(c)
		} else if c.flags&fAckNow != 0 && c.state == SynReceived {
			l.sendSYN(c) // a duplicate SYN: repeat the SYN-ACK
		}
		return
	}
	sent := false
	if c.flight() == 0 && c.lastSend != 0 && l.now.Sub(c.lastSend) > c.rtt.rto {
		c.ccAl.OnIdle(&c.cc) // RFC 5681 §4.1 restart after idle
	}
	mss := c.segMSS()
	// In SACK recovery (RFC 6675) the congestion window limits pipe, not
	// the flight: holes presumed lost go first (NextSeg rule 1), then new
	// data (rule 2), then other holes when no new data can go (rule 3).
	sackRec := c.flags&fSACKRecovery != 0
	var pipe uint32
	if sackRec {
		xmit := l.stats.Xmit
		pipe = l.sackLostSend(c, l.pipe(c), false)
		sent = l.stats.Xmit != xmit
	}
	for {
		maxSeg := l.maxSegment(c, mss)
		off := int(c.snd.NXT.Sub(c.snd.bufSeq))
		if c.synUnacked() {
			break
		}
		avail := c.snd.queued - off
		finSeq := c.snd.bufSeq.Add(wire.Size(c.snd.queued))
		finPending := c.flags&fFinQueued != 0 && c.snd.NXT.LessThanEq(finSeq)
		if avail <= 0 && !finPending {
			break
		}
		inflight := c.flight()
		cwUsed := inflight
		if sackRec {
			cwUsed = pipe
		}
		usable := 0
		if c.snd.WND > inflight && c.cc.Cwnd > cwUsed {
			usable = int(min(c.snd.WND-inflight, c.cc.Cwnd-cwUsed))
		}
		n := min(avail, maxSeg, usable)
		if n > int(mss) && n%int(mss) != 0 && (n < avail || c.flags&(fNoDelay|fFinQueued) == 0) {
			// A super-segment carries only full segments, unless its tail
			// is the queue's end and Nagle would let it go: the same
			// segments as without TSO.
			n -= n % int(mss)
		}
		if avail <= 0 {
			n = 0 // a bare FIN: it needs no window
		} else if n <= 0 {
			if c.snd.WND == 0 && inflight == 0 && c.flags&fPersist == 0 {
				l.startPersist(c)
			}
			break
		}
		if avail > 0 && n < int(mss) && n < avail && !c.snd.NXT.LessThan(c.snd.MAX) {
			// A partial segment of new data the window allows but the queue
			// could fill: sender SWS avoidance (RFC 9293 §3.8.6.2.1) waits
			// unless it is at least half the largest window offered. (Data
			// already sent once is retransmitted as the window allows,
			// SHLD-16.)
			if (uint32(n) < c.snd.maxWnd/2 || inflight > 0) && c.flags&fForce == 0 {
				if inflight == 0 && c.flags&fPersist == 0 {
					// Nothing in flight will bring an ACK: the persist
					// timer doubles as the override timeout of RFC 9293
					// §3.8.6.2.1 (4).
					l.startPersist(c)
				}
				break
			}
		}
		if avail > 0 && n == avail && n < int(mss) && inflight > 0 && c.flags&(fNoDelay|fFinQueued|fSndUrgent) == 0 &&
			!c.snd.NXT.LessThan(c.snd.MAX) {
			// Nagle (RFC 9293 §3.7.4): one small segment of new data in
			// flight at a time; urgent data does not wait (as Linux).
			break
		}
		fin := finPending && n == avail
		flags := wire.FlagACK
		if n > 0 && n == avail && c.flags&fPush != 0 {
			flags |= wire.FlagPSH
		}
		if fin {
			flags |= wire.FlagFIN
		}
		if !l.sendData(c, c.snd.NXT, off, n, flags) {
			break
		}
		sent = true
		pipe += uint32(n)
		c.snd.NXT = c.snd.NXT.Add(wire.Size(n))
		if fin {
			c.snd.NXT++
			c.flags |= fFinSent
		}
		if c.snd.MAX.LessThan(c.snd.NXT) {
			c.snd.MAX = c.snd.NXT
		}
		if fin {
			break
		}
	}
	if sackRec && (c.snd.queued <= int(c.snd.NXT.Sub(c.snd.bufSeq)) || c.snd.WND <= c.flight()) {
		xmit := l.stats.Xmit
		l.sackLostSend(c, pipe, true)
		sent = sent || l.stats.Xmit != xmit
	}
	if !sent && c.flags&fAckNow != 0 {
		l.sendData(c, c.ackSeq(), 0, 0, wire.FlagACK)
	}
}

// resend sends again, at seq, up to n bytes (one segment at most) of data
// sent before, with the FIN when they end where our FIN was sent; with no
// bytes it sends a lone FIN, or nothing. It reports the bytes sent and
// whether a segment left.
func (l *Layer) resend(c *pcb, seq wire.Seq, n int) (int, bool) {
	off := int(seq.Sub(c.snd.bufSeq))
	k := max(min(n, int(c.segMSS()), c.snd.queued-off), 0)
	flags := wire.FlagACK
	if c.flags&fFinSent != 0 && seq.Add(wire.Size(k)) == c.snd.bufSeq.Add(wire.Size(c.snd.queued)) {
		flags |= wire.FlagFIN
	}
	if k == 0 && !flags.Has(wire.FlagFIN) {
		return 0, false
	}
	return k, l.sendData(c, seq, off, k, flags)
}

// maxSegment returns the most payload one output segment may carry: the MSS,
// or with TSO as many whole MSS as the device's largest datagram holds
// beside the headers (options at their largest).
func (l *Layer) maxSegment(c *pcb, mss uint32) int {
	if c.snd.tsoMax == 0 || l.gso == nil || l.gso.Available() == 0 || c.flags&fSndUrgent != 0 {
		// No TSO, or its buffers are all out, or urgent data (a device
		// would copy one urgent pointer into every segment): plain segments.
		return int(mss)
	}
	seg := min(int(c.snd.tsoMax)-wire.IPv4MinHeaderLen, l.gso.SlotSize()-pbuf.LayerIP.Headroom())
	return max((seg-wire.TCPMaxHeaderLen)/int(mss), 1) * int(mss)
}

// sendSYN sends our SYN, or SYN-ACK in SYN-RECEIVED, with its options.
func (l *Layer) sendSYN(c *pcb) {
	h := wire.TCPHeader{
		SrcPort: c.id.lport, DstPort: c.id.rport, Seq: c.snd.ISS,
		Flags: wire.FlagSYN, Window: uint16(min(c.rcv.wnd, 0xffff)), // never scaled in a SYN
	}
	h.Options.MSS = uint16(c.rcv.mss)
	passive := c.state == SynReceived
	if passive {
		h.Flags |= wire.FlagACK
		h.Ack = c.rcv.NXT
	}
	if !l.cfg.NoWindowScale && (!passive || c.flags&fWScale != 0) {
		h.Options.HasWScale, h.Options.WScale = true, c.rcv.scale
	}
	if !l.cfg.NoSACK && (!passive || c.flags&fSACK != 0) {
		h.Options.SACKPermitted = true
	}
	if !l.cfg.NoTimestamps && (!passive || c.flags&fTimestamps != 0) {
		h.Options.HasTimestamps = true
		h.Options.TSVal = l.tsNow() + c.ts.offset
		h.Options.TSEcr = c.ts.recent
	}
	if !l.sendHeader(&h, c.id, c.tos) {
		l.armRTO(c)
		return
	}
	c.flags &^= fAckNow | fAckDelay
	c.ackAt = clock.Never
	c.ts.lastAckSent = c.rcv.NXT // Last.ACK.sent (RFC 7323 §4.3), for the SYN-ACK
	c.rcv.adv = c.rcv.NXT.Add(wire.Size(min(c.rcv.wnd, 0xffff)))
	c.snd.NXT = c.snd.ISS + 1
	if c.snd.MAX.LessThan(c.snd.NXT) {
		c.snd.MAX = c.snd.NXT
	}
	if c.flags&fRexmit == 0 {
		c.flags |= fRTTiming
		c.rtt.seq, c.rtt.at = c.snd.ISS, l.now
	}
	if c.rtoAt == clock.Never {
		l.armRTO(c)
	}
}

// rcvWindow returns the window field to announce, moving the announced
// right edge only forward (RFC 9293 §3.8.6.2.2: no shrinking) and only by
// useful amounts (receiver SWS avoidance: at least min(RcvBuf/2, MSS)).
func (l *Layer) rcvWindow(c *pcb) uint16 {
	right := c.rcv.NXT.Add(wire.Size(min(c.rcv.wnd, uint32(0xffff)<<c.rcv.scale)))
	grow := uint32(0)
	if c.rcv.adv.LessThan(right) {
		grow = uint32(right.Sub(c.rcv.adv))
	}
	if c.rcv.adv.LessThan(c.rcv.NXT) || grow >= min(uint32(l.cfg.RcvBuf)/2, c.rcv.mss) {
		c.rcv.adv = right
	}
	if c.rcv.adv.LessThan(c.rcv.NXT) {
		c.rcv.adv = c.rcv.NXT
	}
	// Round the scaled field up, not down: RCV.NXT moves by arbitrary
	// amounts, and rounding down would pull the announced edge left of the
	// last one (RFC 7323 §2.4). The edge may then lie up to 2^scale−1 bytes
	// beyond the buffer; dataInput accepts up to it and recved absorbs it.
	unit := uint32(1)<<c.rcv.scale - 1
	w := min((uint32(c.rcv.adv.Sub(c.rcv.NXT))+unit)>>c.rcv.scale, 0xffff)
	// What the field says is what the peer will use: keep adv exact.
	c.rcv.adv = c.rcv.NXT.Add(wire.Size(w << c.rcv.scale))
	return uint16(w)
}

// sendData sends one segment: n bytes from queue offset off (n may be 0),
// at sequence seq, with flags. It reports false when no buffer was free.
func (l *Layer) sendData(c *pcb, seq wire.Seq, off, n int, flags wire.TCPFlags) bool {
	h := wire.TCPHeader{
		SrcPort: c.id.lport, DstPort: c.id.rport, Seq: seq, Ack: c.rcv.NXT,
		Flags: flags, Window: l.rcvWindow(c),
	}
	if c.flags&fSndUrgent != 0 {
		urg, up := c.urgentField(seq)
		h.Flags |= urg
		h.Urgent = up
	}
	if c.flags&fTimestamps != 0 {
		h.Options.HasTimestamps = true
		h.Options.TSVal = l.tsNow() + c.ts.offset
		h.Options.TSEcr = c.ts.recent
	}
	mss := int(c.segMSS())
	dsack := c.flags&fDSACK != 0
	if c.flags&fSACK != 0 && (c.rcv.ooCount > 0 || dsack) {
		k := 0
		if dsack {
			h.Options.SACK[0] = c.rcv.dsack // first block (RFC 2883 §4)
			k = 1
		}
		h.Options.NumSACK = k + l.sackBlocks(c, h.Options.SACK[k:])
		// The MSS counts options against the payload (RFC 9293 §3.7.1): a
		// full data segment keeps only the SACK blocks that still fit.
		for h.Options.NumSACK > 0 && h.Len()+min(n, mss) > wire.TCPMinHeaderLen+int(c.snd.mss) {
			h.Options.NumSACK--
		}
	}
	hl := h.Len()
	pool := l.pool
	if n > mss {
		pool = l.gso // a super-segment (maxSegment): the device cuts it
	}
	b, err := pool.Alloc(pbuf.LayerIP, hl+n)
	if err != nil {
		l.stats.MemErr++
		l.armRTO(c) // try again when the timer fires
		return false
	}
	t := wire.TCP(b.Bytes())
	h.Encode(t)
	if dsack && h.Options.NumSACK > 0 {
		c.flags &^= fDSACK // reported once
	}
	if n > 0 {
		l.sndCopy(c, t[hl:], off)
	}
	if n > mss {
		b.GSOSize = uint16(mss)
		l.stats.TSOSegs++
	}
	if err := l.transmitCsum(b, c.id, c.tos, c.flags&fTxCsum != 0); err == errs.ErrIf && n > mss {
		// The route moved to a device without TSO (tcp.Route was
		// taken when the connection opened): plain segments from now on;
		// the retransmission timer resends this one.
		c.snd.tsoMax = 0
	}
	l.stats.Xmit++
	c.ts.lastAckSent = c.rcv.NXT
	c.flags &^= fAckNow | fAckDelay
	c.ackAt = clock.Never
	c.rcv.segs = 0
	if n > 0 || flags.Has(wire.FlagFIN) {
		c.lastSend = l.now
		if seq.LessThan(c.snd.MAX) {
			l.stats.Retransmits++
			c.flags |= fRexmit
		} else if c.flags&(fTimestamps|fRTTiming) == 0 {
			// Time one segment per round trip (Karn: never a retransmission).
			c.flags |= fRTTiming
			c.rtt.seq = seq
			c.rtt.at = l.now
		}
		if c.flags&fPersist != 0 {
			c.flags &^= fPersist
			c.rtoAt = clock.Never
		}
		if c.rtoAt == clock.Never || !seq.LessThan(c.snd.MAX) {
			// New data restarts a probe timeout, or brings the RTO
			// forward to one (RFC 8985 §7.2).
			end := seq.Add(wire.Size(n))
			if flags.Has(wire.FlagFIN) {
				end++
			}
			l.armTimer(c, end, false)
		}
	}
	return true
}

// transmit fills in the checksum and hands the segment to the IP layer.
func (l *Layer) transmit(b *pbuf.Buf, id tuple, tos uint8) {
	l.transmitCsum(b, id, tos, false)
}

// transmitCsum is transmit; with partial, the device completes the
// checksum: the field holds the pseudo-header sum, not complemented, as
// Linux's CHECKSUM_PARTIAL has it (a TSO device adjusts it per segment).
func (l *Layer) transmitCsum(b *pbuf.Buf, id tuple, tos uint8, partial bool) error {
	t := wire.TCP(b.Bytes())
	sum := wire.PseudoHeaderSum(id.local, id.remote, wire.ProtoTCP, len(t))
	if partial {
		t.SetChecksum(^wire.Fold(sum))
		b.Flags |= pbuf.TxL4ChecksumPartial
	} else {
		t.SetChecksum(wire.Fold(wire.Checksum(t, sum)))
	}
	return l.out.OutputTCP(b, id.local, id.remote, tos, 0)
}

// sendHeader sends a segment that is only a header (SYN, SYN-ACK, RST, a
// TIME-WAIT ACK). It reports false when no buffer was free.
func (l *Layer) sendHeader(h *wire.TCPHeader, id tuple, tos uint8) bool {
	b, err := l.pool.Alloc(pbuf.LayerIP, h.Len())
	if err != nil {
		l.stats.MemErr++
		return false
	}
	h.Encode(wire.TCP(b.Bytes()))
	l.transmit(b, id, tos)
	l.stats.Xmit++
	return true
}

// sendRST sends a reset for id: <SEQ=seq><CTL=RST>, or with an ACK of ack
// when withAck. lwIP: tcp_rst.
func (l *Layer) sendRST(id tuple, seq, ack wire.Seq, withAck bool) {
	h := wire.TCPHeader{SrcPort: id.lport, DstPort: id.rport, Seq: seq, Flags: wire.FlagRST}
	if withAck {
		h.Flags |= wire.FlagACK
		h.Ack = ack
	}
	if l.sendHeader(&h, id, 0) {
		l.stats.RSTsSent++
	}
}

// sendChallengeACK sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> within the
// rate limit (RFC 5961 §3.2, §4.2, §5.2, §7).
func (l *Layer) sendChallengeACK(c *pcb) {
	rate := l.cfg.ChallengeACKRate
	if el := l.now.Sub(l.chFill); el >= clock.Second {
		l.chTok, l.chFill = rate, l.now
	}
	if l.chTok <= 0 {
		l.stats.ChallengeLimited++
		return
	}
	l.chTok--
	l.stats.ChallengeACKs++
	l.sendData(c, c.ackSeq(), 0, 0, wire.FlagACK)
}

// ackSeq returns SEG.SEQ for a segment without data (ACK, RST): SND.MAX,
// RFC 9293's SND.NXT (ours goes back for go-back-N retransmission, and an
// ACK below the peer's RCV.NXT would be unacceptable to it). When SND.MAX
// lies beyond the peer's window (a zero-window probe's byte, a shrunk
// window), the peer most likely dropped what is beyond, and SND.MAX would be
// unacceptable too: then the window's last byte, or SND.UNA for a closed
// window (Linux tcp_acceptable_seq).
func (c *pcb) ackSeq() wire.Seq {
	edge := c.snd.UNA.Add(wire.Size(c.snd.WND))
	switch {
	case c.snd.MAX == c.snd.UNA || c.snd.MAX.LessThan(edge):
		return c.snd.MAX
	case c.snd.WND == 0:
		return c.snd.UNA
	}
	return edge - 1
}

// armRTO (re)starts the retransmission timer (RFC 6298 §5.1, 5.3).
func (l *Layer) armRTO(c *pcb) {
	c.flags &^= fPTO
	c.rtoAt = l.now.Add(c.rtt.rto)
	l.arm(c.rtoAt)
}

// startPersist starts zero-window probing (RFC 9293 §3.8.6.1).
func (l *Layer) startPersist(c *pcb) {
	c.flags |= fPersist
	c.flags &^= fPTO
	c.retries = 0
	c.rtoAt = l.now.Add(l.clampRTO(c.rtt.rto))
	l.arm(c.rtoAt)
}

// armKeep schedules the next keepalive check.
func (l *Layer) armKeep(c *pcb) {
	if c.flags&fKeepAlive == 0 {
		return
	}
	c.keepAt = c.lastRecv.Add(c.keepIdle + clock.Duration(c.probes)*c.keepIntvl)
	l.arm(c.keepAt)
}
