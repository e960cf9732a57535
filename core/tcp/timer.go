package tcp

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

// Timer runs the connection timers that are due: delayed ACKs,
// retransmission and persist, keepalive and the FIN-WAIT-2 and user
// timeouts, the application's poll, and TIME-WAIT expiry. It also offers
// refused data again. lwIP: tcp_fasttmr and tcp_slowtmr, with exact
// per-connection deadlines instead of 250 ms ticks.
func (l *Layer) Timer() {
	if l.now < l.timerAt {
		return
	}
	// Timers armed during the scan (callbacks may touch connections already
	// scanned) lower l.timerAt; keep the earlier of both.
	l.timerAt = clock.Never
	next := l.twTimer()
	// Callbacks may open or release connections while we scan; a release
	// swaps the last active slot into the hole. A slot that left in its own
	// callback is handled by staying at k; anything else reruns the scan
	// (timers are idempotent: what was done is no longer due), at most
	// twice more.
	for pass := 0; pass < 3; pass++ {
		mod := l.activeMod
		for k := 0; k < len(l.active); {
			slot := l.active[k]
			c := &l.pcbs[slot]
			if c.state != Closed && c.nextTimer() <= l.now {
				l.pcbTimer(c)
			}
			if k < len(l.active) && l.active[k] != slot {
				continue // c left; the slot moved here is not scanned yet
			}
			if c.used && c.state != Closed {
				next = min(next, c.nextTimer())
			}
			k++
		}
		if l.activeMod == mod {
			break
		}
	}
	l.timerAt = min(l.timerAt, next)
}

// pcbTimer runs c's due timers.
func (l *Layer) pcbTimer(c *pcb) {
	gen := c.gen
	alive := func() bool { return c.used && c.gen == gen }
	now := l.now
	if c.ackAt <= now {
		c.ackAt = clock.Never
		c.flags |= fAckNow
		l.output(c)
	}
	if c.rtoAt <= now {
		c.rtoAt = clock.Never
		switch {
		case c.flags&fPersist != 0:
			l.persistTimeout(c)
		case c.flags&fPTO != 0:
			l.probeTimeout(c)
		default:
			l.rtoTimeout(c)
		}
		if !alive() {
			return
		}
	}
	if c.keepAt <= now {
		c.keepAt = clock.Never
		l.keepTimeout(c)
		if !alive() {
			return
		}
	}
	if c.pollAt <= now {
		c.pollAt = clock.Never
		if c.pollInterval > 0 {
			c.pollAt = now.Add(c.pollInterval)
		}
		if hd := c.handler; hd != nil && c.flags&fDetached == 0 {
			err := hd.Poll(l.handle(c))
			if !alive() {
				return
			}
			if err == nil {
				l.output(c)
			}
		}
	}
	// Offer refused data again (lwIP tcp_process_refused_data from tcp_fasttmr).
	if c.offerAt <= now {
		c.offerAt = clock.Never
	}
	if !c.rcv.ready.empty() {
		if !l.deliver(c) || !alive() {
			return
		}
		if c.rcv.ready.empty() {
			l.output(c) // the window may have reopened
		}
	}
	if c.state == TimeWait && !l.undelivered(c) {
		l.twEnter(c) // everything delivered: a compact record from now on
	}
}

// refusedRetry is how soon data the application refused is offered again
// (lwIP retries from tcp_fasttmr, every 250 ms).
const refusedRetry = 250 * clock.Millisecond

