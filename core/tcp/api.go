package tcp

import (
	"net/netip"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// Handler receives one connection's events; applications implement it on
// their per-connection state (it replaces lwIP's tcp_arg and the tcp_recv,
// tcp_sent, tcp_poll and tcp_err registrations). Methods run inside the
// stack's Poll or inside an API call that completes an event.
//
// A method that called c.Abort() must return ErrAbort; no other method may
// return it.
type Handler interface {
	// Connected reports that Connect completed; err is always nil (a failed
	// connect is reported through Err). lwIP: tcp_connected_fn.
	Connected(c Conn, err error) error
	// Recv delivers in-order data in p, or p == nil for end of stream (the
	// peer's FIN). Returning nil takes ownership of p: Free it and call
	// c.Recved as the data is consumed. Any other error except ErrAbort
	// refuses p: the stack keeps it and offers it again later (lwIP's
	// refused_data). lwIP: tcp_recv_fn.
	Recv(c Conn, p *pbuf.Buf, err error) error
	// Sent reports n bytes newly acknowledged by the peer: send-buffer space
	// freed. lwIP: tcp_sent_fn, with an int.
	Sent(c Conn, n int) error
	// Poll runs every SetPollInterval while the connection lives. lwIP: tcp_poll_fn.
	Poll(c Conn) error
	// Err reports that the connection is gone: ErrReset (peer reset),
	// ErrAbort (aborted, or a timeout), ErrTimeout (user timeout or
	// keepalive), ErrRoute, ErrClosed. c is already stale. lwIP: tcp_err_fn.
	Err(c Conn, err error)
}

// Acceptor receives connections a listener completed. It must call
// c.SetHandler before returning nil; returning an error aborts c. lwIP:
// tcp_accept_fn.
type Acceptor interface {
	Accept(l Listener, c Conn, err error) error
}

// DefaultHandler implements lwIP's default callbacks; embed it to handle
// only some events. Recv frees data, acknowledges it and closes on end of
// stream (lwIP tcp_recv_null); the others do nothing.
type DefaultHandler struct{}

// Connected implements Handler.
func (DefaultHandler) Connected(Conn, error) error { return nil }

// Recv implements Handler.
func (DefaultHandler) Recv(c Conn, p *pbuf.Buf, err error) error {
	if p == nil {
		return c.Close()
	}
	c.Recved(p.Len())
	p.Free()
	return nil
}

// Sent implements Handler.
func (DefaultHandler) Sent(Conn, int) error { return nil }

// Poll implements Handler.
func (DefaultHandler) Poll(Conn) error { return nil }

// Err implements Handler.
func (DefaultHandler) Err(Conn, error) {}

// Funcs adapts plain functions to a Handler; nil fields behave as
// DefaultHandler.
type Funcs struct {
	OnConnected func(c Conn, err error) error
	OnRecv      func(c Conn, p *pbuf.Buf, err error) error
	OnSent      func(c Conn, n int) error
	OnPoll      func(c Conn) error
	OnErr       func(c Conn, err error)
}

// Connected implements Handler.
func (f *Funcs) Connected(c Conn, err error) error {
	if f.OnConnected == nil {
		return nil
	}
	return f.OnConnected(c, err)
}

// Recv implements Handler.
func (f *Funcs) Recv(c Conn, p *pbuf.Buf, err error) error {
	if f.OnRecv == nil {
		return DefaultHandler{}.Recv(c, p, err)
	}
	return f.OnRecv(c, p, err)
}

// Sent implements Handler.
func (f *Funcs) Sent(c Conn, n int) error {
	if f.OnSent == nil {
		return nil
	}
	return f.OnSent(c, n)
}

// Poll implements Handler.
func (f *Funcs) Poll(c Conn) error {
	if f.OnPoll == nil {
		return nil
	}
	return f.OnPoll(c)
}

// Err implements Handler.
func (f *Funcs) Err(c Conn, err error) {
	if f.OnErr != nil {
		f.OnErr(c, err)
	}
}

// AcceptFunc adapts a function to an Acceptor.
type AcceptFunc func(l Listener, c Conn, err error) error

// Accept implements Acceptor.
func (f AcceptFunc) Accept(l Listener, c Conn, err error) error { return f(l, c, err) }

// WriteFlags modify Write (lwIP TCP_WRITE_FLAG_*).
type WriteFlags uint8

// Write flags.
const (
	// WriteCopy copies the data (TCP_WRITE_FLAG_COPY); the default.
	WriteCopy WriteFlags = 0
	// WriteMore says more data follows at once: no PSH (TCP_WRITE_FLAG_MORE).
	WriteMore WriteFlags = 1 << 0
	// WriteNoCopy references the caller's memory, which must stay unchanged
	// until Sent has covered it (lwIP without TCP_WRITE_FLAG_COPY).
	WriteNoCopy WriteFlags = 1 << 1
	// WriteUrgent makes the written bytes urgent data (RFC 9293 §3.8.5):
	// the urgent pointer moves to their end. See UrgentHandler.
	WriteUrgent WriteFlags = 1 << 2
)

// Conn is a handle to a connection: a small comparable value with a
// generation. The zero Conn is invalid. A handle goes stale after Abort,
// after Close, and just before Handler.Err runs; methods on a stale handle
// return ErrClosed and never touch another connection.
type Conn struct {
	l   *Layer
	idx int32
	gen uint16
}

func (h Conn) pcb() *pcb {
	if h.l == nil || h.idx < 0 || int(h.idx) >= len(h.l.pcbs) {
		return nil
	}
	c := &h.l.pcbs[h.idx]
	if !c.used || c.gen != h.gen || c.flags&fDetached != 0 {
		return nil
	}
	return c
}

func (l *Layer) handle(c *pcb) Conn { return Conn{l, c.slot, c.gen} }

// IsValid reports whether the handle refers to a live connection.
func (h Conn) IsValid() bool { return h.pcb() != nil }

// NewConn creates a connection in CLOSED state. It returns ErrMem when
// Config.MaxPCBs are in use. lwIP: tcp_new.
func (l *Layer) NewConn() (Conn, error) {
	c, _ := l.pcbAlloc()
	if c == nil {
		l.stats.MemErr++
		return Conn{}, errs.ErrMem
	}
	c.flags |= fNewConn
	return l.handle(c), nil
}

// SetHandler sets the connection's callbacks. lwIP: tcp_arg with tcp_recv,
// tcp_sent, tcp_poll, tcp_err.
func (h Conn) SetHandler(hd Handler) error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	c.handler = hd
	return nil
}

