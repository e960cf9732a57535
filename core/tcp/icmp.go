package tcp

import (
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

// ICMP errors about segments we sent (RFC 1122 §4.2.3.9, RFC 1191, RFC 5927,
// RFC 5461). The IP layer finds the quoted TCP header and hands the
// connection's tuple, the quoted sequence number and the error's kind here.

// ICMPKind classifies an ICMP error for TCP.
type ICMPKind uint8

// ICMP error kinds.
const (
	// ICMPSoft is a soft error (network or host unreachable, time
	// exceeded, parameter problem, ...): TCP must not abort for it
	// (RFC 1122 §4.2.3.9); it is counted.
	ICMPSoft ICMPKind = iota
	// ICMPHard is a hard error (protocol or port unreachable): it aborts a
	// connection attempt in SYN-SENT; an established connection ignores
	// it (RFC 5461 §4.1: blind connection-reset attacks).
	ICMPHard
	// ICMPFragNeeded is Destination Unreachable, fragmentation needed and
	// DF set (code 4): Path MTU discovery (RFC 1191).
	ICMPFragNeeded
)

// minPMTU is the smallest path MTU a Fragmentation Needed message can set:
// below it the report is taken as 576-byte-era noise or an attack
// (RFC 5927 §7.2; Linux's min_pmtu is 552).
const minPMTU = 552

// ICMPError handles an ICMP error about a segment from local:lport to
// remote:rport whose sequence number was seq. mtu is the next-hop MTU of a
// Fragmentation Needed message (0 when the router did not say, RFC 1191
// §5), and quotedLen the total length of the quoted datagram. It reports
// whether a connection took the error.
func (l *Layer) ICMPError(kind ICMPKind, local, remote wire.IPv4Addr, lport, rport uint16, seq wire.Seq, mtu, quotedLen int) bool {
	i := l.conns.get(tuple{local: local, remote: remote, lport: lport, rport: rport})
	if i < 0 {
		l.stats.ICMPIgnored++
		return false
	}
	c := &l.pcbs[i]
	// RFC 5927 §4.1: the quoted segment must be one in flight, or the
	// error is forged (or stale) and changes nothing.
	if seq.LessThan(c.snd.UNA) || !seq.LessThan(c.snd.MAX) {
		l.stats.ICMPIgnored++
		return false
	}
	switch kind {
	case ICMPHard:
		l.stats.ICMPErrors++
		if c.state == SynSent {
			l.abort(c, errs.ErrReset, false) // refused, as an RST would say
		}
	case ICMPFragNeeded:
		// The quoted datagram must be one that could not have fitted: larger
		// than the reported MTU, and than any MTU an IPv4 path guarantees
		// (RFC 5927 §7.2: a forged message must not shrink the MSS at
		// will). Handshake segments carry no data to resend smaller, and
		// the SYN-ACK's options would overwrite the MSS: only synchronized
		// connections take it.
		if quotedLen <= max(mtu, minPMTU) || !c.state.synchronized() {
			l.stats.ICMPIgnored++
			return false
		}
		l.stats.ICMPErrors++
		l.pmtuUpdate(c, mtu, quotedLen)
	default:
		l.stats.ICMPErrors++
	}
	return true
}

// pmtuUpdate lowers the connection's MSS to what the reported path MTU
// carries and resends what is in flight in segments of the new size
// (RFC 1191 §6.4: "retransmit ... without reducing the congestion window":
// the loss was no sign of congestion).
func (l *Layer) pmtuUpdate(c *pcb, mtu, quotedLen int) {
	if mtu == 0 {
		// An old router (RFC 1191 §5): guess the next plateau below the
		// datagram that did not fit (RFC 1191 §7).
		mtu = plateauBelow(quotedLen)
	}
	mtu = max(mtu, minPMTU)
	mss := uint32(mtu - wire.IPv4MinHeaderLen - wire.TCPMinHeaderLen)
	if mss >= c.snd.mss {
		return // no news: the path takes what we send (RFC 1191 §6.3)
	}
	l.stats.PMTUUpdates++
	c.snd.mss = mss
	c.cc.MSS = c.segMSS()
	// Go back to SND.UNA: every segment in flight was too big.
	c.sack.clear()
	c.flags &^= fInRecovery | fSACKRecovery | fRTTiming
	c.flags |= fRexmit
	c.snd.NXT = c.snd.UNA
	l.output(c)
}

// plateauBelow returns the RFC 1191 §7 MTU plateau below size.
func plateauBelow(size int) int {
	for _, p := range [...]int{32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296} {
		if p < size {
			return p
		}
	}
	return 68
}
