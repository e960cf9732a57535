package rawapi

import (
	"io"
	"net/netip"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/tcp"
)

// Clock reads the current time for the blocking calls of a Seq (and for
// anything else that must read time in the core's units). platform/hosted's
// Clock is one; ManualClock is the one of tests and simulations.
type Clock = clock.Source

// Forever is a timeout that never expires.
const Forever Duration = 1<<63 - 1

// IdleFunc waits between two polls of a Seq's blocking call: until the time
// until (by the Seq's Clock), or until frames may have arrived, whichever
// comes first. It may return early; it must not call the Seq or the Stack.
// until is Never only when the call has no timeout and the stack no timer:
// then only arriving frames should end the wait.
//
// A hosted program sleeps (platform/hosted) or blocks on its device's
// readiness; a simulation polls the other stacks on the wire and advances
// its ManualClock.
type IdleFunc func(until Time)

// SeqConfig sizes a Seq's tables, allocated once by NewSeq. Zero fields take
// the defaults given on each.
type SeqConfig struct {
	// MaxConns is the number of TCP connections the Seq tracks at once,
	// accepted ones still waiting for Accept included. Default 8.
	MaxConns int
	// MaxListeners is the number of listeners. Default 2.
	MaxListeners int
	// Backlog is the number of completed connections a listener holds for
	// Accept when Listen asks for 0; more are reset. Default 4.
	Backlog int
	// RecvQueue is the number of received buffers a connection queues for
	// Recv; small segments are packed into the last buffer's tailroom. When
	// it is full the stack keeps further data (lwIP's refused data) and
	// offers it again a little later. Default: enough buffers for a full
	// receive window (Config.TCP.RcvBuf), so that data is never refused.
	RecvQueue int
	// MaxUDP is the number of UDP sockets. Default 4.
	MaxUDP int
	// UDPQueue is the number of datagrams a UDP socket queues for RecvFrom;
	// more are dropped and counted. Default 8.
	UDPQueue int
}

func (c SeqConfig) withDefaults() SeqConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxConns, 8)
	def(&c.MaxListeners, 2)
	def(&c.Backlog, 4)
	def(&c.MaxUDP, 4)
	def(&c.UDPQueue, 8)
	return c
}

// Seq is the sequential API: blocking calls for programs without threads
// or callbacks, in the spirit of uSock's usock_open, usock_close,
// usock_alloc, usock_recv and usock_send. It runs in one of two modes.
//
// Owning the loop (NewSeq): each blocking call drives the stack itself: it
// calls Stack.Poll with the time from the Seq's Clock until its condition
// holds or its timeout expires, and between polls it calls the IdleFunc so
// that it does not spin.
//
// Sharing a loop (Tasks.NewSeq): the calls are made from tasks of a Tasks
// runner, and a blocking call never polls the stack: it parks its task and
// returns to the loop owner, which polls the stack and then Tasks.Poll,
// resuming the task once its Seq has news or its deadline has passed.
// Several sequential tasks and raw-API programs then share one stack and
// one loop; see Tasks.
//
// # Contract
//
// Owning the loop, a Seq belongs to one goroutine, the caller's, which
// also owns the Stack: nothing else may poll the Stack while a blocking
// call runs, and Seq calls must not be made from raw-API callbacks (they
// would poll from inside a poll, which panics). Other raw-API users of the
// same Stack keep working: their callbacks run inside the Seq's polls.
//
// Sharing a loop, a Seq's blocking calls belong to its runner's tasks; the
// loop owner and callbacks may make the calls that never wait (Listen,
// Close, Buffered, a Recv with data queued), and a call of theirs that
// would wait returns ErrWouldBlock (ErrTimeout for a zero timeout).
//
// Timeouts: every blocking call takes one. It returns ErrTimeout when the
// timeout expires first; a zero timeout checks, polls the stack once (or,
// sharing a loop, lets the loop poll once), checks again and returns;
// Forever never expires. Owning the loop without an IdleFunc the calls poll
// continuously; with a ManualClock the IdleFunc must advance the clock, or
// a timeout never comes. Sharing a loop, time is the loop's: the now it
// gives Tasks.Poll. After Tasks.Close blocking calls return ErrClosed.
//
// End of stream is io.EOF from Recv, after all data. Connection errors from
// the stack (ErrReset, ErrAbort, ErrTimeout for a dead peer) come after
// the data that arrived before them.
//
// Memory: NewSeq allocates every table; afterwards no call allocates.
// Received data waits in pool buffers (SeqConfig.RecvQueue of them per
// connection); Recv copies out of them and reopens the window as it goes.
//
// Handles (SeqConn, SeqListener, SeqUDP) are small values with a
// generation, like the raw API's: after Close they are stale and their
// methods return ErrClosed.
type Seq struct {
	s    *Stack
	clk  Clock
	idle IdleFunc
	cfg  SeqConfig

	conns []seqConn
	lsts  []seqListener
	udps  []seqUDP
	dgram []seqDgram // MaxUDP rings of UDPQueue

	tasks *Tasks // sharing a loop: its runner; nil when the Seq owns the loop

	events  uint64 // callbacks that reported something
	local   uint64 // sockets closed by the program: news to other tasks
	waited  uint64 // events when Wait last returned
	arrival uint64 // order of accepted connections
}

