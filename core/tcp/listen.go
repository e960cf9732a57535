package tcp

import (
	"encoding/binary"
	"net/netip"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

// listener is a passive open. lwIP: struct tcp_pcb_listen, which is also
// smaller than a connection.
type listener struct {
	used     bool
	gen      uint16
	local    wire.IPv4Addr
	port     uint16
	backlog  int // most connections in SYN-RECEIVED at once
	pending  int // connections in SYN-RECEIVED
	acceptor Acceptor
	tos      uint8
}

// Listener is a handle to a listening endpoint, with a generation like Conn.
type Listener struct {
	l   *Layer
	idx int16
	gen uint16
}

func (h Listener) lst() *listener {
	if h.l == nil || h.idx < 0 || int(h.idx) >= len(h.l.lst) {
		return nil
	}
	s := &h.l.lst[h.idx]
	if !s.used || s.gen != h.gen {
		return nil
	}
	return s
}

// Listen turns a bound, closed connection into a listener with the given
// backlog (0: Config.SynBacklog) and releases c, whose handle goes stale.
// It returns ErrMem when Config.MaxListeners are in use, ErrVal when c is
// not a closed, bound connection. lwIP: tcp_listen_with_backlog.
func (h Conn) Listen(backlog int) (Listener, error) {
	c := h.pcb()
	if c == nil {
		return Listener{}, errs.ErrClosed
	}
	if c.state != Closed || c.id.lport == 0 {
		return Listener{}, errs.ErrVal
	}
	l := h.l
	for i := range l.lst {
		s := &l.lst[i]
		if s.used {
			continue
		}
		if backlog <= 0 {
			backlog = l.cfg.SynBacklog
		}
		gen := s.gen + 1
		if gen == 0 {
			gen = 1
		}
		*s = listener{used: true, gen: gen, local: c.id.local, port: c.id.lport, backlog: backlog, tos: c.tos}
		l.release(c)
		return Listener{l, int16(i), gen}, nil
	}
	return Listener{}, errs.ErrMem
}

// SetAcceptor sets what receives the listener's new connections. Without
// one, completed connections are reset. lwIP: tcp_accept.
func (h Listener) SetAcceptor(a Acceptor) error {
	s := h.lst()
	if s == nil {
		return errs.ErrClosed
	}
	s.acceptor = a
	return nil
}

// Addr returns the address and port the listener is bound to.
func (h Listener) Addr() netip.AddrPort {
	s := h.lst()
	if s == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom4(s.local), s.port)
}

// IsValid reports whether the handle refers to a live listener.
func (h Listener) IsValid() bool { return h.lst() != nil }

// Close stops listening; connections still in the handshake are reset.
// lwIP: tcp_close on a listening PCB.
func (h Listener) Close() error {
	s := h.lst()
	if s == nil {
		return errs.ErrClosed
	}
	l := h.l
	for i := range l.pcbs {
		c := &l.pcbs[i]
		if c.used && c.listener == h.idx && c.state == SynReceived {
			l.abort(c, errs.ErrClosed, true)
		}
	}
	*s = listener{gen: s.gen}
	return nil
}

// findListener returns the listener for a segment to dst:port: one bound to
// dst before a wildcard one.
func (l *Layer) findListener(dst wire.IPv4Addr, port uint16) int {
	best := -1
	for i := range l.lst {
		s := &l.lst[i]
		if !s.used || s.port != port {
			continue
		}
		if s.local == dst {
			return i
		}
		if s.local.IsUnspecified() {
			best = i
		}
	}
	return best
}

// isn returns an initial sequence number for id (RFC 6528 §3): a clock that
// ticks every 4 µs plus a keyed hash of the 4-tuple.
func (l *Layer) isn(id tuple) wire.Seq {
	var m [12]byte
	copy(m[0:4], id.local[:])
	copy(m[4:8], id.remote[:])
	binary.BigEndian.PutUint16(m[8:], id.lport)
	binary.BigEndian.PutUint16(m[10:], id.rport)
	f := sipHash24(l.isnKey[0], l.isnKey[1], m[:])
	return wire.Seq(uint32(l.now/4000) + uint32(f))
}

// SYN cookies (RFC 4987 §3.6). The cookie is our ISS: 5 bits of a
// 64-second counter, 3 bits of MSS class, 24 bits of keyed hash over the
// 4-tuple, the peer's ISN and the counter. Window scale and SACK ride in
// the low 5 bits of our TSval, when the peer uses timestamps (Linux does the
// same); without timestamps, a cookie connection has neither.
var cookieMSS = [8]uint16{536, 1200, 1360, 1440, 1452, 1460, 4312, 8960}

const cookiePeriod = 64 * clock.Second

