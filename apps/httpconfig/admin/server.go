package admin

import (
	"io"
	"net/netip"
	"os"
	"strconv"

	"github.com/lwgo/lwgo/rawapi"
)

// ServerConfig sizes and times the TCP server. Zero fields take the
// defaults given.
type ServerConfig struct {
	// Addr and Port are where it listens; the zero Addr is every address.
	// Default port 80.
	Addr netip.Addr
	Port uint16
	// Backlog bounds connections in the handshake (Listen's backlog).
	// Default 16.
	Backlog int
	// MaxConns is the number of connections served at once; each has a
	// buffer of HeaderMax+BodyMax bytes. Default 16.
	MaxConns int
	// MaxQueued is the number of accepted connections that wait for a
	// served one to finish; their data stays unread in the stack (refused,
	// lwIP-style). Beyond it, new connections are reset. Default 128.
	MaxQueued int
	// HeaderMax bounds a request's line and header section (431 beyond).
	// Default 8 KiB.
	HeaderMax int
	// BodyMax bounds a request body (413 beyond). Default 64 KiB.
	BodyMax int
	// ReadTimeout bounds a request, from its first byte to its last (408).
	// Default 10 s.
	ReadTimeout rawapi.Duration
	// IdleTimeout closes a kept connection with no request. Default 30 s.
	IdleTimeout rawapi.Duration
	// WriteTimeout resets a connection whose response makes no progress
	// (a client that stopped reading). Default 30 s.
	WriteTimeout rawapi.Duration
	// QueueTimeout resets a connection that waited this long for its turn.
	// Default 30 s.
	QueueTimeout rawapi.Duration
	// LingerTimeout bounds the wait for the client's FIN after our last
	// response (meanwhile its data is read and dropped, so that our close
	// is a FIN, not a RST). Default 2 s.
	LingerTimeout rawapi.Duration
	// MaxRequests per connection. Default 1000.
	MaxRequests int
	// Log, when set, receives a line per request.
	Log io.Writer
}

func (c ServerConfig) withDefaults() ServerConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	dur := func(v *rawapi.Duration, d rawapi.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Port == 0 {
		c.Port = 80
	}
	def(&c.Backlog, 16)
	def(&c.MaxConns, 16)
	def(&c.MaxQueued, 128)
	def(&c.HeaderMax, 8<<10)
	def(&c.BodyMax, 64<<10)
	def(&c.MaxRequests, 1000)
	dur(&c.ReadTimeout, 10*rawapi.Second)
	dur(&c.IdleTimeout, 30*rawapi.Second)
	dur(&c.WriteTimeout, 30*rawapi.Second)
	dur(&c.QueueTimeout, 30*rawapi.Second)
	dur(&c.LingerTimeout, 2*rawapi.Second)
	return c
}

// ServerStats count what the server did.
type ServerStats struct {
	Accepted  uint64         `json:"accepted"`
	Refused   uint64         `json:"refused"` // reset: no room even to wait
	Requests  uint64         `json:"requests"`
	Timeouts  uint64         `json:"timeouts"` // 408s, stalled writers, queue waits
	Status    map[int]uint64 `json:"status"`   // responses by code
	BodyBytes uint64         `json:"body_bytes"`
	Active    int            `json:"active"` // served now
	Queued    int            `json:"queued"` // waiting now
}

// Connection states.
const (
	cFree    = iota
	cQueued  // accepted, waiting for a slot; its data is refused
	cReading // reading a request
	cWriting // sending a response
	cLinger  // FIN sent after the last response; reading until the client's
)

// segSlack is the most one received buffer holds (a pool slot).
const segSlack = 4096

// pollEvery is how often each connection's timers are checked.
const pollEvery = 500 * rawapi.Millisecond

// Server is the configuration server on the raw TCP API: event-driven,
// every step in a TCPHandler callback on the stack's goroutine.
type Server struct {
	s       *rawapi.Stack
	app     *App
	cfg     ServerConfig
	lim     Limits
	l       rawapi.TCPListener
	conns   []hconn
	slots   [][]byte // MaxConns request buffers
	free    []int    // free slot indices
	seq     uint64   // accept order
	scratch []byte   // file reads
	Stats   ServerStats
}

// hconn is one connection.
type hconn struct {
	srv      *Server
	state    int
	tc       rawapi.TCP
	slot     int
	buf      []byte // request bytes held (the slot's buffer)
	order    uint64
	since    rawapi.Time // state entered / last request done
	reqStart rawapi.Time
	started  bool // a request's first byte has arrived
	progress rawapi.Time
	requests int
	cont     bool // 100 Continue sent for this request

	head    []byte // response head
	headOff int
	body    []byte
	bodyOff int
	file    *os.File
	fileOff int64
	fileLen int64
	keep    bool
	peerFIN bool
	after   func() // runs once the response is acknowledged
}

