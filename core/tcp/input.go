package tcp

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// Input handles a received segment: b's data is the IPv4 datagram ip,
// whose header the stack has checked and which is addressed to us (unicast).
// Input takes ownership of b. lwIP: tcp_input.
func (l *Layer) Input(b *pbuf.Buf, ip wire.IPv4) {
	in := &l.in
	l.stats.Recv++
	t, err := wire.ParseTCP(ip.Payload())
	if err != nil {
		l.stats.LenErr++
		l.drop(b)
		return
	}
	src, dst := ip.Src(), ip.Dst()
	if b.Flags&pbuf.RxL4ChecksumOK == 0 && !t.IsChecksumValid(src, dst) {
		l.stats.ChkErr++
		l.drop(b)
		return
	}
	if b.Flags&pbuf.LinkBroadcast != 0 {
		l.drop(b) // RFC 9293 §3.9.1: no TCP on broadcast or multicast
		return
	}
	*in = inSeg{t: t, src: src, dst: dst, tos: ip.TOS(), seq: t.Seq(), ack: t.Ack(), flags: t.Flags(),
		wnd: uint32(t.Window()), hdrLen: t.HeaderLen()}
	in.data = len(t) - in.hdrLen
	if err := wire.ParseTCPOptions(t.Options(), &in.opts); err != nil {
		l.stats.ProtErr++
		l.drop(b)
		return
	}
	// Keep only the payload in b from here on.
	b.Consume(ip.HeaderLen() + in.hdrLen)
	b.Truncate(in.data)

	id := tuple{local: dst, remote: src, lport: t.DstPort(), rport: t.SrcPort()}
	if i := l.conns.get(id); i >= 0 {
		c := &l.pcbs[i]
		l.processSegment(c, b)
		return
	}
	if i := l.twIdx.get(id); i >= 0 {
		if !l.timewaitInput(i) {
			b.Free()
			return
		}
		// A SYN that may reuse the tuple: go on to the listener.
	}
	if li := l.findListener(dst, id.lport); li >= 0 {
		l.inBuf = b // a SYN-cookie ACK may carry data
		l.listenInput(li)
		if l.inBuf != nil {
			l.inBuf.Free()
			l.inBuf = nil
		}
		return
	}
	// RFC 9293 §3.10.7.1, CLOSED: reset anything but a reset.
	l.stats.NoPort++
	if !in.flags.Has(wire.FlagRST) {
		if in.flags.Has(wire.FlagACK) {
			l.sendRST(id, in.ack, 0, false)
		} else {
			l.sendRST(id, 0, in.seq.Add(in.segLen()), true)
		}
	}
	b.Free()
}

func (l *Layer) drop(b *pbuf.Buf) {
	l.stats.Drop++
	b.Free()
}

// processSegment runs the state machine for one segment of c and then the
// callbacks and output it calls for.
func (l *Layer) processSegment(c *pcb, b *pbuf.Buf) {
	gen := c.gen
	l.inBuf = b
	l.process(c)
	if l.inBuf != nil {
		l.inBuf.Free()
		l.inBuf = nil
	}
	if !c.used || c.gen != gen {
		return // released by process (RST in SYN-RECEIVED: back to LISTEN)
	}
	l.afterInput(c)
}

// afterInput delivers the events of the last segment to the application,
// in lwIP's order (connected or accepted, sent, received, end of stream,
// error) and then sends what is owed. Each callback may end the connection.
func (l *Layer) afterInput(c *pcb) {
	gen := c.gen
	alive := func() bool { return c.used && c.gen == gen }
	if c.errPending != nil {
		err := c.errPending
		l.abort(c, err, false)
		return
	}
	if c.flags&fConnectedOwed != 0 {
		c.flags &^= fConnectedOwed
		if hd := c.handler; hd != nil && c.flags&fDetached == 0 {
			if hd.Connected(l.handle(c), nil) == errs.ErrAbort || !alive() {
				return
			}
		}
	}
	if c.flags&fAcceptOwed != 0 {
		c.flags &^= fAcceptOwed
		if !l.accept(c) || !alive() {
			return
		}
	}
	if n := c.sentPending; n > 0 {
		c.sentPending = 0
		if hd := c.handler; hd != nil && c.flags&fDetached == 0 {
			if hd.Sent(l.handle(c), n) == errs.ErrAbort || !alive() {
				return
			}
		}
	}
	if !l.signalUrgent(c) || !alive() {
		return
	}
	if !l.deliver(c) || !alive() {
		return
	}
	switch {
	case c.state == TimeWait:
		l.output(c)
		if l.undelivered(c) {
			// Refused data or the FIN still wait for the application: stay a
			// full connection until the timer has delivered them, bounded by
			// 2·MSL (then twEnter, or abort when the application never takes them).
			c.keepAt = l.now.Add(l.cfg.TimeWait)
			l.arm(c.keepAt)
			return
		}
		l.twEnter(c)
		return
	case c.state == Closed:
		// LAST-ACK completed: the connection is done.
		hd, h, attached := c.handler, l.handle(c), c.flags&fDetached == 0
		l.release(c)
		if hd != nil && attached {
			hd.Err(h, errs.ErrClosed)
		}
		return
	}
	if !l.deferOutput(c) {
		l.outputAfterInput(c)
	}
}