// NewSeq returns a Seq driving s, reading time from clk and waiting with
// idle (nil: poll continuously). It allocates all its tables.
func NewSeq(s *Stack, clk Clock, idle IdleFunc, cfg SeqConfig) *Seq {
	if s == nil || clk == nil {
		panic("rawapi: NewSeq with a nil Stack or Clock")
	}
	cfg = cfg.withDefaults()
	if cfg.RecvQueue <= 0 {
		cfg.RecvQueue = windowBufs(s.Config())
	}
	q := &Seq{
		s: s, clk: clk, idle: idle, cfg: cfg,
		conns: make([]seqConn, cfg.MaxConns),
		lsts:  make([]seqListener, cfg.MaxListeners),
		udps:  make([]seqUDP, cfg.MaxUDP),
		dgram: make([]seqDgram, cfg.MaxUDP*cfg.UDPQueue),
	}
	for i := range q.conns {
		q.conns[i] = seqConn{q: q, idx: int32(i)}
	}
	for i := range q.lsts {
		q.lsts[i] = seqListener{q: q, idx: int16(i)}
	}
	for i := range q.udps {
		u := &q.udps[i]
		*u = seqUDP{q: q, idx: int16(i), ring: q.dgram[i*cfg.UDPQueue : (i+1)*cfg.UDPQueue]}
		u.recvFn = u.recv // bound once: SetRecv then never allocates
	}
	return q
}

// windowBufs is how many buffers a full receive window can take when each
// buffer is packed: two neighbours always hold more than one slot's worth.
func windowBufs(cfg Config) int {
	wnd := cfg.TCP.RcvBuf
	if wnd <= 0 {
		wnd = 256 << 10 // tcp.Config's default
	}
	slot := cfg.PoolBufSize
	if slot <= 0 {
		slot = 2048 // core.Config's default
	}
	return 2*wnd/slot + 4
}

// Stack returns the stack the Seq drives.
func (q *Seq) Stack() *Stack { return q.s }

// Now returns the time by the Seq's Clock.
func (q *Seq) Now() Time { return q.clk.Now() }

// deadline turns a timeout into an absolute time.
func (q *Seq) deadline(timeout Duration) Time {
	return q.clk.Now().Add(max(timeout, 0))
}

// wait polls the stack once and, if no callback reported anything, waits
// with the IdleFunc until the earlier of the stack's next deadline and the
// call's. It returns ErrTimeout once the call's deadline has passed, but
// always polls on a call's first wait, so that a zero timeout still looks
// at the wire once.
func (q *Seq) wait(deadline Time, first bool) error {
	if q.tasks != nil {
		return q.tasks.park(q, deadline, first)
	}
	now := q.clk.Now()
	if now >= deadline && !first {
		return ErrTimeout
	}
	before := q.events
	next := q.s.Poll(now)
	if q.events != before {
		return nil
	}
	if now >= deadline {
		return ErrTimeout
	}
	until := min(next, deadline)
	if until > now && q.idle != nil {
		q.idle(until)
	}
	return nil
}

// flush makes what a call queued leave now (Stack.Flush: no input is read,
// no timer run, so a send costs one device write); sharing a loop, it asks
// the loop to poll at once instead.
func (q *Seq) flush() {
	if q.tasks != nil {
		q.tasks.kick = true
		return
	}
	q.s.Flush()
}

// news changes whenever a parked call may be able to go on.
func (q *Seq) news() uint64 { return q.events + q.local }