// NewServer listens on cfg.Addr:cfg.Port of s and serves app.
func NewServer(s *rawapi.Stack, app *App, cfg ServerConfig) (*Server, error) {
	cfg = cfg.withDefaults()
	srv := &Server{s: s, app: app, cfg: cfg,
		lim:   Limits{HeaderMax: cfg.HeaderMax, BodyMax: cfg.BodyMax, TargetMax: min(cfg.HeaderMax, 4096), FieldsMax: 100},
		conns: make([]hconn, cfg.MaxConns+cfg.MaxQueued), slots: make([][]byte, cfg.MaxConns),
		scratch: make([]byte, 64<<10)}
	srv.Stats.Status = map[int]uint64{}
	for i := range srv.slots {
		// Room for the largest request and one more segment, so that a
		// segment arriving while a request is incomplete always fits.
		srv.slots[i] = make([]byte, 0, cfg.HeaderMax+cfg.BodyMax+segSlack)
		srv.free = append(srv.free, i)
	}
	for i := range srv.conns {
		srv.conns[i] = hconn{srv: srv, slot: -1, head: make([]byte, 0, 1024)}
	}
	c, err := s.NewTCP()
	if err != nil {
		return nil, err
	}
	if err := c.Bind(cfg.Addr, cfg.Port); err != nil {
		c.Close()
		return nil, err
	}
	if srv.l, err = c.Listen(cfg.Backlog); err != nil {
		c.Close()
		return nil, err
	}
	srv.l.SetAcceptor(srv)
	app.server = srv.status
	return srv, nil
}

// Close stops listening and resets every connection.
func (srv *Server) Close() {
	srv.l.Close()
	for i := range srv.conns {
		if h := &srv.conns[i]; h.state != cFree {
			tc := h.tc
			h.release()
			tc.Abort()
		}
	}
}

// status adds the server's counters and connections to st.
func (srv *Server) status(st *Status) {
	st.Server = srv.Stats
	st.Server.Status = make(map[int]uint64, len(srv.Stats.Status))
	for k, v := range srv.Stats.Status {
		st.Server.Status[k] = v
	}
	for i := range srv.conns {
		if h := &srv.conns[i]; h.state != cFree {
			st.Connections = append(st.Connections, ConnInfo("httpconfig", h.tc))
		}
	}
}

// Accept implements rawapi.Acceptor.
func (srv *Server) Accept(l rawapi.TCPListener, c rawapi.TCP, err error) error {
	if err != nil {
		return err
	}
	var h *hconn
	for i := range srv.conns {
		if srv.conns[i].state == cFree {
			h = &srv.conns[i]
			break
		}
	}
	if h == nil {
		srv.Stats.Refused++
		return rawapi.ErrMem // the stack resets c
	}
	srv.Stats.Accepted++
	srv.seq++
	now := srv.s.Now()
	*h = hconn{srv: srv, tc: c, slot: -1, head: h.head[:0], order: srv.seq, since: now, progress: now, state: cQueued}
	c.SetHandler(h)
	c.SetNoDelay(true)
	c.SetPollInterval(pollEvery)
	srv.Stats.Queued++
	if len(srv.free) > 0 {
		h.activate(now)
	}
	return nil
}

// activate gives h a slot: it starts reading.
func (h *hconn) activate(now rawapi.Time) {
	srv := h.srv
	h.slot = srv.free[len(srv.free)-1]
	srv.free = srv.free[:len(srv.free)-1]
	h.buf = srv.slots[h.slot][:0]
	h.state, h.since = cReading, now
	srv.Stats.Queued--
	srv.Stats.Active++
}

// release frees h (the caller has closed, aborted or lost the connection)
// and gives its slot to the longest-waiting queued connection.
func (h *hconn) release() {
	srv := h.srv
	if h.file != nil {
		h.file.Close()
		h.file = nil
	}
	if h.after != nil {
		f := h.after
		h.after = nil
		f() // the client is gone: apply anyway
	}
	switch h.state {
	case cQueued:
		srv.Stats.Queued--
	case cFree:
		return
	default:
		srv.Stats.Active--
	}
	h.state = cFree
	h.tc = rawapi.TCP{}
	if h.slot >= 0 {
		srv.free = append(srv.free, h.slot)
		h.slot = -1
		var next *hconn
		for i := range srv.conns {
			if c := &srv.conns[i]; c.state == cQueued && (next == nil || c.order < next.order) {
				next = c
			}
		}
		if next != nil {
			next.activate(srv.s.Now())
		}
	}
}