// deferOutput, inside a receive batch, puts c's output off until EndBatch
// and reports true; outside one, or when c must answer each segment, it
// reports false. With out-of-order data held, every segment gets its own
// duplicate ACK, for the sender's fast retransmit.
func (l *Layer) deferOutput(c *pcb) bool {
	if !l.batching || c.rcv.ooCount != 0 {
		return false
	}
	if c.flags&fDeferred == 0 {
		if len(l.deferred) == cap(l.deferred) {
			return false
		}
		c.flags |= fDeferred
		l.deferred = append(l.deferred, c.slot)
	}
	return true
}

// outputAfterInput sends what input made owed, and arms the delayed ACK
// when only that is owed.
func (l *Layer) outputAfterInput(c *pcb) {
	l.output(c)
	if c.flags&fAckDelay != 0 && c.ackAt == clock.Never {
		c.ackAt = l.now.Add(l.cfg.DelayedACK)
		l.arm(c.ackAt)
	}
}

// BeginBatch starts a receive batch: until EndBatch, segments that leave a
// connection with something to send (an ACK, data the ACKs allowed) defer
// the sending to EndBatch, so that a burst of segments read from a device
// in one go is acknowledged once and answered with one burst of data, as
// Linux does for a GRO-merged burst. The batch is the caller's: the frames
// of one device read, processed at once, so no ACK waits on anything but
// their processing.
func (l *Layer) BeginBatch() { l.batching = true }

// EndBatch ends a receive batch and sends for each connection that
// deferred.
func (l *Layer) EndBatch() {
	l.batching = false
	for _, i := range l.deferred {
		c := &l.pcbs[i]
		if !c.used || c.flags&fDeferred == 0 {
			continue // released (and maybe reused) since
		}
		c.flags &^= fDeferred
		l.outputAfterInput(c)
	}
	l.deferred = l.deferred[:0]
}

// noteDSACK remembers a duplicate range [left, right) the peer sent, to
// report as the first SACK block of the next ACK (RFC 2883 §4: D-SACK), so
// that the peer can tell a spurious retransmission and the reordering that
// caused it. The duplicate draws an ACK at once.
func (l *Layer) noteDSACK(c *pcb, left, right wire.Seq) {
	if c.flags&fSACK == 0 {
		return
	}
	c.rcv.dsack = wire.SACKBlock{Left: left, Right: right}
	c.flags |= fDSACK | fAckNow
}

// accept hands a completed passive open to the listener's acceptor; it
// reports whether the connection survived.
func (l *Layer) accept(c *pcb) bool {
	li := c.listener
	if li < 0 || !l.lst[li].used {
		l.abort(c, errs.ErrClosed, true)
		return false
	}
	s := &l.lst[li]
	a := s.acceptor
	if a == nil {
		l.abort(c, errs.ErrClosed, true)
		return false
	}
	gen := c.gen
	err := a.Accept(Listener{l, li, s.gen}, l.handle(c), nil)
	if !c.used || c.gen != gen {
		return false
	}
	if err != nil {
		l.abort(c, errs.ErrAbort, true)
		return false
	}
	return true
}

// deliver offers in-order data, then end of stream, to the application; data
// it refuses stays queued and is offered again from the timer. It reports
// false if the connection went away.
func (l *Layer) deliver(c *pcb) bool {
	gen := c.gen
	for !c.rcv.ready.empty() {
		// Unlink the node before the call: the application may close or
		// abort the connection from inside Recv, and releasing the
		// connection must not free the buffer it was handed.
		i := c.rcv.ready.head
		b := l.nodes[i].buf
		c.rcv.ready.head = l.nodes[i].next
		if c.rcv.ready.head < 0 {
			c.rcv.ready.tail = -1
		}
		l.nodes[i].next = -1
		n := b.Len()
		hd := c.handler
		if c.flags&(fRxClosed|fDetached) != 0 {
			hd = nil
		}
		// Count the bytes as delivered before the call: the application may
		// call Recved from inside it.
		c.rcv.readyLen -= n
		c.rcv.unrecved += n
		var err error
		if hd == nil {
			err = DefaultHandler{}.recvDrop(b)
		} else {
			err = hd.Recv(l.handle(c), b, nil)
		}
		refused := err != nil && err != errs.ErrAbort
		l.nodes[i].buf = nil
		if !c.used || c.gen != gen {
			if refused {
				b.Free() // refused by a connection that is gone: nobody holds it
			}
			l.freeNode(i)
			return false
		}
		if refused {
			// Refused: back to the head of the queue, offered again from the
			// timer (lwIP tcp_process_refused_data).
			l.nodes[i].buf = b
			l.nodes[i].next = c.rcv.ready.head
			c.rcv.ready.head = i
			if l.nodes[i].next < 0 {
				c.rcv.ready.tail = i
			}
			c.rcv.readyLen += n
			c.rcv.unrecved = max(c.rcv.unrecved-n, 0)
			c.offerAt = l.now.Add(refusedRetry)
			l.arm(c.offerAt)
			return true
		}
		// Taken: the application owns b now.
		l.freeNode(i)
		if hd == nil {
			l.recved(c, n) // nobody else will
		}
	}
	if c.flags&(fFinRcvd|fFinDelivered) == fFinRcvd {
		c.flags |= fFinDelivered
		if hd := c.handler; hd != nil && c.flags&fDetached == 0 {
			hd.Recv(l.handle(c), nil, nil)
			if !c.used || c.gen != gen {
				return false
			}
		}
	}
	return true
}