func (l *Layer) cookieHash(id tuple, peerISN wire.Seq, t uint32) uint32 {
	var m [20]byte
	copy(m[0:4], id.local[:])
	copy(m[4:8], id.remote[:])
	binary.BigEndian.PutUint16(m[8:], id.lport)
	binary.BigEndian.PutUint16(m[10:], id.rport)
	binary.BigEndian.PutUint32(m[12:], uint32(peerISN))
	binary.BigEndian.PutUint32(m[16:], t)
	return uint32(sipHash24(l.isnKey[1], l.isnKey[0], m[:])) & 0xffffff
}

func (l *Layer) makeCookie(id tuple, peerISN wire.Seq, mss uint16) wire.Seq {
	t := uint32(l.now / clock.Time(cookiePeriod))
	idx := 0
	for i, m := range cookieMSS {
		if m <= mss {
			idx = i
		}
	}
	return wire.Seq((t&0x1f)<<27 | uint32(idx)<<24 | l.cookieHash(id, peerISN, t&0x1f))
}

// checkCookie validates the cookie acknowledged by a handshake's last ACK
// and returns the MSS it encodes.
func (l *Layer) checkCookie(id tuple, peerISN, cookie wire.Seq) (uint16, bool) {
	now := uint32(l.now / clock.Time(cookiePeriod))
	t := uint32(cookie) >> 27
	if (now-t)&0x1f > 1 { // issued in this period or the previous one
		return 0, false
	}
	if l.cookieHash(id, peerISN, t) != uint32(cookie)&0xffffff {
		return 0, false
	}
	return cookieMSS[uint32(cookie)>>24&7], true
}

// listenInput handles a segment for a listener (RFC 9293 §3.10.7.2). lwIP:
// tcp_listen_input.
func (l *Layer) listenInput(li int) {
	in := &l.in
	s := &l.lst[li]
	id := tuple{local: in.dst, remote: in.src, lport: in.t.DstPort(), rport: in.t.SrcPort()}
	switch {
	case in.flags.Has(wire.FlagRST):
		return // "An incoming RST should be ignored"
	case in.flags.Has(wire.FlagACK):
		if !in.flags.Has(wire.FlagSYN) && l.cfg.Backlog == BacklogSYNCookies {
			if l.cookieAccept(li, id) {
				return
			}
		}
		// "Any acknowledgment is bad if it arrives on a connection still in
		// the LISTEN state": <SEQ=SEG.ACK><CTL=RST>.
		l.stats.BadAck++
		l.sendRST(id, in.ack, 0, false)
		return
	case !in.flags.Has(wire.FlagSYN):
		return
	}
	if s.pending >= s.backlog {
		switch l.cfg.Backlog {
		case BacklogSYNCookies:
			l.sendCookie(id)
		case BacklogReset:
			l.stats.BacklogDrops++
			l.sendRST(id, 0, in.seq.Add(in.segLen()), true)
		default:
			l.stats.BacklogDrops++
		}
		return
	}
	c, _ := l.pcbAlloc()
	if c == nil {
		l.stats.ListenDrops++
		if l.cfg.Backlog == BacklogSYNCookies {
			l.sendCookie(id) // the ACK may find a free PCB
		}
		return
	}
	rt, err := l.out.RouteTCP(in.src)
	if err != nil {
		l.release(c)
		return
	}
	c.id = id
	c.listener = int16(li)
	c.tos = s.tos
	s.pending++
	l.initSend(c, rt)
	l.synOptions(c)
	c.rcv.IRS = in.seq
	c.rcv.NXT = in.seq + 1
	c.rcv.adv = c.rcv.NXT
	c.snd.ISS = l.isn(id)
	c.snd.UNA, c.snd.NXT, c.snd.MAX = c.snd.ISS, c.snd.ISS, c.snd.ISS
	c.snd.recover = c.snd.ISS // RFC 6582 §3.2 step 1
	c.snd.bufSeq = c.snd.ISS + 1
	c.snd.WND = uint32(in.wnd) // never scaled in a SYN (RFC 7323 §2.2)
	c.snd.WL1, c.snd.WL2 = in.seq, c.snd.ISS
	c.state = SynReceived
	l.conns.put(id, c.slot)
	l.stats.PassiveOpens++
	l.output(c)
}

// synOptions applies the options of a received SYN to c.
func (l *Layer) synOptions(c *pcb) {
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
		c.rcv.scale = 0
	}
	if o.HasTimestamps && !l.cfg.NoTimestamps {
		c.flags |= fTimestamps
		c.ts.recent = o.TSVal
		c.ts.recentAt = l.now
	}
	if o.SACKPermitted && !l.cfg.NoSACK {
		c.flags |= fSACK
	}
	l.ccInit(c)
}