// Connected implements rawapi.TCPHandler (never called: accepted
// connections are connected).
func (h *hconn) Connected(rawapi.TCP, error) error { return nil }

// Recv implements rawapi.TCPHandler.
func (h *hconn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return h.fin(c)
	}
	switch h.state {
	case cQueued:
		return rawapi.ErrMem // refused: offered again once we have a slot
	case cLinger:
		c.Recved(p.Len())
		p.Free()
		return nil
	}
	if len(h.buf)+p.Len() > cap(h.buf) {
		if h.state == cWriting {
			return rawapi.ErrMem // pipelined data beyond the buffer: later
		}
		// Cannot happen while reading (process fails a request before it
		// outgrows HeaderMax+BodyMax, and segSlack covers one segment),
		// but never overrun the buffer.
		c.Recved(p.Len())
		p.Free()
		return h.fail(c, 431, "The request is too large.")
	}
	h.buf = append(h.buf, p.Bytes()...)
	c.Recved(p.Len())
	p.Free()
	if !h.started && len(h.buf) > 0 {
		h.started, h.reqStart = true, h.srv.s.Now()
	}
	if h.state == cReading {
		return h.process(c)
	}
	return nil
}

// fin handles the client's FIN.
func (h *hconn) fin(c rawapi.TCP) error {
	h.peerFIN = true
	if h.state == cWriting {
		return nil // finish the response; close after it
	}
	h.release()
	return c.Close()
}

// process handles the requests complete in h.buf, one at a time.
func (h *hconn) process(c rawapi.TCP) error {
	srv := h.srv
	for h.state == cReading && len(h.buf) > 0 {
		e := HeadEnd(h.buf)
		if e < 0 || e > srv.cfg.HeaderMax {
			if len(h.buf) < srv.cfg.HeaderMax && e < 0 {
				return nil // more to come
			}
			if e < 0 && !containsLF(h.buf[:min(len(h.buf), srv.cfg.HeaderMax)]) {
				return h.fail(c, 414, "The request line is too long.")
			}
			return h.fail(c, 431, "The request header is too large (at most "+strconv.Itoa(srv.cfg.HeaderMax)+" bytes).")
		}
		req, perr := ParseHead(h.buf[:e], srv.lim)
		if perr != nil {
			return h.fail(c, perr.Status, perr.Msg)
		}
		n := int64(0)
		if req.ContentLength > 0 {
			n = req.ContentLength
		} else if req.ContentLength < 0 && (req.Method == "POST" || req.Method == "PUT" || req.Method == "PATCH") {
			return h.fail(c, 411, "A request body needs a Content-Length.")
		}
		if int64(len(h.buf)-e) < n {
			if req.Expect100 && !h.cont {
				h.cont = true
				if err := c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"), rawapi.WriteCopy); err != nil {
					return nil
				}
			}
			return nil // the body is on its way
		}
		req.Body = append([]byte(nil), h.buf[e:e+int(n)]...)
		rest := copy(h.buf, h.buf[e+int(n):])
		h.buf = h.buf[:rest]
		h.requests++
		srv.Stats.Requests++
		h.cont = false
		keep := req.KeepAlive && h.requests < srv.cfg.MaxRequests && !h.peerFIN
		resp := srv.app.Handle(req)
		if resp.Close {
			keep = false
		}
		h.respond(req.Method, req.Target, resp, keep)
		if err := h.push(c); err != nil {
			return err
		}
	}
	return nil
}

func containsLF(b []byte) bool {
	for _, c := range b {
		if c == '\n' {
			return true
		}
	}
	return false
}

// fail answers a request the server cannot take and closes after it.
func (h *hconn) fail(c rawapi.TCP, status int, msg string) error {
	h.buf = h.buf[:0]
	h.respond("GET", "-", h.srv.app.errorPage(status, msg, nil), false)
	return h.push(c)
}

// respond starts sending resp.
func (h *hconn) respond(method, target string, resp *Response, keep bool) {
	srv := h.srv
	h.runAfter() // a previous response's, already queued
	srv.Stats.Status[resp.Status]++
	h.head = resp.AppendHead(h.head[:0], method, keep)
	h.headOff, h.body, h.bodyOff = 0, nil, 0
	h.file, h.fileOff, h.fileLen = nil, 0, 0
	if method != "HEAD" {
		h.body = resp.Body
		if resp.File != nil {
			h.file, h.fileLen = resp.File, resp.Size
		}
	} else if resp.File != nil {
		resp.File.Close()
	}
	h.keep, h.after = keep, resp.AfterSent
	h.state, h.progress = cWriting, srv.s.Now()
	if srv.cfg.Log != nil {
		n := len(h.body)
		if h.file != nil {
			n = int(h.fileLen)
		}
		io.WriteString(srv.cfg.Log, h.tc.RemoteAddr().String()+" "+method+" "+target+" "+
			strconv.Itoa(resp.Status)+" "+strconv.Itoa(n)+"\n")
	}
}