// Wait drives the stack until one of the Seq's sockets has news (data, a
// connection, acknowledged data, an error) or the timeout expires: the
// sequential API's select, for programs that serve several sockets with
// zero-timeout calls. It returns nil at once if there was news since it last
// returned (during other calls' polls, say), nil after news, ErrTimeout
// otherwise.
func (q *Seq) Wait(timeout Duration) error {
	deadline := q.deadline(timeout)
	for first := true; ; first = false {
		if q.events != q.waited {
			q.waited = q.events
			return nil
		}
		if err := q.wait(deadline, first); err != nil {
			return err
		}
	}
}

// Sleep drives the stack for d, whatever happens.
func (q *Seq) Sleep(d Duration) {
	end := q.deadline(d)
	for first := true; q.wait(end, first) == nil; first = false {
	}
}

// Alloc returns a buffer with room for n bytes after LayerTransport headroom,
// waiting up to timeout for the pool to have one. The caller owns it: Free it
// or hand it to SendBuf. It returns ErrVal when n cannot fit a pool slot.
// uSock: usock_alloc.
func (q *Seq) Alloc(n int, timeout Duration) (*Buf, error) {
	deadline := q.deadline(timeout)
	for first := true; ; first = false {
		b, err := q.s.Pool().Alloc(pbuf.LayerTransport, n)
		if err != ErrMem {
			return b, err
		}
		if err := q.wait(deadline, first); err != nil {
			return nil, err
		}
	}
}

// seqConn states.
const (
	connFree    uint8 = iota
	connDialing       // Connect sent, waiting for Connected or Err
	connPending       // accepted by the stack, waiting for Accept
	connOpen          // the application's
)

// seqConn is one TCP connection slot; it is the connection's TCPHandler.
type seqConn struct {
	q     *Seq
	idx   int32
	gen   uint16
	state uint8
	tc    TCP   // the raw handle; zero once the stack has dropped it
	lst   int16 // listener slot while pending
	order uint64
	rq    pbuf.Queue // received data, not yet read
	eof   bool       // the peer's FIN arrived (after the data in rq)
	err   error      // the stack ended the connection (after the data in rq)

	laddr, raddr netip.AddrPort // kept for after the stack drops the connection
}

// SeqConn is a handle to a TCP connection of a Seq. The zero SeqConn is
// invalid.
type SeqConn struct {
	q   *Seq
	idx int32
	gen uint16
}

func (h SeqConn) conn() *seqConn {
	if h.q == nil || h.idx < 0 || int(h.idx) >= len(h.q.conns) {
		return nil
	}
	c := &h.q.conns[h.idx]
	if c.state == connFree || c.gen != h.gen {
		return nil
	}
	return c
}

// IsValid reports whether the handle refers to an open connection slot.
func (h SeqConn) IsValid() bool { return h.conn() != nil }

func (q *Seq) allocConn() *seqConn {
	for i := range q.conns {
		c := &q.conns[i]
		if c.state == connFree {
			c.gen++
			if c.gen == 0 {
				c.gen = 1
			}
			c.eof, c.err, c.tc, c.lst = false, nil, TCP{}, -1
			c.laddr, c.raddr = netip.AddrPort{}, netip.AddrPort{}
			return c
		}
	}
	return nil
}

// release frees the slot: queued data goes back to the pool.
func (c *seqConn) release() {
	c.q.local++ // wakes a task parked on it
	c.rq.FreeAll()
	c.state = connFree
	c.tc = TCP{}
	c.err = nil
}

func (c *seqConn) handle() SeqConn { return SeqConn{c.q, c.idx, c.gen} }

// Connected implements TCPHandler.
func (c *seqConn) Connected(tc TCP, err error) error {
	if tc == c.tc && c.state == connDialing {
		c.state = connOpen
		c.q.events++
	}
	return nil
}

// Recv implements TCPHandler: data joins the queue, or waits in the stack
// while the queue is full.
func (c *seqConn) Recv(tc TCP, p *Buf, err error) error {
	if tc != c.tc || c.state == connFree {
		if p != nil {
			p.Free()
		}
		return nil
	}
	c.q.events++
	if p == nil {
		c.eof = true
		return nil
	}
	if t := c.rq.Tail(); t != nil && t.Tailroom() >= p.Len() {
		copy(t.Append(p.Len()), p.Bytes()) // pack small segments
		p.Free()
		return nil
	}
	if c.rq.Len() >= c.q.cfg.RecvQueue {
		return ErrMem
	}
	c.rq.Push(p)
	return nil
}

// Sent implements TCPHandler.
func (c *seqConn) Sent(tc TCP, n int) error {
	if tc == c.tc {
		c.q.events++
	}
	return nil
}

