package httpserver

import (
	"bytes"
	"io"
	"net/netip"
	"strconv"

	"github.com/lwgo/lwgo/rawapi"
)

// Config configures the server. Zero fields take the defaults given.
type Config struct {
	// Port is the TCP port. Default 80.
	Port uint16
	// MaxClients is the number of connections served at once, interleaved;
	// more wait in the listener's backlog. Default 8.
	MaxClients int
	// Backlog is the number of connections waiting to be served; more are
	// reset. Default 8.
	Backlog int
	// HeaderMax bounds a request's line and headers; a longer request gets
	// 431. Default 4096.
	HeaderMax int
	// IdleTimeout closes a client that sends nothing (between requests, or in
	// the middle of one: 408) or reads nothing of its response for this long.
	// Default 10 s.
	IdleTimeout rawapi.Duration
	// LingerTimeout bounds the wait for the client's FIN after a response
	// with Connection: close (the server reads and discards meanwhile, so
	// that unread request bytes do not turn its FIN into a RST). Default 2 s.
	LingerTimeout rawapi.Duration
	// MaxBig bounds /big's size. Default 1 TiB.
	MaxBig int64
	// Log, when set, receives one line per request.
	Log io.Writer
}

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 80
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 8
	}
	if c.Backlog <= 0 {
		c.Backlog = 8
	}
	if c.HeaderMax <= 0 {
		c.HeaderMax = 4096
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 10 * rawapi.Second
	}
	if c.LingerTimeout <= 0 {
		c.LingerTimeout = 2 * rawapi.Second
	}
	if c.MaxBig <= 0 {
		c.MaxBig = 1 << 40
	}
	return c
}

// SeqConfig returns the sequential-API sizes the server needs.
func (c Config) SeqConfig() rawapi.SeqConfig {
	c = c.withDefaults()
	return rawapi.SeqConfig{MaxConns: c.MaxClients + c.Backlog, MaxListeners: 1, Backlog: c.Backlog}
}

// Stats counts what the server did.
type Stats struct {
	Accepted   uint64
	Requests   uint64
	Status     map[int]uint64 // responses by status code
	BodyBytes  uint64         // response body bytes queued
	Timeouts   uint64         // clients closed for idleness
	Aborted    uint64         // clients reset (stalled reader, errors)
	PeerResets uint64         // connections the client reset
}

// client states.
const (
	stFree    = iota
	stReading // reading a request
	stWriting // sending a response
	stLinger  // response sent, FIN sent; draining until the client's FIN
)

// client is one connection being served.
type client struct {
	c     rawapi.SeqConn
	state int
	hdr   []byte // request bytes; cap HeaderMax
	head  []byte // response head being sent; cap 512
	sent  int    // of head
	body  []byte // static body, after head
	bodyN int    // of body sent
	big   int64  // /big bytes still to send
	bigAt int64  // /big offset
	keep  bool   // keep the connection after this response
	last  rawapi.Time
}

// Server is the httpd.
type Server struct {
	q     *rawapi.Seq
	cfg   Config
	l     rawapi.SeqListener
	cl    []client
	chunk []byte // a stretch of the /big pattern, a whole number of periods
	drain []byte // scratch for lingering reads
	Stats Stats
}

// NewServer listens on cfg.Port through q.
func NewServer(q *rawapi.Seq, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	l, err := q.Listen(netip.AddrPortFrom(netip.Addr{}, cfg.Port), cfg.Backlog)
	if err != nil {
		return nil, err
	}
	s := &Server{q: q, cfg: cfg, l: l, cl: make([]client, cfg.MaxClients),
		chunk: bigChunk(16 << 10), drain: make([]byte, 2048)}
	s.Stats.Status = make(map[int]uint64)
	for _, st := range []int{200, 400, 404, 405, 408, 431, 505} {
		s.Stats.Status[st] = 0 // the map never grows while serving
	}
	for i := range s.cl {
		s.cl[i].hdr = make([]byte, 0, cfg.HeaderMax)
		s.cl[i].head = make([]byte, 0, 512)
	}
	return s, nil
}