// recvDrop is the receive behaviour without a handler: the data is
// consumed and dropped.
func (DefaultHandler) recvDrop(b *pbuf.Buf) error {
	b.Free()
	return nil
}

// process runs the state machine for the segment in l.in (payload in
// l.inBuf) on connection c (RFC 9293 §3.10.7.3–4). lwIP: tcp_process.
func (l *Layer) process(c *pcb) {
	in := &l.in
	c.lastRecv = l.now
	if c.flags&fKeepAlive != 0 {
		c.probes = 0
		l.armKeep(c)
	}
	if c.state == SynSent {
		l.synSent(c)
		return
	}
	// RFC 7323 §5.3 PAWS: a segment whose TSval is older than TS.Recent is a
	// duplicate from an earlier incarnation; acknowledge and drop it.
	if c.flags&fTimestamps != 0 && in.opts.HasTimestamps && !in.flags.Has(wire.FlagRST) {
		if int32(in.opts.TSVal-c.ts.recent) < 0 && l.now.Sub(c.ts.recentAt) < 24*24*60*clock.Minute {
			l.stats.PAWSDrops++
			l.oowAck(c, in.segLen())
			return
		}
	}
	// SYN-RECEIVED sees the peer's SYN again: a retransmission (repeat the
	// SYN-ACK), or in a simultaneous open the peer's SYN,ACK (RFC 9293
	// Figure 7, line 6), whose SYN we already have: drop the SYN and process
	// the rest, so that its ACK completes the handshake.
	if c.state == SynReceived && in.flags.Has(wire.FlagSYN) && in.seq == c.rcv.IRS && !in.flags.Has(wire.FlagRST) {
		if !in.flags.Has(wire.FlagACK) {
			c.flags |= fAckNow
			c.snd.NXT = c.snd.ISS
			return
		}
		in.flags &^= wire.FlagSYN
		in.seq++
	}
	// First: sequence number acceptable? (RFC 9293 §3.10.7.4)
	wnd := uint32(0)
	if c.rcv.NXT.LessThan(c.rcv.adv) {
		wnd = uint32(c.rcv.adv.Sub(c.rcv.NXT))
	}
	if c.state == SynReceived && wnd == 0 {
		wnd = 1 // the SYN-ACK announced a window; accept the handshake ACK
	}
	segLen := in.segLen()
	acceptable := false
	switch {
	case segLen == 0 && wnd == 0:
		acceptable = in.seq == c.rcv.NXT
	case segLen == 0:
		acceptable = in.seq.InWindow(c.rcv.NXT, wire.Size(wnd))
	case wnd == 0:
		acceptable = false
	default:
		acceptable = in.seq.InWindow(c.rcv.NXT, wire.Size(wnd)) ||
			in.seq.Add(segLen-1).InWindow(c.rcv.NXT, wire.Size(wnd))
	}
	zeroWndData := !acceptable && wnd == 0 && in.seq == c.rcv.NXT && in.data > 0
	if !acceptable && !zeroWndData {
		// "If an incoming segment is not acceptable, an acknowledgment should be
		// sent in reply (unless the RST bit is set)".
		if !in.flags.Has(wire.FlagRST) {
			l.stats.OutOfWindow++
			if in.data > 0 && !c.rcv.NXT.LessThan(in.seq.Add(wire.Size(in.data))) {
				l.noteDSACK(c, in.seq, in.seq.Add(wire.Size(in.data)))
			}
			l.oowAck(c, segLen)
		}
		return
	}
	// Second: RST (RFC 5961 §3.2): exactly RCV.NXT resets; otherwise in the
	// window draws a challenge ACK.
	if in.flags.Has(wire.FlagRST) {
		if in.seq != c.rcv.NXT {
			l.sendChallengeACK(c)
			return
		}
		l.stats.Resets++
		if c.state == SynReceived && c.flags&fActiveOpen == 0 {
			l.release(c) // back to LISTEN: the listener stays
			return
		}
		c.errPending = errs.ErrReset
		return
	}
	// Fourth: SYN in a synchronized state (RFC 5961 §4.2): challenge ACK.
	if in.flags.Has(wire.FlagSYN) {
		l.sendChallengeACK(c)
		return
	}
	// Fifth: the ACK field.
	if !in.flags.Has(wire.FlagACK) {
		return
	}
	synRexmit := false
	if c.state == SynReceived {
		if (!in.ack.LessThanEq(c.snd.NXT) || !c.snd.UNA.LessThan(in.ack)) && !l.adoptCookie(c) {
			l.sendRST(c.id, in.ack, 0, false) // <SEQ=SEG.ACK><CTL=RST>
			return
		}
		c.state = Established
		if c.flags&fFinQueued != 0 {
			c.state = FinWait1 // closed while in SYN-RECEIVED (shutdownTx)
		}
		c.snd.WND = in.wnd << c.snd.scale
		c.snd.maxWnd = c.snd.WND
		c.snd.WL1, c.snd.WL2 = in.seq, in.ack
		if c.listener >= 0 {
			l.lst[c.listener].pending-- // out of the backlog: accept follows
			c.flags |= fAcceptOwed
		} else {
			c.flags |= fConnectedOwed // simultaneous open
		}
		l.stats.Established++
		synRexmit = c.flags&fRexmit != 0
	}
	ok := l.ackInput(c)
	if synRexmit && c.rtt.srtt == 0 {
		c.rtt.rto = l.clampRTO(synFallbackRTO) // RFC 6298 §5.7
	}
	if !ok {
		return
	}
	// Timestamps: update TS.Recent (RFC 7323 §4.3).
	if c.flags&fTimestamps != 0 && in.opts.HasTimestamps &&
		int32(in.opts.TSVal-c.ts.recent) >= 0 && in.seq.LessThanEq(c.ts.lastAckSent) {
		c.ts.recent, c.ts.recentAt = in.opts.TSVal, l.now
	}
	if zeroWndData {
		c.flags |= fAckNow // window closed: the data is dropped, the ACK used
		return
	}
	// Sixth: the URG bit.
	if c.state == Established || c.state == FinWait1 || c.state == FinWait2 {
		l.urgentInput(c)
	}
	// Seventh: segment text.
	if in.data > 0 || in.flags.Has(wire.FlagFIN) {
		l.dataInput(c)
	}
}