// Bind sets the local address (invalid or unspecified: any) and port (0: a
// random free ephemeral port). It returns ErrInUse when the address and port
// are taken, ErrVal in a state other than CLOSED or for a foreign address.
// lwIP: tcp_bind.
func (h Conn) Bind(addr netip.Addr, port uint16) error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	if c.state != Closed || c.id.lport != 0 {
		return errs.ErrVal
	}
	var a wire.IPv4Addr
	if addr.IsValid() {
		if !addr.Is4() {
			return errs.ErrVal
		}
		a = addr.As4()
		if !a.IsUnspecified() && !h.l.out.IsLocalAddr(a) {
			return errs.ErrVal
		}
	}
	l := h.l
	if port == 0 {
		p, ok := l.ephemeralPort(a, wire.IPv4Addr{}, 0)
		if !ok {
			return errs.ErrInUse
		}
		port = p
	} else if l.portInUse(a, port, c) {
		return errs.ErrInUse
	}
	c.id.local, c.id.lport = a, port
	return nil
}

// portInUse reports whether a listener or a bound connection other than
// except holds port on a or the wildcard.
func (l *Layer) portInUse(a wire.IPv4Addr, port uint16, except *pcb) bool {
	for i := range l.lst {
		s := &l.lst[i]
		if s.used && s.port == port && (s.local == a || s.local.IsUnspecified() || a.IsUnspecified()) {
			return true
		}
	}
	for i := range l.pcbs {
		c := &l.pcbs[i]
		if c != except && c.used && c.id.lport == port &&
			(c.id.local == a || c.id.local.IsUnspecified() || a.IsUnspecified()) {
			return true
		}
	}
	return false
}

// ephemeralPort picks a port (RFC 6056 §3.3.2, Algorithm 2: random start,
// sequential probing). When remote is given, a port is acceptable if the
// full 4-tuple is unused; otherwise it must be unbound.
func (l *Layer) ephemeralPort(local, remote wire.IPv4Addr, rport uint16) (uint16, bool) {
	const span = ephemeralHigh - ephemeralLow + 1
	start := int(l.random() % span)
	for i := range span {
		p := uint16(ephemeralLow + (start+i)%span)
		if rport != 0 {
			id := tuple{local: local, remote: remote, lport: p, rport: rport}
			if l.conns.get(id) < 0 && l.twIdx.get(id) < 0 && !l.listenerOn(local, p) {
				return p, true
			}
			continue
		}
		if !l.portInUse(local, p, nil) {
			return p, true
		}
	}
	return 0, false
}