// Close stops listening and resets every client.
func (s *Server) Close() {
	for i := range s.cl {
		if s.cl[i].state != stFree {
			s.cl[i].c.Abort()
			s.cl[i].state = stFree
		}
	}
	s.l.Close()
}

// tick bounds one Wait, so that stop is checked at least this often.
const tick = rawapi.Second

// Serve serves until stop reports true or, as a task of a rawapi.Tasks
// runner, until the runner closes.
func (s *Server) Serve(stop func() bool) {
	for !stop() {
		if !s.Step() && s.q.Wait(s.waitFor()) == rawapi.ErrClosed {
			return
		}
	}
}

// Conns appends the raw handles of the connections being served to dst,
// for status pages.
func (s *Server) Conns(dst []rawapi.TCP) []rawapi.TCP {
	for i := range s.cl {
		if s.cl[i].state == stFree {
			continue
		}
		if tc := s.cl[i].c.TCP(); tc != (rawapi.TCP{}) {
			dst = append(dst, tc)
		}
	}
	return dst
}

// Port returns the port the server listens on.
func (s *Server) Port() uint16 { return s.cfg.Port }

// Step accepts waiting connections and moves every client as far as it can
// go without waiting; it reports whether anything happened.
func (s *Server) Step() bool {
	progress := false
	now := s.q.Now()
	for i := range s.cl {
		cl := &s.cl[i]
		if cl.state == stFree && s.l.Pending() > 0 {
			c, err := s.l.Accept(0)
			if err != nil {
				break
			}
			c.TCP().SetNoDelay(true)
			*cl = client{c: c, state: stReading, hdr: cl.hdr[:0], head: cl.head[:0], last: now}
			s.Stats.Accepted++
			progress = true
		}
		if cl.state != stFree && s.step(cl, now) {
			progress = true
		}
	}
	return progress
}

// waitFor is how long the loop may wait: until the first client deadline.
func (s *Server) waitFor() rawapi.Duration {
	now := s.q.Now()
	d := tick
	for i := range s.cl {
		cl := &s.cl[i]
		if cl.state == stFree {
			continue
		}
		d = min(d, max(cl.deadline(&s.cfg).Sub(now), 0))
	}
	return d
}

func (cl *client) deadline(cfg *Config) rawapi.Time {
	if cl.state == stLinger {
		return cl.last.Add(cfg.LingerTimeout)
	}
	return cl.last.Add(cfg.IdleTimeout)
}

// step moves one client; it reports whether anything happened.
func (s *Server) step(cl *client, now rawapi.Time) bool {
	switch cl.state {
	case stReading:
		return s.read(cl, now)
	case stWriting:
		return s.write(cl, now)
	case stLinger:
		return s.linger(cl, now)
	}
	return false
}

// readable reports whether a zero-timeout Recv has something to report.
func readable(c rawapi.SeqConn) bool { return c.Buffered() > 0 || c.EOF() || c.Err() != nil }

func (s *Server) read(cl *client, now rawapi.Time) bool {
	if len(cl.hdr) > 0 && s.parse(cl) { // a pipelined request already here
		return true
	}
	if !readable(cl.c) {
		if now.Sub(cl.last) >= s.cfg.IdleTimeout {
			s.Stats.Timeouts++
			if len(cl.hdr) == 0 {
				s.close(cl) // idle between requests: just close
			} else {
				s.respondError(cl, 408) // stalled in the middle of a request
			}
			return true
		}
		return false
	}
	n, err := cl.c.Recv(cl.hdr[len(cl.hdr):cap(cl.hdr)], 0)
	cl.hdr = cl.hdr[:len(cl.hdr)+n]
	cl.last = now
	if err != nil && n == 0 {
		if err != io.EOF {
			s.Stats.PeerResets++
		}
		s.close(cl) // the client went away, in or between requests
		return true
	}
	if !s.parse(cl) && len(cl.hdr) == cap(cl.hdr) {
		s.respondError(cl, 431)
	}
	return true
}