// oowInterval is the least time between ACKs answering bare unacceptable
// segments on one connection (Linux tcp_invalid_ratelimit).
const oowInterval = 500 * clock.Millisecond

// oowAck owes an ACK in answer to an unacceptable segment of length segLen.
// Bare segments (no data, SYN or FIN) are answered at most every
// oowInterval: two ends whose ACKs are unacceptable to each other would
// otherwise answer each other forever (Linux tcp_oow_rate_limited).
func (l *Layer) oowAck(c *pcb, segLen wire.Size) {
	if segLen == 0 {
		if l.now < c.oowNext {
			return
		}
		c.oowNext = l.now.Add(oowInterval)
	}
	c.flags |= fAckNow
}

// synSent handles a segment in SYN-SENT (RFC 9293 §3.10.7.3).
func (l *Layer) synSent(c *pcb) {
	in := &l.in
	ackOK := false
	if in.flags.Has(wire.FlagACK) {
		// "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the
		// RST bit is set)".
		if in.ack.LessThanEq(c.snd.ISS) || c.snd.NXT.LessThan(in.ack) {
			if !in.flags.Has(wire.FlagRST) {
				l.sendRST(c.id, in.ack, 0, false)
			}
			return
		}
		ackOK = true
	}
	if in.flags.Has(wire.FlagRST) {
		if ackOK {
			l.stats.Resets++
			c.errPending = errs.ErrReset // "connection reset"
		}
		return
	}
	if !in.flags.Has(wire.FlagSYN) {
		return
	}
	c.rcv.IRS = in.seq
	c.rcv.NXT = in.seq + 1
	c.rcv.adv = c.rcv.NXT
	l.synOptionsActive(c)
	if ackOK {
		c.snd.UNA = in.ack
		c.snd.WND = in.wnd // never scaled in a SYN (RFC 7323 §2.2)
		c.snd.maxWnd = c.snd.WND
		c.snd.WL1, c.snd.WL2 = in.seq, in.ack
		if c.flags&(fRexmit|fRTTiming) == fRTTiming {
			l.rttSample(c, l.now.Sub(c.rtt.at))
		} else if c.flags&fTimestamps != 0 && in.opts.TSEcr != 0 {
			l.rttSample(c, clock.Duration(l.tsNow()+c.ts.offset-in.opts.TSEcr)*clock.Millisecond)
		}
		if c.flags&fRexmit != 0 && c.rtt.srtt == 0 {
			// RFC 6298 §5.7: "if the timer expires awaiting the ACK of a SYN
			// segment ..., the RTO MUST be re-initialized to 3 seconds when
			// data transmission begins".
			c.rtt.rto = l.clampRTO(synFallbackRTO)
		}
		c.flags &^= fRexmit | fRTTiming
		c.rtoAt = clock.Never
		c.retries = 0
		c.firstRexmit = clock.Never
		c.state = Established
		c.flags |= fAckNow | fConnectedOwed
		l.stats.Established++
		return
	}
	// Simultaneous open: "enter SYN-RECEIVED, form a SYN,ACK segment".
	c.state = SynReceived
	c.snd.WND = in.wnd
	c.snd.NXT = c.snd.ISS
	c.flags |= fAckNow
}