func (l *Layer) listenerOn(a wire.IPv4Addr, port uint16) bool {
	for i := range l.lst {
		s := &l.lst[i]
		if s.used && s.port == port && (s.local == a || s.local.IsUnspecified()) {
			return true
		}
	}
	return false
}

// Connect opens the connection to raddr: it queues the SYN and returns at
// once. Completion is reported to Handler.Connected, failure to Handler.Err.
// It returns ErrIsConn if the connection is not CLOSED, ErrRoute without a
// route, ErrInUse if the 4-tuple is taken, ErrVal for a bad address.
// lwIP: tcp_connect.
func (h Conn) Connect(raddr netip.AddrPort) error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	if c.state != Closed {
		return errs.ErrIsConn
	}
	if !raddr.Addr().Is4() || raddr.Port() == 0 {
		return errs.ErrVal
	}
	l := h.l
	dst := wire.IPv4Addr(raddr.Addr().As4())
	if dst.IsUnspecified() || dst.IsBroadcast() || dst.IsMulticast() {
		return errs.ErrVal
	}
	rt, err := l.out.RouteTCP(dst)
	if err != nil {
		return errs.ErrRoute
	}
	src := rt.Src
	if !c.id.local.IsUnspecified() {
		src = c.id.local
	}
	id := tuple{local: src, remote: dst, lport: c.id.lport, rport: raddr.Port()}
	if id.lport == 0 {
		p, ok := l.ephemeralPort(src, dst, id.rport)
		if !ok {
			return errs.ErrInUse
		}
		id.lport = p
	} else if l.conns.get(id) >= 0 {
		return errs.ErrInUse
	} else if i := l.twIdx.get(id); i >= 0 {
		l.twRemove(i) // our own TIME-WAIT: the new ISS is beyond its sequence space
	}
	c.id = id
	c.flags &^= fNewConn
	c.flags |= fActiveOpen
	l.initSend(c, rt)
	c.snd.ISS = l.isn(id)
	c.snd.UNA, c.snd.NXT, c.snd.MAX = c.snd.ISS, c.snd.ISS, c.snd.ISS
	c.snd.recover = c.snd.ISS // RFC 6582 §3.2 step 1
	c.snd.bufSeq = c.snd.ISS + 1
	c.state = SynSent
	l.conns.put(id, c.slot)
	l.stats.ActiveOpens++
	l.output(c)
	return nil
}

// initSend sets the receive window, window scale, MSS and offloads for a
// new connection on route rt.
func (l *Layer) initSend(c *pcb, rt Route) {
	c.rcv.mss = uint32(min(l.cfg.MSS, rt.MTU-wire.IPv4MinHeaderLen-wire.TCPMinHeaderLen))
	c.snd.tsoMax = 0
	c.flags &^= fTxCsum
	if rt.TxCsum {
		c.flags |= fTxCsum
		if l.gso != nil && rt.TSOMax > rt.MTU {
			c.snd.tsoMax = uint16(min(rt.TSOMax, 0xffff))
		}
	}
	c.snd.mss = min(c.rcv.mss, wire.TCPDefaultMSS) // until the peer's MSS option says more
	c.rcv.wnd = uint32(l.cfg.RcvBuf)
	if !l.cfg.NoWindowScale {
		for c.rcv.scale < wire.MaxWScale && l.cfg.RcvBuf>>c.rcv.scale > 0xffff {
			c.rcv.scale++
		}
	}
	c.pollInterval = 0
}

// Write queues data for sending and returns at once; Output (or the return
// of a callback) sends it. It fails with ErrMem, changing nothing, when more
// than SendBuffer bytes are written, and with ErrNotConn when the connection
// cannot send. lwIP: tcp_write, without its 16-bit length.
func (h Conn) Write(p []byte, f WriteFlags) error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	if !c.state.canSend() || c.flags&fFinQueued != 0 {
		return errs.ErrNotConn
	}
	if len(p) == 0 {
		return nil
	}
	if err := h.l.sndEnqueue(c, p, f); err != nil {
		return err
	}
	if f&WriteUrgent != 0 {
		c.snd.UP = c.snd.bufSeq.Add(wire.Size(c.snd.queued))
		c.flags |= fSndUrgent
		f &^= WriteMore // urgent data goes out at once, pushed
	}
	if f&WriteMore == 0 {
		c.flags |= fPush
	} else {
		c.flags &^= fPush
	}
	return nil
}

// Output sends what the windows, Nagle's algorithm and the queue allow.
// Callbacks that return nil get it done for them. lwIP: tcp_output.
func (h Conn) Output() error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	h.l.output(c)
	return nil
}