// Poll implements TCPHandler.
func (c *seqConn) Poll(TCP) error { return nil }

// Err implements TCPHandler: the stack has dropped the connection.
func (c *seqConn) Err(tc TCP, err error) {
	if tc != c.tc || c.state == connFree {
		return
	}
	c.q.events++
	c.tc = TCP{}
	if err == nil {
		err = ErrClosed
	}
	c.err = err
	if c.state == connPending {
		// Never accepted: nobody will read it.
		c.q.lsts[c.lst].pending--
		c.release()
	}
}

// Dial opens a connection to raddr and waits up to timeout for the
// handshake. A refused connection returns ErrReset; one the stack gave up
// on returns the stack's error (ErrAbort, ErrTimeout). uSock: usock_open.
func (q *Seq) Dial(raddr netip.AddrPort, timeout Duration) (SeqConn, error) {
	deadline := q.deadline(timeout)
	c := q.allocConn()
	if c == nil {
		return SeqConn{}, ErrMem
	}
	tc, err := q.s.NewTCP()
	if err != nil {
		return SeqConn{}, err
	}
	c.tc, c.state = tc, connDialing
	tc.SetHandler(c)
	if err := tc.Connect(raddr); err != nil {
		tc.Close()
		c.release()
		return SeqConn{}, err
	}
	c.laddr, c.raddr = tc.LocalAddr(), raddr
	for first := true; ; first = false {
		switch {
		case c.state == connOpen:
			return c.handle(), nil
		case c.err != nil:
			err := c.err
			c.release()
			return SeqConn{}, err
		}
		if err := q.wait(deadline, first); err != nil {
			tc.Close() // SYN-SENT: released without a segment
			c.release()
			q.flush()
			return SeqConn{}, err
		}
	}
}

// seqListener is one listener slot; it is the listener's Acceptor.
type seqListener struct {
	q       *Seq
	idx     int16
	gen     uint16
	used    bool
	l       TCPListener
	backlog int
	pending int // connections waiting for Accept
	refused uint64
}

// SeqListener is a handle to a listener of a Seq. The zero SeqListener is
// invalid.
type SeqListener struct {
	q   *Seq
	idx int16
	gen uint16
}

func (h SeqListener) lst() *seqListener {
	if h.q == nil || h.idx < 0 || int(h.idx) >= len(h.q.lsts) {
		return nil
	}
	l := &h.q.lsts[h.idx]
	if !l.used || l.gen != h.gen {
		return nil
	}
	return l
}

// Listen listens on laddr (an invalid or unspecified address: all; port 0:
// an ephemeral port) and holds up to backlog completed connections for
// Accept (0: SeqConfig.Backlog); connections beyond that, or beyond
// SeqConfig.MaxConns, are reset. uSock: usock_open of a server socket.
func (q *Seq) Listen(laddr netip.AddrPort, backlog int) (SeqListener, error) {
	var l *seqListener
	for i := range q.lsts {
		if !q.lsts[i].used {
			l = &q.lsts[i]
			break
		}
	}
	if l == nil {
		return SeqListener{}, ErrMem
	}
	tc, err := q.s.NewTCP()
	if err != nil {
		return SeqListener{}, err
	}
	if err := tc.Bind(laddr.Addr(), laddr.Port()); err != nil {
		tc.Close()
		return SeqListener{}, err
	}
	tl, err := tc.Listen(0)
	if err != nil {
		tc.Close()
		return SeqListener{}, err
	}
	if backlog <= 0 {
		backlog = q.cfg.Backlog
	}
	l.gen++
	if l.gen == 0 {
		l.gen = 1
	}
	l.used, l.l, l.backlog, l.pending, l.refused = true, tl, backlog, 0, 0
	tl.SetAcceptor(l)
	return SeqListener{q, l.idx, l.gen}, nil
}

// Accept implements Acceptor: the connection waits in a free slot until
// SeqListener.Accept claims it.
func (l *seqListener) Accept(tl TCPListener, tc TCP, err error) error {
	if err != nil || !l.used || tl != l.l {
		return ErrVal
	}
	q := l.q
	if l.pending >= l.backlog {
		l.refused++
		return ErrMem
	}
	c := q.allocConn()
	if c == nil {
		l.refused++
		return ErrMem
	}
	q.arrival++
	c.tc, c.state, c.lst, c.order = tc, connPending, l.idx, q.arrival
	c.laddr, c.raddr = tc.LocalAddr(), tc.RemoteAddr()
	l.pending++
	q.events++
	return tc.SetHandler(c)
}