// synOptionsActive applies a SYN's options to an actively opened connection:
// window scaling and SACK only if both sides offered them.
func (l *Layer) synOptionsActive(c *pcb) {
	o := &l.in.opts
	if o.MSS != 0 {
		c.snd.mss = min(uint32(max(o.MSS, 64)), c.rcv.mss)
	} else {
		c.snd.mss = min(wire.TCPDefaultMSS, c.rcv.mss)
	}
	if o.HasWScale && !l.cfg.NoWindowScale {
		c.flags |= fWScale
		c.snd.scale = min(o.WScale, wire.MaxWScale)
	} else {
		c.rcv.scale, c.snd.scale = 0, 0
	}
	if o.HasTimestamps && !l.cfg.NoTimestamps {
		c.flags |= fTimestamps
		c.ts.recent, c.ts.recentAt = o.TSVal, l.now
	}
	if o.SACKPermitted && !l.cfg.NoSACK {
		c.flags |= fSACK
	}
	l.ccInit(c)
}

// ackInput processes the ACK field in a synchronized state (RFC 9293
// §3.10.7.4 fifth, RFC 5961 §5, RFC 5681, RFC 6582). It reports whether
// processing continues.
func (l *Layer) ackInput(c *pcb) bool {
	in := &l.in
	una, nxt := c.snd.UNA, c.snd.MAX
	// RFC 5961 §5.2: acceptable if SND.UNA − MAX.SND.WND ≤ SEG.ACK ≤ SND.NXT.
	if nxt.LessThan(in.ack) {
		l.stats.BadAck++
		c.flags |= fAckNow // acknowledges something not yet sent
		return false
	}
	if in.ack.LessThan(una - wire.Seq(max(c.snd.maxWnd, 1<<16))) {
		l.stats.BadAck++
		l.sendChallengeACK(c)
		return false
	}
	wndField := in.wnd << c.snd.scale
	if c.flags&fSACK != 0 && in.opts.NumSACK > 0 {
		l.sackUpdate(c)
		c.sack.probeDelivered(in.ack)
	}
	if una.LessThan(in.ack) {
		l.newAck(c)
	} else if in.ack == una && in.data == 0 && !in.flags.HasAny(wire.FlagSYN|wire.FlagFIN) &&
		(wndField == c.snd.WND || c.flags&fSACK != 0 && in.opts.NumSACK > 0) &&
		c.flight() > 0 && wndField > 0 && c.flags&fPersist == 0 {
		// RFC 5681 §2 wants the window unchanged; with SACK, an ACK whose
		// blocks report more data is a duplicate whatever its window
		// (RFC 6675 §2): Linux grows its window on nearly every ACK.
		// Not with a closed window: answers to zero-window probes repeat
		// the same ACK and are no sign of loss.
		l.dupAck(c)
	}
	if c.flags&(fSACK|fInRecovery) == fSACK && c.sack.n > 0 && c.flight() > 0 &&
		!c.snd.UNA.LessThan(c.snd.recover) && c.sack.isLost(c.snd.UNA, c.snd.UNA, c.segMSS(), c.dupThresh()) {
		// Any ACK with SACK blocks may show the loss (RFC 6675 §5: the
		// scoreboard is updated from every ACK, and IsLost(HighACK+1)
		// starts recovery): in a two-way transfer the peer's ACKs ride on
		// its data, and none of them is a duplicate ACK.
		l.sackEnterRecovery(c)
	}
	// Window update (RFC 9293 §3.10.7.4: SND.WL1 < SEG.SEQ, or equal and
	// SND.WL2 =< SEG.ACK).
	if c.snd.WL1.LessThan(in.seq) || c.snd.WL1 == in.seq && c.snd.WL2.LessThanEq(in.ack) {
		c.snd.WND = wndField
		c.snd.WL1, c.snd.WL2 = in.seq, in.ack
		c.snd.maxWnd = max(c.snd.maxWnd, wndField)
		if wndField > 0 && c.flags&fPersist != 0 {
			// The window opened: leave persist. A probe's byte still
			// unacknowledged was most likely dropped by the closed window;
			// send again from SND.UNA rather than wait for an RTO.
			c.flags &^= fPersist
			c.rtoAt = clock.Never
			c.retries = 0
			c.snd.NXT = c.snd.UNA
		}
	}
	// Our FIN acknowledged?
	finAcked := c.flags&fFinQueued != 0 && c.snd.UNA == c.snd.bufSeq.Add(wire.Size(c.snd.queued)+1) && c.snd.queued == 0
	switch c.state {
	case FinWait1:
		if finAcked {
			c.state = FinWait2
			if c.flags&fDetached != 0 {
				// Nobody will read or close further: bound the wait
				// (lwIP TCP_FIN_WAIT_TIMEOUT).
				c.keepAt = l.now.Add(l.cfg.FinWait2Timeout)
				l.arm(c.keepAt)
			}
		}
	case Closing:
		if finAcked {
			c.state = TimeWait
		}
		return false
	case LastAck:
		if finAcked {
			c.state = Closed
		}
		return false
	case TimeWait:
		return false
	}
	return true
}

