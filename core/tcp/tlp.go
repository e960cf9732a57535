package tcp

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

// Tail loss probe (RFC 8985 §7). When the last segments of a flight are
// lost, no duplicate ACK comes back to start fast recovery, and the sender
// waits a whole RTO. Instead, a probe timeout (PTO) of about two round
// trips goes first: it sends one segment, new data if there is some, else
// the last segment again, so that its ACK (with SACK) repairs a single
// lost tail segment or starts SACK recovery for more. The PTO uses the
// retransmission timer's slot (rtoAt, with fPTO set); after the probe the
// timer is an RTO again. Only connections with SACK probe: without it a
// probe's ACK cannot tell the sender anything the RTO would not.

// wcDelAckT is RFC 8985's WCDelAckT: the worst-case delayed-ACK time of
// the peer, added to the PTO when only one segment is in flight.
const wcDelAckT = 200 * clock.Millisecond

// minPTO keeps a probe from racing ordinary ACK delays on very short
// paths (Linux uses the same 10 ms floor).
const minPTO = 10 * clock.Millisecond

// armTimer arms the retransmission timer after a send or a new ACK
// (restart), as the probe timeout when a tail loss probe may go first
// (RFC 8985 §7.2: SACK, an RTT measured, not in loss recovery, fast or
// after an RTO (snd.UNA below snd.recover), no probe since the last new
// ACK). end is the sequence number just past
// what is outstanding once the send is done. A running RTO is restarted
// only by a new ACK, never pushed back by a send (RFC 6298 §5.1, 5.3); a
// send may bring it forward to a PTO, and restarts a running PTO.
func (l *Layer) armTimer(c *pcb, end wire.Seq, restart bool) {
	at := clock.Never
	if c.flags&(fSACK|fInRecovery|fTLPOut|fPersist) == fSACK && c.rtt.srtt > 0 && c.retries == 0 &&
		!c.snd.UNA.LessThan(c.snd.recover) && c.state.synchronized() && c.state != TimeWait {
		pto := 2 * c.rtt.srtt
		if flight := max(c.flight(), uint32(end.Sub(c.snd.UNA))); flight <= c.segMSS() {
			pto += wcDelAckT
		}
		if pto = max(pto, minPTO); pto < c.rtt.rto {
			at = l.now.Add(pto)
		}
	}
	if !restart && c.flags&fPTO != 0 && c.rtoAt != clock.Never && c.rtoAt < at {
		at = c.rtoAt // a send never delays a running probe (RFC 8985 §7.2: min with the RTO)
	}
	switch {
	case at != clock.Never && (restart || c.rtoAt == clock.Never || c.flags&fPTO != 0 || at < c.rtoAt):
		c.flags |= fPTO
		c.rtoAt = at
		l.arm(at)
	case restart || c.rtoAt == clock.Never || c.flags&fPTO != 0:
		c.flags &^= fPTO
		l.armRTO(c)
	}
}

// probeTimeout sends the tail loss probe (RFC 8985 §7.3) and re-arms the
// RTO.
func (l *Layer) probeTimeout(c *pcb) {
	c.flags &^= fPTO
	if c.flight() == 0 {
		if c.snd.MAX != c.snd.UNA {
			l.rtoTimeout(c) // rewound (a PMTU update, a send without buffers): the RTO's work
		}
		return
	}
	l.stats.TLPProbes++
	c.flags |= fTLPOut
	mss := int(c.segMSS())
	off := int(c.snd.NXT.Sub(c.snd.bufSeq))
	avail := c.snd.queued - off
	finSeq := c.snd.bufSeq.Add(wire.Size(c.snd.queued))
	sent := false
	if avail > 0 && c.snd.NXT == c.snd.MAX && int(c.snd.WND)-int(c.flight()) >= min(avail, mss) {
		// New data the receiver's window takes (cwnd does not limit a
		// probe).
		n := min(avail, mss)
		flags := wire.FlagACK
		if n == avail && c.flags&fPush != 0 {
			flags |= wire.FlagPSH
		}
		fin := n == avail && c.flags&fFinQueued != 0
		if fin {
			flags |= wire.FlagFIN
		}
		if l.sendData(c, c.snd.NXT, off, n, flags) {
			sent = true
			c.sack.probe, c.sack.hasProbe = c.snd.NXT, true
			c.snd.NXT = c.snd.NXT.Add(wire.Size(n))
			if fin {
				c.snd.NXT++
				c.flags |= fFinSent
			}
			c.snd.MAX = c.snd.NXT
		}
	}
	if !sent {
		// The last segment again: its data, and the FIN if it ended there.
		end := c.snd.MAX
		if c.flags&fFinSent != 0 && end == finSeq.Add(1) {
			end = finSeq
		}
		start := c.snd.UNA
		if int(end.Sub(start)) > mss {
			start = end.Add(wire.Size(-mss))
		}
		l.resend(c, start, int(end.Sub(start)))
	}
	c.flags &^= fPTO
	l.armRTO(c)
}