// Byte strings the parser compares against; package-level so that
// comparisons never allocate.
var (
	mGET        = []byte("GET")
	mHEAD       = []byte("HEAD")
	pRoot       = []byte("/")
	pIndex      = []byte("/index.html")
	pBig        = []byte("/big")
	qSize       = []byte("size=")
	http10      = []byte("HTTP/1.0")
	http11      = []byte("HTTP/1.1")
	http1       = []byte("HTTP/1.")
	hConnection = []byte("connection")
	hLength     = []byte("content-length")
	hTE         = []byte("transfer-encoding")
	vClose      = []byte("close")
	vKeepAlive  = []byte("keep-alive")
	crlf        = []byte("\r\n")
	lf          = []byte("\n")
)

// parse looks for a complete request head in cl.hdr. Once it has one it
// queues the response and removes the request from cl.hdr; it reports
// whether it did.
func (s *Server) parse(cl *client) bool {
	end, next := headEnd(cl.hdr)
	if end < 0 {
		return false
	}
	s.Stats.Requests++
	req := cl.hdr[:end]
	line, rest := cutLine(req)
	method, target, version, ok := requestLine(line)
	if !ok {
		s.respondError(cl, 400)
		return true
	}
	if !bytes.HasPrefix(version, http1) || len(version) != len(http11) || version[7] < '0' || version[7] > '9' {
		s.respondError(cl, 505)
		return true
	}
	keep := bytes.Equal(version, http11)
	hasBody := false
	for len(rest) > 0 {
		var h []byte
		h, rest = cutLine(rest)
		name, value, ok := bytes.Cut(h, []byte{':'})
		if !ok || len(name) == 0 || name[0] == ' ' || name[0] == '\t' || bytes.ContainsAny(name, " \t") {
			s.respondError(cl, 400) // no colon, obsolete line folding, or space before the colon (RFC 9112 §5.1)
			return true
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, hConnection):
			if containsToken(value, vClose) {
				keep = false
			} else if containsToken(value, vKeepAlive) && !bytes.Equal(version, http11) {
				keep = false // HTTP/1.0 keep-alive: not offered
			}
		case bytes.EqualFold(name, hLength):
			if len(value) != 1 || value[0] != '0' {
				hasBody = true
			}
		case bytes.EqualFold(name, hTE):
			hasBody = true
		}
	}
	// A body we do not read ends the connection after the response (the
	// linger drains it).
	cl.keep = keep && !hasBody
	head := bytes.Equal(method, mHEAD)
	if !head && !bytes.Equal(method, mGET) {
		s.respondError(cl, 405)
		return true
	}
	path, query, _ := bytes.Cut(target, []byte{'?'})
	switch {
	case bytes.Equal(path, pRoot) || bytes.Equal(path, pIndex):
		s.respond(cl, 200, ctHTML, indexPage, head)
	case bytes.Equal(path, pBig):
		size, ok := bigSize(query, s.cfg.MaxBig)
		if !ok {
			s.respondError(cl, 400)
			return true
		}
		s.respondBig(cl, size, head)
	default:
		s.respond(cl, 404, ctHTML, notFoundPage, head)
	}
	s.logRequest(cl, method, target)
	// Keep what follows the request (pipelining).
	cl.hdr = cl.hdr[:copy(cl.hdr, cl.hdr[next:])]
	return true
}