// Recved reopens the receive window by n bytes the application has
// consumed. lwIP: tcp_recved, with an int.
func (h Conn) Recved(n int) {
	c := h.pcb()
	if c == nil || n <= 0 {
		return
	}
	h.l.recved(c, n)
}

// SendBuffer returns how many bytes a Write can take now: a Write of at most
// this many bytes succeeds. lwIP: tcp_sndbuf.
func (h Conn) SendBuffer() int {
	c := h.pcb()
	if c == nil || !c.state.canSend() || c.flags&fFinQueued != 0 {
		return 0
	}
	return h.l.sendBuffer(c)
}

// SendQueueLen returns the bytes queued and not yet acknowledged. lwIP:
// tcp_sndqueuelen counts buffers; this counts bytes.
func (h Conn) SendQueueLen() int {
	c := h.pcb()
	if c == nil {
		return 0
	}
	return c.snd.queued
}

// MSS returns the payload bytes per segment. lwIP: tcp_mss.
func (h Conn) MSS() int {
	c := h.pcb()
	if c == nil {
		return 0
	}
	return int(c.snd.mss)
}

// State returns the connection state; CLOSED for a stale handle.
func (h Conn) State() State {
	c := h.pcb()
	if c == nil {
		return Closed
	}
	return c.state
}

// LocalAddr returns the local address and port.
func (h Conn) LocalAddr() netip.AddrPort {
	c := h.pcb()
	if c == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom4(c.id.local), c.id.lport)
}

// RemoteAddr returns the remote address and port.
func (h Conn) RemoteAddr() netip.AddrPort {
	c := h.pcb()
	if c == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom4(c.id.remote), c.id.rport)
}

// SetNoDelay turns Nagle's algorithm off (true) or on. lwIP:
// tcp_nagle_disable, tcp_nagle_enable.
func (h Conn) SetNoDelay(on bool) {
	if c := h.pcb(); c != nil {
		if on {
			c.flags |= fNoDelay
		} else {
			c.flags &^= fNoDelay
		}
	}
}

// SetKeepAlive turns keepalive on or off; zero durations and count keep the
// configured defaults (RFC 9293 §3.8.4; lwIP SOF_KEEPALIVE with keep_idle,
// keep_intvl, keep_cnt).
func (h Conn) SetKeepAlive(on bool, idle, interval clock.Duration, count int) {
	c := h.pcb()
	if c == nil {
		return
	}
	if !on {
		c.flags &^= fKeepAlive
		c.keepAt = clock.Never
		return
	}
	c.flags |= fKeepAlive
	if idle > 0 {
		c.keepIdle = idle
	}
	if interval > 0 {
		c.keepIntvl = interval
	}
	if count > 0 {
		c.keepCnt = uint8(min(count, 255))
	}
	c.probes = 0
	h.l.armKeep(c)
}

// SetUserTimeout sets RFC 9293's USER TIMEOUT: the connection is dropped
// when sent data stays unacknowledged this long (0: MaxRetries decides).
func (h Conn) SetUserTimeout(d clock.Duration) {
	if c := h.pcb(); c != nil {
		c.userTimeout = d
	}
}

// SetPollInterval makes Handler.Poll run every d (0 turns it off). lwIP:
// tcp_poll, in time rather than coarse ticks.
func (h Conn) SetPollInterval(d clock.Duration) {
	c := h.pcb()
	if c == nil {
		return
	}
	c.pollInterval = d
	c.pollAt = clock.Never
	if d > 0 {
		c.pollAt = h.l.now.Add(d)
		h.l.arm(c.pollAt)
	}
}

// SetTOS sets the IP type of service of the connection's segments.
func (h Conn) SetTOS(tos uint8) {
	if c := h.pcb(); c != nil {
		c.tos = tos
	}
}

// Close closes the connection in both directions and releases the handle,
// which goes stale: the stack finishes the close on its own (FIN, TIME-WAIT)
// and makes no more callbacks. If received data was not consumed, a RST is
// sent instead of a FIN (lwIP does the same, RFC 9293 §3.10.4's "data loss").
// lwIP: tcp_close.
func (h Conn) Close() error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	l := h.l
	switch c.state {
	case Closed, SynSent:
		l.release(c)
		return nil
	}
	if c.rcv.unrecved > 0 || !c.rcv.ready.empty() {
		l.sendRST(c.id, c.ackSeq(), c.rcv.NXT, true)
		l.release(c)
		return nil
	}
	c.flags |= fRxClosed | fDetached
	c.handler = nil
	l.shutdownTx(c)
	if c.state == FinWait2 {
		// Already half-closed and acknowledged: nobody will read or close
		// further, so bound the wait as ackInput does on entering FIN-WAIT-2.
		c.keepAt = l.now.Add(l.cfg.FinWait2Timeout)
		l.arm(c.keepAt)
	}
	return nil
}