// push writes what the send buffer takes; when the response is all
// written, the connection reads the next request or closes.
func (h *hconn) push(c rawapi.TCP) error {
	srv := h.srv
	for h.state == cWriting {
		room := c.SendBuffer()
		if room == 0 {
			return nil
		}
		var chunk []byte
		switch {
		case h.headOff < len(h.head):
			chunk = h.head[h.headOff:]
		case h.bodyOff < len(h.body):
			chunk = h.body[h.bodyOff:]
		case h.file != nil && h.fileOff < h.fileLen:
			n := int(min(int64(min(room, len(srv.scratch))), h.fileLen-h.fileOff))
			k, err := h.file.ReadAt(srv.scratch[:n], h.fileOff)
			if k == 0 {
				// The file shrank or failed under us: the framing is lost.
				_ = err
				h.release()
				c.Abort()
				return rawapi.ErrAbort
			}
			chunk = srv.scratch[:k]
		default:
			return h.done(c)
		}
		chunk = chunk[:min(len(chunk), room)]
		flags := rawapi.WriteCopy | rawapi.WriteMore
		if err := c.Write(chunk, flags); err != nil {
			return nil
		}
		switch {
		case h.headOff < len(h.head):
			h.headOff += len(chunk)
		case h.bodyOff < len(h.body):
			h.bodyOff += len(chunk)
			srv.Stats.BodyBytes += uint64(len(chunk))
		default:
			h.fileOff += int64(len(chunk))
			srv.Stats.BodyBytes += uint64(len(chunk))
		}
	}
	return nil
}

// done ends a response whose bytes are all queued.
func (h *hconn) done(c rawapi.TCP) error {
	c.Output()
	if h.file != nil {
		h.file.Close()
		h.file = nil
	}
	h.body = nil
	now := h.srv.s.Now()
	if h.after != nil && c.SendQueueLen() == 0 {
		f := h.after
		h.after = nil
		f()
	}
	if h.keep && !h.peerFIN {
		h.state, h.since, h.started = cReading, now, false
		if len(h.buf) > 0 {
			h.started, h.reqStart = true, now
		}
		return nil // process (our caller, or Recv) continues with h.buf
	}
	if h.peerFIN {
		h.runAfter()
		h.release()
		return c.Close()
	}
	h.state, h.since = cLinger, now
	h.buf = h.buf[:0]
	return c.CloseWrite()
}

func (h *hconn) runAfter() {
	if h.after != nil {
		f := h.after
		h.after = nil
		f()
	}
}

// Sent implements rawapi.TCPHandler.
func (h *hconn) Sent(c rawapi.TCP, n int) error {
	h.progress = h.srv.s.Now()
	if h.after != nil && h.state != cWriting && c.SendQueueLen() == 0 {
		h.runAfter()
	}
	if h.state != cWriting {
		return nil
	}
	if err := h.push(c); err != nil {
		return err
	}
	if h.state == cReading {
		return h.process(c)
	}
	return nil
}

// Poll implements rawapi.TCPHandler: the connection's timeouts.
func (h *hconn) Poll(c rawapi.TCP) error {
	srv := h.srv
	now := srv.s.Now()
	cfg := &srv.cfg
	switch h.state {
	case cQueued:
		if now.Sub(h.since) >= cfg.QueueTimeout {
			srv.Stats.Timeouts++
			h.release()
			c.Abort()
			return rawapi.ErrAbort
		}
	case cReading:
		switch {
		case h.started && now.Sub(h.reqStart) >= cfg.ReadTimeout:
			srv.Stats.Timeouts++
			return h.fail(c, 408, "The request did not arrive in time.")
		case !h.started && now.Sub(h.since) >= cfg.IdleTimeout:
			h.release()
			return c.Close()
		}
	case cWriting:
		if h.after != nil && c.SendQueueLen() == 0 {
			h.runAfter()
		}
		if now.Sub(h.progress) >= cfg.WriteTimeout {
			srv.Stats.Timeouts++
			h.release()
			c.Abort()
			return rawapi.ErrAbort
		}
	case cLinger:
		if h.after != nil && c.SendQueueLen() == 0 {
			h.runAfter()
		}
		if now.Sub(h.since) >= cfg.LingerTimeout {
			h.release()
			return c.Close()
		}
	}
	return nil
}

// Err implements rawapi.TCPHandler: the connection is gone.
func (h *hconn) Err(c rawapi.TCP, err error) { h.release() }