// headEnd finds the blank line ending a request head: it returns the end of
// the head (before the blank line) and the start of what follows, or -1.
// Bare LF line ends are accepted (RFC 9112 §2.2). Empty lines before the
// request line are skipped (RFC 9112 §2.2).
func headEnd(b []byte) (end, next int) {
	start := 0
	for start < len(b) && (b[start] == '\r' || b[start] == '\n') {
		start++
	}
	for i := start; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			end := i
			if end > 0 && b[end-1] == '\r' {
				end--
			}
			if start > 0 {
				// Shift the leading empty lines out; the caller parses from 0.
				copy(b, b[start:end])
				return end - start, j + 1
			}
			return end, j + 1
		}
	}
	return -1, -1
}

// cutLine splits off the first line (without its CR LF or LF).
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// requestLine splits "METHOD SP target SP version" (RFC 9112 §3).
func requestLine(line []byte) (method, target, version []byte, ok bool) {
	method, rest, ok1 := bytes.Cut(line, []byte{' '})
	target, version, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || len(method) == 0 || len(target) == 0 || target[0] != '/' ||
		bytes.IndexByte(version, ' ') >= 0 {
		return nil, nil, nil, false
	}
	for _, c := range method {
		if c < 'A' || c > 'Z' {
			return nil, nil, nil, false
		}
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f {
			return nil, nil, nil, false
		}
	}
	return method, target, version, true
}