// Accept waits up to timeout for a connection and returns the oldest.
func (h SeqListener) Accept(timeout Duration) (SeqConn, error) {
	l := h.lst()
	if l == nil {
		return SeqConn{}, ErrClosed
	}
	q := h.q
	deadline := q.deadline(timeout)
	for first := true; ; first = false {
		if !l.used || l.gen != h.gen {
			return SeqConn{}, ErrClosed
		}
		if l.pending > 0 {
			var best *seqConn
			for i := range q.conns {
				c := &q.conns[i]
				if c.state == connPending && c.lst == l.idx && (best == nil || c.order < best.order) {
					best = c
				}
			}
			if best != nil {
				best.state = connOpen
				l.pending--
				return best.handle(), nil
			}
		}
		if err := q.wait(deadline, first); err != nil {
			return SeqConn{}, err
		}
	}
}

// Addr returns the address and port the listener is bound to.
func (h SeqListener) Addr() netip.AddrPort {
	l := h.lst()
	if l == nil {
		return netip.AddrPort{}
	}
	return l.l.Addr()
}

// Pending returns the number of connections waiting for Accept.
func (h SeqListener) Pending() int {
	l := h.lst()
	if l == nil {
		return 0
	}
	return l.pending
}

// Refused returns how many connections the listener reset because its
// backlog or the Seq's connection table was full.
func (h SeqListener) Refused() uint64 {
	l := h.lst()
	if l == nil {
		return 0
	}
	return l.refused
}

// Close stops listening and resets the connections still waiting for
// Accept. uSock: usock_close.
func (h SeqListener) Close() error {
	l := h.lst()
	if l == nil {
		return ErrClosed
	}
	q := h.q
	l.l.Close()
	for i := range q.conns {
		c := &q.conns[i]
		if c.state == connPending && c.lst == l.idx {
			tc := c.tc
			c.release()
			tc.Abort()
		}
	}
	l.used, l.pending, l.l = false, 0, TCPListener{}
	q.local++
	q.flush()
	return nil
}