// newAck handles an ACK that acknowledges new data.
func (l *Layer) newAck(c *pcb) {
	in := &l.in
	acked := uint32(in.ack.Sub(c.snd.UNA))
	data := int(acked)
	if c.synUnacked() {
		data-- // our SYN
	}
	finSeq := c.snd.bufSeq.Add(wire.Size(c.snd.queued))
	if c.flags&fFinQueued != 0 && finSeq.LessThan(in.ack) {
		data-- // our FIN
	}
	c.snd.UNA = in.ack
	c.sack.prune(in.ack)
	if c.flags&fSndUrgent != 0 && !in.ack.LessThan(c.snd.UP) {
		c.flags &^= fSndUrgent // the urgent data is acknowledged: urgent mode ends
	}
	if c.snd.NXT.LessThan(c.snd.UNA) {
		c.snd.NXT = c.snd.UNA // acknowledged beyond a rewind after RTO
	}
	if data > 0 {
		l.sndTrim(c, data)
		c.sentPending += data
	}
	// Congestion control counts acknowledged data, not SYN or FIN.
	newData := uint32(max(data, 0))
	// RTT (RFC 6298 §3, RFC 7323 §4): from the echoed timestamp, or the timed
	// segment when it was not retransmitted (Karn).
	if c.flags&fTimestamps != 0 && in.opts.HasTimestamps && in.opts.TSEcr != 0 {
		l.rttSample(c, clock.Duration(l.tsNow()+c.ts.offset-in.opts.TSEcr)*clock.Millisecond)
	} else if c.flags&fRTTiming != 0 && c.rtt.seq.LessThan(in.ack) {
		c.flags &^= fRTTiming
		if c.flags&fRexmit == 0 {
			l.rttSample(c, l.now.Sub(c.rtt.at))
		}
	}
	c.flags &^= fRexmit
	c.retries = 0
	c.firstRexmit = clock.Never
	if c.flags&fInRecovery != 0 {
		l.spuriousRecovery(c)
	}
	// Congestion control.
	if c.flags&fInRecovery != 0 {
		if c.snd.recover.LessThan(in.ack) || c.snd.recover == in.ack {
			// Full acknowledgment (RFC 6582 §3.2 step 3, RFC 6675 §5
			// step 2): deflate and leave.
			c.flags &^= fInRecovery | fSACKRecovery
			c.sack.hasFloor = false
			c.cc.Cwnd = min(c.cc.Ssthresh, max(c.flight(), c.cc.MSS)+c.cc.MSS)
		} else if c.flags&fSACKRecovery != 0 {
			// A partial acknowledgment in SACK recovery: output sends
			// what pipe allows. The new SND.UNA sits at a hole below
			// SACKed data that the retransmissions passed over; resend
			// it now even if too little is SACKed above it for IsLost,
			// as NewReno would (RFC 6582 §3.2 step 4), so that a short
			// transfer's last holes do not wait for the RTO.
			if c.sack.n > 0 && !c.snd.UNA.LessThan(c.sack.highRxt) {
				if s, n := c.sack.nextHole(c.snd.UNA, c.snd.MAX); s == c.snd.UNA && n > 0 {
					l.sackRetransmit(c, s, n)
				}
			}
		} else {
			// Partial acknowledgment (step 4): retransmit the next hole,
			// deflate by the amount acknowledged, add back one SMSS.
			l.retransmitHead(c)
			if c.cc.Cwnd > newData {
				c.cc.Cwnd -= newData
			} else {
				c.cc.Cwnd = 0
			}
			c.cc.Cwnd += c.cc.MSS
		}
	} else if newData > 0 {
		c.ccAl.OnAck(&c.cc, newData, l.ccIn(c))
	}
	c.snd.dupAcks = 0
	// RFC 6298 §5.2–5.3: stop the timer when all is acknowledged, else restart.
	c.flags &^= fTLPOut
	if c.flight() == 0 && c.flags&fPersist == 0 {
		c.rtoAt = clock.Never
		c.flags &^= fPTO
	} else if c.flags&fPersist == 0 {
		l.armTimer(c, c.snd.MAX, true)
	}
	// The poll interval restarts when data is acknowledged (lwIP).
	if c.pollInterval > 0 && data > 0 {
		c.pollAt = l.now.Add(c.pollInterval)
		l.arm(c.pollAt)
	}
}