// containsToken reports whether the comma-separated list v holds tok,
// case-insensitively.
func containsToken(v, tok []byte) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte{','})
		if bytes.EqualFold(bytes.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// bigSize parses "size=N" out of a query string.
func bigSize(query []byte, maxSize int64) (int64, bool) {
	for len(query) > 0 {
		var kv []byte
		kv, query, _ = bytes.Cut(query, []byte{'&'})
		v, ok := bytes.CutPrefix(kv, qSize)
		if !ok {
			continue
		}
		if len(v) == 0 || len(v) > 19 {
			return 0, false
		}
		var n int64
		for _, c := range v {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int64(c-'0')
		}
		return n, n <= maxSize
	}
	return 0, false
}

// Content types and fixed bodies.
var (
	ctHTML       = []byte("text/html; charset=utf-8")
	ctOctets     = []byte("application/octet-stream")
	indexPage    = []byte("<!DOCTYPE html>\n<html><head><title>lwgo</title></head>\n<body><h1>hello, world</h1>\n<p>Served by lwgo's httpd on the sequential API.</p></body></html>\n")
	notFoundPage = []byte("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n")
	errorPage    = []byte("<!DOCTYPE html>\n<html><head><title>Error</title></head><body><h1>Bad request</h1></body></html>\n")
)

func reason(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 431:
		return "Request Header Fields Too Large"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Error"
}

// respondError answers with code and closes after the response.
func (s *Server) respondError(cl *client, code int) {
	cl.keep = false
	cl.hdr = cl.hdr[:0]
	s.respond(cl, code, ctHTML, errorPage, false)
}

// respond queues a response with a fixed body.
func (s *Server) respond(cl *client, code int, ctype, body []byte, headOnly bool) {
	s.startHead(cl, code, ctype, int64(len(body)))
	if !headOnly {
		cl.body = body
	}
}

// respondBig queues a response whose body is size bytes of the pattern.
func (s *Server) respondBig(cl *client, size int64, headOnly bool) {
	s.startHead(cl, 200, ctOctets, size)
	if !headOnly {
		cl.big = size
	}
}

func (s *Server) startHead(cl *client, code int, ctype []byte, length int64) {
	s.Stats.Status[code]++
	h := cl.head[:0]
	h = append(h, "HTTP/1.1 "...)
	h = strconv.AppendInt(h, int64(code), 10)
	h = append(h, ' ')
	h = append(h, reason(code)...)
	h = append(h, "\r\nServer: lwgo-httpd\r\nContent-Type: "...)
	h = append(h, ctype...)
	h = append(h, "\r\nContent-Length: "...)
	h = strconv.AppendInt(h, length, 10)
	if code == 405 {
		h = append(h, "\r\nAllow: GET, HEAD"...)
	}
	if cl.keep {
		h = append(h, "\r\nConnection: keep-alive\r\n\r\n"...)
	} else {
		h = append(h, "\r\nConnection: close\r\n\r\n"...)
	}
	cl.head, cl.sent = h, 0
	cl.body, cl.bodyN, cl.big, cl.bigAt = nil, 0, 0, 0
	cl.state = stWriting
}

// write sends as much of the response as the send buffer takes.
func (s *Server) write(cl *client, now rawapi.Time) bool {
	progress := false
	for {
		room := cl.c.SendBuffer()
		if room == 0 {
			break
		}
		var p []byte
		switch {
		case cl.sent < len(cl.head):
			p = cl.head[cl.sent:]
		case cl.bodyN < len(cl.body):
			p = cl.body[cl.bodyN:]
		case cl.big > 0:
			off := int(cl.bigAt % int64(len(s.chunk)))
			p = s.chunk[off:min(len(s.chunk), off+int(min(cl.big, int64(len(s.chunk)))))]
		default:
			s.finish(cl, now)
			return true
		}
		p = p[:min(len(p), room)]
		n, err := cl.c.Send(p, 0)
		if n > 0 {
			progress = true
			cl.last = now
			switch {
			case cl.sent < len(cl.head):
				cl.sent += n
			case cl.bodyN < len(cl.body):
				cl.bodyN += n
				s.Stats.BodyBytes += uint64(n)
			default:
				cl.big -= int64(n)
				cl.bigAt += int64(n)
				s.Stats.BodyBytes += uint64(n)
			}
		}
		if err != nil {
			s.Stats.Aborted++
			s.abort(cl)
			return true
		}
	}
	if cl.sent == len(cl.head) && cl.bodyN == len(cl.body) && cl.big == 0 {
		s.finish(cl, now)
		return true
	}
	if now.Sub(cl.last) >= s.cfg.IdleTimeout {
		s.Stats.Timeouts++
		s.Stats.Aborted++
		s.abort(cl) // the client reads nothing
		return true
	}
	return progress
}

// finish ends a response: the next request, or the close.
func (s *Server) finish(cl *client, now rawapi.Time) {
	cl.last = now
	if cl.keep {
		cl.state = stReading
		return
	}
	cl.state = stLinger
	if cl.c.CloseWrite() != nil {
		s.close(cl)
	}
}

// linger discards what the client still sends until its FIN.
func (s *Server) linger(cl *client, now rawapi.Time) bool {
	if !readable(cl.c) {
		if now.Sub(cl.last) >= s.cfg.LingerTimeout {
			s.close(cl)
			return true
		}
		return false
	}
	for cl.c.Buffered() > 0 {
		cl.c.Recv(s.drain, 0)
	}
	if cl.c.EOF() || cl.c.Err() != nil {
		s.close(cl)
	}
	return true
}

func (s *Server) close(cl *client) {
	cl.c.Close()
	cl.state = stFree
}

func (s *Server) abort(cl *client) {
	cl.c.Abort()
	cl.state = stFree
}

func (s *Server) logRequest(cl *client, method, target []byte) {
	if s.cfg.Log == nil {
		return
	}
	var line [256]byte
	b := cl.c.RemoteAddr().Addr().AppendTo(line[:0])
	b = append(b, ' ')
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, target[:min(len(target), 128)]...)
	b = append(b, ' ')
	b = append(b, cl.head[9:12]...) // the status code
	b = append(b, '\n')
	s.cfg.Log.Write(b)
}

// bigAlphabet is one period of the /big body: 63 printable bytes and a
// newline, so the body is readable text of 64-byte lines.
const bigAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.\n"

// bigChunk returns n bytes of the pattern, n rounded down to whole periods.
func bigChunk(n int) []byte {
	n -= n % len(bigAlphabet)
	b := make([]byte, n)
	for i := range b {
		b[i] = bigAlphabet[i%len(bigAlphabet)]
	}
	return b
}