// sendCookie answers a SYN with a stateless SYN-ACK.
func (l *Layer) sendCookie(id tuple) {
	in := &l.in
	rt, err := l.out.RouteTCP(in.src)
	if err != nil {
		return
	}
	mss := uint16(min(l.cfg.MSS, rt.MTU-wire.IPv4MinHeaderLen-wire.TCPMinHeaderLen))
	peer := uint16(wire.TCPDefaultMSS)
	if in.opts.MSS != 0 {
		peer = in.opts.MSS
	}
	h := wire.TCPHeader{
		SrcPort: id.lport, DstPort: id.rport, Seq: l.makeCookie(id, in.seq, min(peer, mss)), Ack: in.seq + 1,
		Flags: wire.FlagSYN | wire.FlagACK, Window: uint16(min(l.cfg.RcvBuf, 0xffff)),
	}
	h.Options.MSS = mss
	if in.opts.HasTimestamps && !l.cfg.NoTimestamps {
		enc := uint32(0xf) // no window scale
		var scale uint8
		if in.opts.HasWScale && !l.cfg.NoWindowScale {
			for scale < wire.MaxWScale && l.cfg.RcvBuf>>scale > 0xffff {
				scale++
			}
			enc = uint32(min(in.opts.WScale, wire.MaxWScale)) // the peer's shift, to recover it later
			h.Options.HasWScale, h.Options.WScale = true, scale
		}
		if in.opts.SACKPermitted && !l.cfg.NoSACK {
			enc |= 0x10
			h.Options.SACKPermitted = true
		}
		h.Options.HasTimestamps = true
		// Never ahead of the clock: the connection's later TSvals are the bare
		// clock, and must not go back (Linux cookie_init_timestamp).
		now := uint32(l.now / clock.Time(clock.Millisecond))
		h.Options.TSVal = now&^0x1f | enc
		if int32(h.Options.TSVal-now) > 0 {
			h.Options.TSVal -= 0x20
		}
		h.Options.TSEcr = in.opts.TSVal
	}
	l.stats.SYNCookiesSent++
	l.sendHeader(&h, id, 0)
}

// cookieAccept creates a connection from a valid SYN-cookie ACK; it reports
// whether the segment was consumed.
func (l *Layer) cookieAccept(li int, id tuple) bool {
	in := &l.in
	mss, ok := l.checkCookie(id, in.seq-1, in.ack-1)
	if !ok {
		l.stats.SYNCookiesBad++
		return false
	}
	c, _ := l.pcbAlloc()
	if c == nil {
		l.stats.ListenDrops++
		return true // drop; the peer's retransmission may find room
	}
	rt, err := l.out.RouteTCP(in.src)
	if err != nil {
		l.release(c)
		return true
	}
	l.stats.SYNCookiesOK++
	c.id = id
	c.listener = int16(li)
	c.tos = l.lst[li].tos
	l.initSend(c, rt)
	c.snd.mss = min(uint32(mss), c.rcv.mss)
	c.rcv.scale = 0
	if in.opts.HasTimestamps && !l.cfg.NoTimestamps {
		enc := in.opts.TSEcr & 0x1f
		c.flags |= fTimestamps
		c.ts.recent, c.ts.recentAt = in.opts.TSVal, l.now
		c.ts.offset = 0 // the cookie's TSval used the bare clock
		if enc&0xf != 0xf {
			c.flags |= fWScale
			for c.rcv.scale < wire.MaxWScale && l.cfg.RcvBuf>>c.rcv.scale > 0xffff {
				c.rcv.scale++
			}
			c.snd.scale = uint8(enc & 0xf)
		}
		if enc&0x10 != 0 {
			c.flags |= fSACK
		}
	}
	if c.flags&fWScale == 0 {
		c.rcv.scale = 0
	}
	c.flags |= fAcceptOwed
	c.rcv.IRS = in.seq - 1
	c.rcv.NXT = in.seq
	c.rcv.adv = in.seq.Add(wire.Size(min(l.cfg.RcvBuf, 0xffff)))
	c.ts.lastAckSent = in.seq // what the cookie SYN-ACK acknowledged
	c.snd.ISS = in.ack - 1
	c.snd.UNA, c.snd.NXT, c.snd.MAX = in.ack, in.ack, in.ack
	c.snd.recover = in.ack - 1 // the ISS (RFC 6582 §3.2 step 1)
	c.snd.bufSeq = in.ack
	c.snd.WND = uint32(in.wnd) << c.snd.scale
	c.snd.maxWnd = c.snd.WND
	c.snd.WL1, c.snd.WL2 = in.seq, in.ack
	l.ccInit(c)
	c.state = Established
	l.conns.put(id, c.slot)
	l.stats.PassiveOpens++
	l.stats.Established++
	// The ACK may carry data: process it as any segment of the connection,
	// then accept and deliver.
	l.processSegment(c, l.inBuf)
	return true
}