// dupAck counts duplicate ACKs and runs fast retransmit and NewReno fast
// recovery (RFC 5681 §3.2, RFC 6582 §3.2).
func (l *Layer) dupAck(c *pcb) {
	l.stats.DupAcks++
	c.snd.dupAcks++
	switch {
	case c.flags&fSACKRecovery != 0:
		// The scoreboard moved; output sends what pipe allows.
	case c.flags&fInRecovery != 0:
		// Inflate per additional duplicate; afterInput's output sends new
		// data if it now fits (and nothing otherwise: an ACK here would be
		// a duplicate ACK for the peer).
		c.cc.Cwnd += c.cc.MSS
	case c.flags&fSACK != 0 && c.sack.n > 0 &&
		(uint32(c.snd.dupAcks) >= c.dupThresh() || c.sack.isLost(c.snd.UNA, c.snd.UNA, c.segMSS(), c.dupThresh())):
		// RFC 6675 §5 step 4: DupThresh duplicates, or enough SACKed above
		// SND.UNA to presume it lost; not twice for one window (RFC 6582).
		if c.snd.UNA.LessThan(c.snd.recover) {
			return
		}
		l.sackEnterRecovery(c)
	case uint32(c.snd.dupAcks) == c.dupThresh():
		// RFC 6582 §3.2 step 2: only when the ACK covers more than recover,
		// so a loss already being repaired does not halve the window twice.
		if !c.snd.recover.LessThan(c.snd.UNA) && c.snd.recover != c.snd.UNA && c.snd.recover != 0 {
			return
		}
		l.stats.FastRetransmits++
		l.saveUndo(c)
		c.ccAl.OnLoss(&c.cc, c.flight(), l.ccIn(c))
		c.snd.recover = c.snd.MAX
		c.flags |= fInRecovery
		l.retransmitHead(c)
		c.cc.Cwnd = c.cc.Ssthresh + 3*c.cc.MSS
	}
}

// retransmitHead resends the oldest unacknowledged segment.
func (l *Layer) retransmitHead(c *pcb) {
	if c.synUnacked() || c.snd.queued <= int(c.snd.UNA.Sub(c.snd.bufSeq)) {
		return // the SYN's to the RTO; a lone FIN too
	}
	l.resend(c, c.snd.UNA, int(c.segMSS()))
}

// dataInput queues the segment's text and FIN (RFC 9293 §3.10.7.4 seventh
// and eighth). lwIP: tcp_receive.
func (l *Layer) dataInput(c *pcb) {
	in := &l.in
	switch c.state {
	case Established, FinWait1, FinWait2:
	default:
		// CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent FIN;
		// "ignore the segment text".
		return
	}
	b := l.inBuf
	seq := in.seq
	fin := in.flags.Has(wire.FlagFIN)
	if in.data > 0 && c.flags&fRxClosed != 0 {
		// Data for an application that will read no more: reset (lwIP).
		l.sendRST(c.id, c.ackSeq(), c.rcv.NXT, true)
		c.errPending = errs.ErrAbort
		return
	}
	// Trim what we already have at the front.
	if seq.LessThan(c.rcv.NXT) {
		k := int(c.rcv.NXT.Sub(seq))
		if k > b.Len() {
			return // only a duplicate FIN or nothing new
		}
		if k > 0 {
			l.noteDSACK(c, seq, c.rcv.NXT)
		}
		b.Consume(k)
		seq = c.rcv.NXT
	}
	// Trim what lies beyond the window we announced at the back.
	right := c.rcv.adv
	if end := seq.Add(wire.Size(b.Len())); right.LessThan(end) {
		k := int(end.Sub(right))
		b.Truncate(max(b.Len()-k, 0))
		fin = false
	}
	if seq != c.rcv.NXT {
		// Out of order: keep it if there is room, and send a duplicate ACK at
		// once (RFC 5681 §4.2) carrying SACK blocks.
		c.flags |= fAckNow
		if b.Len() == 0 && !fin {
			return
		}
		// The first SACK block reports the block holding this segment,
		// even if it turns out to be a duplicate (RFC 2018 §4).
		c.rcv.lastOOO = seq
		if c.rcv.ooCount >= l.cfg.OOSeqMaxBufs || l.ooseq >= l.cfg.OOSeqGlobal || l.nodesFree == 0 ||
			b.Pool() == l.pool && l.pool.Available() < l.cfg.ReserveBufs/2 {
			// Out-of-order data is a luxury: it never takes the last of the
			// pool's reserve, which reception and ACKs need to make progress
			// (lwIP's PBUF_POOL starvation, anchors c.1 #3).
			l.stats.OOSeqDrops++
			return
		}
		i := l.allocNode()
		l.nodes[i].buf, l.nodes[i].seq, l.nodes[i].fin = b, seq, fin
		if l.oooInsert(c, i) {
			l.inBuf = nil
			l.stats.OOSeq++
		} else {
			l.nodes[i].buf = nil
			l.freeNode(i)
		}
		return
	}
	hadOOO := c.rcv.ooCount > 0
	if b.Len() > 0 {
		if l.nodesFree == 0 {
			l.stats.MemErr++
			return // no node: drop; the peer retransmits
		}
		l.queueReady(c, b)
		l.inBuf = nil
	}
	if fin {
		l.finInput(c)
	}
	// Pull in what the out-of-order queue now continues.
	for c.rcv.ooCount > 0 && c.flags&fFinRcvd == 0 {
		i := c.rcv.ooseq.head
		m := &l.nodes[i]
		if c.rcv.NXT.LessThan(m.seq) {
			break
		}
		c.rcv.ooseq.head = m.next
		if m.next < 0 {
			c.rcv.ooseq.tail = -1
		}
		c.rcv.ooCount--
		l.ooseq--
		mb, mfin := m.buf, m.fin
		end := m.seq.Add(wire.Size(mb.Len()))
		l.freeNode(i)
		if end.LessThan(c.rcv.NXT) || end == c.rcv.NXT && !mfin {
			mb.Free()
			continue
		}
		mb.Consume(int(c.rcv.NXT.Sub(end - wire.Seq(mb.Len()))))
		if mb.Len() > 0 {
			l.queueReady(c, mb)
		} else {
			mb.Free()
		}
		if mfin {
			l.finInput(c)
		}
	}
	// ACK policy (RFC 9293 §3.8.6.3, RFC 5681 §4.2): at once when a gap was
	// filled, on every second full segment, or with delayed ACKs off;
	// otherwise delayed.
	c.rcv.segs++
	if l.in.data > int(c.rcv.mss) {
		c.rcv.segs++ // a coalesced segment (a device's GRO) is several full ones: ACK now
	}
	switch {
	case hadOOO, c.flags&fFinRcvd != 0, l.cfg.DelayedACK < 0, c.rcv.segs >= 2:
		c.flags |= fAckNow
	default:
		c.flags |= fAckDelay
	}
}