// CloseWrite closes the sending direction (a half-close: FIN after queued
// data); receiving continues. lwIP: tcp_shutdown(pcb, 0, 1).
func (h Conn) CloseWrite() error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	switch c.state {
	case Closed:
		return errs.ErrNotConn
	case SynSent:
		h.l.release(c)
		return nil
	}
	h.l.shutdownTx(c)
	return nil
}

// CloseRead closes the receiving direction: queued and future data are
// discarded (data arriving later draws a RST, as in lwIP). lwIP:
// tcp_shutdown(pcb, 1, 0).
func (h Conn) CloseRead() error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	c.flags |= fRxClosed
	h.l.freeList(&c.rcv.ready)
	c.rcv.readyLen = 0
	return nil
}

// Abort sends a RST and releases the connection at once; the handle goes
// stale and Handler.Err runs with ErrAbort. lwIP: tcp_abort.
func (h Conn) Abort() {
	c := h.pcb()
	if c == nil {
		return
	}
	h.l.abort(c, errs.ErrAbort, true)
}

// abort releases c, sending a RST if asked and the state calls for one, and
// reports err to the handler.
func (l *Layer) abort(c *pcb, err error, rst bool) {
	if rst && c.state != Closed && c.state != SynSent && c.state != Listen && c.state != TimeWait {
		l.sendRST(c.id, c.ackSeq(), c.rcv.NXT, true)
	}
	hd := c.handler
	hc := l.handle(c)
	detached := c.flags&fDetached != 0
	if c.state == SynSent || c.state == SynReceived {
		l.stats.AttemptFails++
	}
	l.release(c)
	if hd != nil && !detached {
		hd.Err(hc, err)
	}
}

// shutdownTx queues our FIN after the data (the application's CLOSE).
func (l *Layer) shutdownTx(c *pcb) {
	if c.flags&fFinQueued != 0 {
		return
	}
	switch c.state {
	case SynReceived:
		// RFC 9293 §3.10.4: "queue for processing after entering ESTABLISHED
		// state" (process moves on to FIN-WAIT-1 then); our SYN must be
		// acknowledged first, and SYN-RECEIVED keeps retransmitting it.
		c.flags |= fFinQueued
		return
	case Established:
		c.state = FinWait1
	case CloseWait:
		c.state = LastAck
	default:
		return
	}
	c.flags |= fFinQueued
	l.output(c)
}

// Info is a connection's state and counters, like Linux's TCP_INFO.
type Info struct {
	State          State
	SRTT, RTTVar   clock.Duration
	RTO            clock.Duration
	Cwnd, Ssthresh uint32 // bytes
	SndWnd, RcvWnd uint32 // bytes: the peer's window, and ours
	SndMSS, RcvMSS uint32
	SndWScale      int8 // -1: no window scaling
	RcvWScale      int8
	Timestamps     bool
	SACK           bool
	InFlight       uint32 // bytes sent, unacknowledged
	Queued         int    // bytes queued, unacknowledged
	Retransmits    int    // retransmissions of the current oldest segment
	Unrecved       int    // bytes delivered, not yet Recved
	OOSeq          int    // out-of-order segments held
}

// Info returns the connection's state and counters.
func (h Conn) Info() Info {
	c := h.pcb()
	if c == nil {
		return Info{}
	}
	in := Info{
		State: c.state, SRTT: c.rtt.srtt, RTTVar: c.rtt.rttvar, RTO: c.rtt.rto,
		Cwnd: c.cc.Cwnd, Ssthresh: c.cc.Ssthresh, SndWnd: c.snd.WND, RcvWnd: c.rcv.wnd,
		SndMSS: c.snd.mss, RcvMSS: c.rcv.mss, SndWScale: -1, RcvWScale: -1,
		Timestamps: c.flags&fTimestamps != 0, SACK: c.flags&fSACK != 0,
		InFlight: c.flight(), Queued: c.snd.queued, Retransmits: int(c.retries),
		Unrecved: c.rcv.unrecved, OOSeq: c.rcv.ooCount,
	}
	if c.flags&fWScale != 0 {
		in.SndWScale, in.RcvWScale = int8(c.snd.scale), int8(c.rcv.scale)
	}
	return in
}