// rtoTimeout handles a retransmission timeout (RFC 6298 §5.4–5.7, RFC 5681
// §3.1 eq. 4).
func (l *Layer) rtoTimeout(c *pcb) {
	if c.flight() == 0 && !c.synUnacked() {
		// Nothing outstanding: the timer was armed because a send found no
		// buffer (sendData). Try again; it is no timeout.
		l.output(c)
		return
	}
	limit := l.cfg.MaxRetries
	if c.state == SynSent || c.state == SynReceived {
		limit = l.cfg.SynRetries
	}
	if c.firstRexmit == clock.Never {
		c.firstRexmit = l.now
	}
	if int(c.retries) >= limit || c.userTimeout > 0 && l.now.Sub(c.firstRexmit) >= c.userTimeout {
		if c.userTimeout > 0 && int(c.retries) < limit {
			l.stats.UserTimeouts++
		}
		l.abort(c, errs.ErrTimeout, true)
		return
	}
	l.stats.Timeouts++
	if c.state != SynSent && c.state != SynReceived {
		if c.retries == 0 {
			// RFC 5681 §3.1: when the segment "has already been
			// retransmitted by way of the retransmission timer at least
			// once, the value of ssthresh is held constant".
			in := l.ccIn(c)
			in.Timeout = true
			c.ccAl.OnLoss(&c.cc, c.flight(), in)
		}
		c.cc.Cwnd = c.cc.MSS // loss window
		c.flags &^= fInRecovery | fSACKRecovery | fTLPOut
		c.snd.recover = c.snd.MAX
		c.snd.dupAcks = 0
		c.sack.clear()
		c.sack.undoTS = 0 // an RTO's reduction stays
	}
	c.retries++
	// Back off (RFC 6298 §5.5) and resend from the oldest unacknowledged
	// byte: go-back-N with the loss window.
	c.rtt.rto = l.clampRTO(2 * c.rtt.rto)
	c.rtt.backoff++
	c.flags |= fRexmit
	c.flags &^= fRTTiming
	c.snd.NXT = c.snd.UNA
	if c.state == SynSent || c.state == SynReceived {
		c.snd.NXT = c.snd.ISS
		l.sendSYN(c)
		return
	}
	l.armRTO(c)
	l.output(c)
}

// persistTimeout sends a zero-window probe (RFC 9293 §3.8.6.1): one byte
// beyond the closed window, with exponential backoff. The connection stays
// open as long as the peer answers (MUST-26).
func (l *Layer) persistTimeout(c *pcb) {
	if c.snd.WND > 0 {
		// The window is open but was too small to use without silly-window
		// syndrome, and nothing is in flight: the override timeout of RFC
		// 9293 §3.8.6.2.1 (4) expired; send what fits.
		c.flags &^= fPersist
		c.retries = 0
		c.flags |= fForce
		l.output(c)
		c.flags &^= fForce
		return
	}
	l.stats.ZeroWindowProbes++
	off := int(c.snd.NXT.Sub(c.snd.bufSeq))
	if c.snd.WND == 0 && off < c.snd.queued && c.flight() == 0 {
		if l.sendData(c, c.snd.NXT, off, 1, wire.FlagACK) {
			c.snd.NXT++
			if c.snd.MAX.LessThan(c.snd.NXT) {
				c.snd.MAX = c.snd.NXT
			}
		}
	} else {
		l.sendData(c, c.snd.UNA-1, 0, 0, wire.FlagACK)
	}
	c.flags |= fPersist
	c.retries = min(c.retries+1, 30)
	d := c.rtt.rto << min(c.retries, 6)
	c.rtoAt = l.now.Add(l.clampRTO(d))
	l.arm(c.rtoAt)
}

// keepTimeout handles the keepalive timer (RFC 9293 §3.8.4, RFC 1122
// §4.2.3.6) and the FIN-WAIT-2 timeout of closed connections.
func (l *Layer) keepTimeout(c *pcb) {
	if c.state == TimeWait {
		// 2·MSL passed with data the application kept refusing.
		l.abort(c, errs.ErrTimeout, false)
		return
	}
	if c.state == FinWait2 && c.flags&fDetached != 0 {
		l.abort(c, errs.ErrTimeout, false)
		return
	}
	if c.flags&fKeepAlive == 0 || (c.state != Established && c.state != CloseWait) {
		return
	}
	if l.now.Sub(c.lastRecv) < c.keepIdle+clock.Duration(c.probes)*c.keepIntvl {
		l.armKeep(c)
		return
	}
	if c.probes >= c.keepCnt {
		l.stats.KeepAliveDrops++
		l.abort(c, errs.ErrTimeout, true)
		return
	}
	// The probe: SEG.SEQ = SND.NXT−1, no data, so the peer answers with an
	// ACK.
	l.stats.KeepAliveProbes++
	l.sendData(c, c.ackSeq()-1, 0, 0, wire.FlagACK)
	c.probes++
	l.armKeep(c)
}