// queueReady appends in-order data to the ready list, advancing RCV.NXT.
func (l *Layer) queueReady(c *pcb, b *pbuf.Buf) {
	i := l.allocNode()
	l.nodes[i].buf = b
	l.push(&c.rcv.ready, i)
	n := b.Len()
	c.rcv.readyLen += n
	c.rcv.NXT = c.rcv.NXT.Add(wire.Size(n))
	if uint32(n) <= c.rcv.wnd {
		c.rcv.wnd -= uint32(n)
	} else {
		c.rcv.wnd = 0
	}
}

// finInput takes the peer's FIN in sequence (RFC 9293 §3.10.7.4 eighth).
func (l *Layer) finInput(c *pcb) {
	if c.flags&fFinRcvd != 0 {
		return
	}
	c.flags |= fFinRcvd | fAckNow
	c.rcv.NXT++
	switch c.state {
	case SynReceived, Established:
		c.state = CloseWait
	case FinWait1:
		finAcked := c.snd.UNA == c.snd.bufSeq.Add(wire.Size(c.snd.queued)+1)
		if finAcked {
			c.state = TimeWait
		} else {
			c.state = Closing
		}
	case FinWait2:
		c.state = TimeWait
	}
	// Out-of-order data past the FIN can never be delivered.
	l.ooseq -= c.rcv.ooCount
	c.rcv.ooCount = 0
	l.freeList(&c.rcv.ooseq)
}

// undelivered reports whether in-order data or the end of stream still wait
// for an application that is attached.
func (l *Layer) undelivered(c *pcb) bool {
	if c.flags&(fDetached|fRxClosed) != 0 || c.handler == nil {
		return false
	}
	return !c.rcv.ready.empty() || c.flags&(fFinRcvd|fFinDelivered) == fFinRcvd
}

// adoptCookie handles a race of SYN cookies: a full backlog answered the
// peer's SYN with a cookie, the peer's retransmitted SYN then found room and
// made this connection with another ISS, and the peer's ACK answers the
// cookie. Linux accepts such an ACK as a valid cookie; resetting it would
// kill a legitimate connection. If the ACK carries a valid cookie for this
// connection's SYN, the connection takes the cookie as its ISS.
func (l *Layer) adoptCookie(c *pcb) bool {
	in := &l.in
	if c.listener < 0 || l.cfg.Backlog != BacklogSYNCookies || in.seq != c.rcv.NXT {
		return false
	}
	if _, ok := l.checkCookie(c.id, c.rcv.IRS, in.ack-1); !ok {
		return false
	}
	l.stats.SYNCookiesOK++
	c.snd.ISS = in.ack - 1
	c.snd.UNA = c.snd.ISS
	c.snd.NXT, c.snd.MAX = in.ack, in.ack
	c.snd.bufSeq = in.ack
	c.flags &^= fRTTiming // the timed SYN-ACK is not the one answered
	if c.flags&fTimestamps != 0 {
		c.ts.offset = 0 // the cookie's TSval used the bare clock
	}
	return true
}
