package tcp

import "github.com/lwgo/lwgo/core/clock"

// clockGranularity is G of RFC 6298: our clock has nanoseconds, but RTT
// samples from timestamps have milliseconds.
const clockGranularity = clock.Millisecond

// synFallbackRTO is the RTO once data flows after a SYN or SYN-ACK timed out
// without an RTT sample (RFC 6298 §5.7).
const synFallbackRTO = 3 * clock.Second

// rttSample folds one round-trip measurement into SRTT, RTTVAR and RTO
// (RFC 6298 §2.2–2.5).
func (l *Layer) rttSample(c *pcb, r clock.Duration) {
	r = max(r, 0)
	if c.rtt.srtt == 0 {
		c.rtt.srtt = max(r, 1)
		c.rtt.rttvar = r / 2
	} else {
		d := c.rtt.srtt - r
		if d < 0 {
			d = -d
		}
		c.rtt.rttvar = (3*c.rtt.rttvar + d) / 4
		c.rtt.srtt = (7*c.rtt.srtt + r) / 8
		c.rtt.srtt = max(c.rtt.srtt, 1)
	}
	c.rtt.rto = l.clampRTO(c.rtt.srtt + max(clockGranularity, 4*c.rtt.rttvar))
	c.rtt.backoff = 0
}

func (l *Layer) clampRTO(d clock.Duration) clock.Duration {
	return min(max(d, l.cfg.MinRTO), l.cfg.MaxRTO)
}

// ccInit starts congestion control once the send MSS is known.
func (l *Layer) ccInit(c *pcb) {
	c.cc.MSS = c.snd.mss
	if c.flags&fTimestamps != 0 {
		c.cc.MSS = c.snd.mss - 12
	}
	c.ccAl.Init(&c.cc)
}

// tsNow returns our timestamp clock in milliseconds (RFC 7323 §5.4), before
// the per-connection offset.
func (l *Layer) tsNow() uint32 { return uint32(l.now / clock.Time(clock.Millisecond)) }