// Recv copies received data into p and returns how many bytes it copied,
// waiting up to timeout for at least one. After the last byte it returns
// io.EOF when the peer closed, or the stack's error when the connection
// failed. Reading reopens the receive window. uSock: usock_recv.
func (h SeqConn) Recv(p []byte, timeout Duration) (int, error) {
	c := h.conn()
	if c == nil {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	q := h.q
	deadline := q.deadline(timeout)
	for first := true; ; first = false {
		if c.rq.Len() > 0 {
			n := 0
			for n < len(p) {
				b := c.rq.Peek()
				if b == nil {
					break
				}
				k := copy(p[n:], b.Bytes())
				n += k
				if k == b.Len() {
					c.rq.Pop().Free()
				} else {
					b.Consume(k)
				}
			}
			c.tc.Recved(n)
			return n, nil
		}
		if err := c.endErr(); err != nil {
			return 0, err
		}
		if err := q.wait(deadline, first); err != nil {
			return 0, err
		}
		if c.gen != h.gen || c.state == connFree {
			return 0, ErrClosed
		}
	}
}

// RecvBuf waits up to timeout for received data and returns the next
// buffer of it; the caller owns the buffer and must Free it. Errors are as
// for Recv.
func (h SeqConn) RecvBuf(timeout Duration) (*Buf, error) {
	c := h.conn()
	if c == nil {
		return nil, ErrClosed
	}
	q := h.q
	deadline := q.deadline(timeout)
	for first := true; ; first = false {
		if b := c.rq.Pop(); b != nil {
			c.tc.Recved(b.Len())
			return b, nil
		}
		if err := c.endErr(); err != nil {
			return nil, err
		}
		if err := q.wait(deadline, first); err != nil {
			return nil, err
		}
		if c.gen != h.gen || c.state == connFree {
			return nil, ErrClosed
		}
	}
}

// endErr is what a read returns once the queue is empty.
func (c *seqConn) endErr() error {
	if c.eof {
		return io.EOF
	}
	return c.err
}

// Buffered returns the bytes received and not yet read.
func (h SeqConn) Buffered() int {
	c := h.conn()
	if c == nil {
		return 0
	}
	n := 0
	for b := c.rq.Peek(); b != nil; b = b.Next {
		n += b.Len()
	}
	return n
}

// Send queues p for sending, waiting up to timeout for send-buffer space,
// and returns the bytes queued: len(p), or fewer with the error that
// stopped it (ErrTimeout, or the connection's error). Queued data leaves as
// the windows allow while the Seq polls; Send itself polls once before
// returning, so that it leaves now. uSock: usock_send.
func (h SeqConn) Send(p []byte, timeout Duration) (int, error) {
	c := h.conn()
	if c == nil {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	q := h.q
	deadline := q.deadline(timeout)
	n := 0
	for first := true; ; first = false {
		if c.err != nil {
			return n, c.err
		}
		if c.tc == (TCP{}) {
			return n, ErrClosed
		}
		if room := c.tc.SendBuffer(); room > 0 {
			k := min(room, len(p)-n)
			var f WriteFlags
			if n+k < len(p) {
				f = WriteMore // more follows at once: no PSH yet
			}
			if err := c.tc.Write(p[n:n+k], f); err != nil {
				return n, err
			}
			n += k
			c.tc.Output()
			if n == len(p) {
				q.flush()
				return n, nil
			}
		} else if st := c.tc.State(); st != tcp.Established && st != tcp.CloseWait {
			return n, ErrNotConn // our FIN is queued, or the connection is going
		}
		if err := q.wait(deadline, first); err != nil {
			return n, err
		}
		if c.gen != h.gen || c.state == connFree {
			return n, ErrClosed
		}
	}
}

// SendBuf sends b's bytes as Send does and frees b, whatever the outcome.
func (h SeqConn) SendBuf(b *Buf, timeout Duration) (int, error) {
	n, err := h.Send(b.Bytes(), timeout)
	b.Free()
	return n, err
}

// SendBuffer returns how many bytes a Send can queue without waiting.
func (h SeqConn) SendBuffer() int {
	c := h.conn()
	if c == nil {
		return 0
	}
	return c.tc.SendBuffer()
}

// Unacked returns the bytes queued or sent and not yet acknowledged.
func (h SeqConn) Unacked() int {
	c := h.conn()
	if c == nil {
		return 0
	}
	return c.tc.SendQueueLen()
}

// CloseWrite sends a FIN after the queued data (a half-close); receiving
// goes on until the peer closes.
func (h SeqConn) CloseWrite() error {
	c := h.conn()
	if c == nil {
		return ErrClosed
	}
	if c.tc == (TCP{}) {
		return c.err
	}
	err := c.tc.CloseWrite()
	h.q.flush()
	return err
}

// Close releases the connection: the stack finishes sending queued data and
// closes it on its own (FIN, TIME-WAIT) as the Seq keeps polling. Data
// received and not read is discarded, and as on other stacks the peer then
// gets a RST instead of a FIN; read to io.EOF first for a graceful close.
// uSock: usock_close.
func (h SeqConn) Close() error {
	c := h.conn()
	if c == nil {
		return ErrClosed
	}
	tc := c.tc
	if c.state == connPending {
		h.q.lsts[c.lst].pending--
	}
	c.release()
	if tc != (TCP{}) {
		tc.Close()
		h.q.flush()
	}
	return nil
}

// Abort resets the connection and releases it at once.
func (h SeqConn) Abort() {
	c := h.conn()
	if c == nil {
		return
	}
	tc := c.tc
	c.release()
	if tc != (TCP{}) {
		tc.Abort()
		h.q.flush()
	}
}

// Err returns the error that ended the connection on the stack's side, or
// nil while it lives (whether or not data is still queued).
func (h SeqConn) Err() error {
	c := h.conn()
	if c == nil {
		return ErrClosed
	}
	return c.err
}

// EOF reports whether the peer's FIN has arrived (data may still be queued).
func (h SeqConn) EOF() bool {
	c := h.conn()
	return c != nil && c.eof
}

// TCP returns the raw handle, for options (SetNoDelay, SetKeepAlive, Info);
// it is the zero TCP once the stack has dropped the connection. Do not set
// its handler or close it directly.
func (h SeqConn) TCP() TCP {
	c := h.conn()
	if c == nil {
		return TCP{}
	}
	return c.tc
}

// LocalAddr returns the local address and port.
func (h SeqConn) LocalAddr() netip.AddrPort {
	if c := h.conn(); c != nil {
		return c.laddr
	}
	return netip.AddrPort{}
}

// RemoteAddr returns the remote address and port.
func (h SeqConn) RemoteAddr() netip.AddrPort {
	if c := h.conn(); c != nil {
		return c.raddr
	}
	return netip.AddrPort{}
}
