package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lwgo/lwgo/rawapi"
)

// Env is what a Client runs on and writes to.
type Env struct {
	Stack *rawapi.Stack
	// DNS resolves host names; nil makes every name but an address literal
	// or a --resolve entry fail with exit 6.
	DNS         *rawapi.DNS
	Stdout      io.Writer
	Stderr      io.Writer
	StdoutIsTTY bool // no progress meter when the body goes to a terminal
	// Create opens an -o file; nil: os.Create.
	Create func(name string) (io.WriteCloser, error)
	// Open opens a --data-binary @file upload; nil: os.Open.
	Open func(name string) (io.ReadCloser, error)
}

// Client runs curl's transfers, one URL after another, on the raw TCP API:
// every step happens in a TCPHandler callback or in Tick, on the stack's
// goroutine. One connection is kept between transfers and reused for the
// same host and port (HTTP/1.1 persistent connections, RFC 9112 §9.3).
type Client struct {
	env     Env
	o       *Options
	next    int       // index of the next URL to start
	x       *transfer // the transfer in progress
	conn    *conn     // the connection: busy with x, or idle; nil if none
	nconn   int       // connections opened, for -v's #n
	resolve uint64    // lookups started: a stale DNS answer is ignored
	pending bool      // start the next URL at the next Tick
	head    []byte    // response head being read; cap maxHead
	scratch []byte    // upload reads
	done    bool
	exit    int
}

// conn is one TCP connection and its handler.
type conn struct {
	cl      *Client
	tc      rawapi.TCP
	id      int
	key     string         // target.key() it was opened for
	addr    netip.AddrPort // where it goes
	up      bool           // handshake done
	busy    bool           // serving the current transfer
	dead    bool           // not reusable
	closed  bool           // closed or aborted by us, or dropped by the stack
	aborted bool           // aborted by us: its callbacks return ErrAbort
}

// Transfer phases.
const (
	phResolve  = iota // looking the host up
	phConnect         // TCP handshake
	phExchange        // request out, response in
	phRedirect        // a response done; its redirect is followed at the next Tick
	phDone
)

// transfer is one URL, with the redirects it follows.
type transfer struct {
	idx       int
	t         target
	method    string
	sendBody  bool
	crossHost bool // redirected to another host: credentials stay behind
	redirects int
	start     rawapi.Time // of the transfer (-m)
	connStart rawapi.Time // of the current resolve and connect (--connect-timeout)
	phase     int
	addr      netip.AddrPort
	info      Info
	reused    bool // on a kept connection
	retried   bool // already retried on a fresh connection

	// Request.
	req      []byte
	reqOff   int
	bodyLen  int64
	bodyOff  int64
	src      io.ReadCloser // --data-binary @file
	sendDone bool

	// Response.
	gotAny  bool // a byte of response arrived
	resp    *Response
	framing Framing
	left    int64 // Content-Length bytes to come
	chunk   chunkDecoder
	chunkFn func([]byte) error
	follow  bool // a redirect to follow: its body is read and dropped
	failure *Failure

	// Output.
	outName   string
	out       *bufio.Writer
	outFile   io.WriteCloser
	outOpened bool
	meter     *meter
}

// NewClient returns a client for o's URLs; Start begins the first.
func NewClient(env Env, o *Options) *Client {
	if env.Create == nil {
		env.Create = func(name string) (io.WriteCloser, error) { return os.Create(name) }
	}
	if env.Open == nil {
		env.Open = func(name string) (io.ReadCloser, error) { return os.Open(name) }
	}
	return &Client{env: env, o: o, head: make([]byte, 0, maxHead)}
}

// Start schedules the first transfer: the next Tick begins it.
func (c *Client) Start() { c.pending = true }

// Done reports whether every transfer has finished.
func (c *Client) Done() bool { return c.done }

// ExitCode is curl's exit status: the last transfer's (the first failed
// one's with --fail-early).
func (c *Client) ExitCode() int { return c.exit }

// Tick starts the next transfer when one is due, enforces the timeouts and
// updates the progress meter; it returns when it wants to run next. Call it
// after every Stack.Poll, outside callbacks.
func (c *Client) Tick(now rawapi.Time) rawapi.Time {
	if c.pending && c.x == nil {
		c.pending = false
		c.startNext(now)
	}
	x := c.x
	if x != nil && x.phase == phRedirect {
		c.redirect(x)
		x = c.x
	}
	if x == nil {
		if c.pending {
			return now
		}
		return rawapi.Never
	}
	next := rawapi.Never
	elapsed := time.Duration(now.Sub(x.start))
	if d := c.o.ConnTimeout; d > 0 && x.phase < phExchange {
		if e := time.Duration(now.Sub(x.connStart)); e >= d {
			msg := "Connection timed out after " + ms(e) + " milliseconds"
			if x.phase == phResolve {
				msg = "Resolving timed out after " + ms(e) + " milliseconds"
			}
			c.finish(x, fail(ExitOperationTimedout, msg))
			return now
		}
		next = min(next, x.connStart.Add(rawapi.Duration(d)))
	}
	if d := c.o.MaxTime; d > 0 {
		if elapsed >= d {
			msg := "Operation timed out after " + ms(elapsed) + " milliseconds with " +
				strconv.FormatInt(x.info.SizeDownload, 10)
			if x.resp != nil && x.framing == FramingLength && !x.follow {
				msg += " out of " + strconv.FormatInt(x.resp.Length, 10)
			}
			c.finish(x, fail(ExitOperationTimedout, msg+" bytes received"))
			return now
		}
		next = min(next, x.start.Add(rawapi.Duration(d)))
	}
	if x.meter != nil {
		c.updateMeter(x, now, false)
		sec := rawapi.Duration(time.Second)
		next = min(next, x.start.Add((now.Sub(x.start)/sec+1)*sec))
	}
	if c.pending {
		return now
	}
	return next
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

func wall(t rawapi.Time) time.Time { return time.Unix(0, 0).Add(time.Duration(t)) }

// startNext starts the next URL, or ends the run.
func (c *Client) startNext(now rawapi.Time) {
	if c.next >= len(c.o.URLs) || c.o.FailEarly && c.exit != 0 {
		c.done = true
		if k := c.conn; k != nil {
			c.closeConn(k)
		}
		return
	}
	i := c.next
	c.next++
	x := &transfer{idx: i, start: now, method: "GET", sendBody: c.o.HasData}
	x.chunkFn = func(b []byte) error { return c.emit(x, b) }
	c.x = x
	switch {
	case c.o.Head:
		x.method = "HEAD"
	case c.o.HasData:
		x.method = "POST"
	}
	if c.o.Method != "" {
		x.method = c.o.Method
	}
	if i < len(c.o.Outputs) {
		x.outName = c.o.Outputs[i]
	}
	if !c.o.Silent && !(c.toStdout(x) && c.env.StdoutIsTTY) {
		x.meter = newMeter(c.env.Stderr, wall(now))
	}
	t, f := parseURL(c.o.URLs[i])
	if f != nil {
		c.finish(x, f)
		return
	}
	x.t = t
	x.info.URLEffective = t.String()
	c.begin(x)
}

func (c *Client) toStdout(x *transfer) bool { return x.outName == "" || x.outName == "-" }

// begin resolves x's host and connects (or reuses the connection).
func (c *Client) begin(x *transfer) {
	x.phase = phResolve
	x.connStart = c.env.Stack.Now()
	key := x.t.key()
	if a, ok := c.o.Resolve[key]; ok {
		c.connectTo(x, a)
		return
	}
	if a, err := netip.ParseAddr(x.t.host); err == nil && a.Is4() {
		c.connectTo(x, a)
		return
	}
	if c.env.DNS == nil {
		c.finish(x, fail(ExitCouldntResolveHost, "Could not resolve host: "+x.t.host+" (no DNS server: give -dns, -dhcp or --resolve)"))
		return
	}
	c.resolve++
	seq := c.resolve
	addr, err := c.env.DNS.GetHostByName(x.t.host, func(_ string, addr netip.Addr, err error) {
		if c.x != x || x.phase != phResolve || c.resolve != seq {
			return // a lookup that timed out or was overtaken
		}
		if err != nil {
			c.finish(x, fail(ExitCouldntResolveHost, "Could not resolve host: "+x.t.host))
			return
		}
		c.connectTo(x, addr)
	})
	switch {
	case err == nil:
		c.connectTo(x, addr)
	case err != rawapi.ErrInProgress:
		c.finish(x, fail(ExitCouldntResolveHost, "Could not resolve host: "+x.t.host))
	}
}

// connectTo sends x over the idle connection to addr if there is one, or
// opens a new one.
func (c *Client) connectTo(x *transfer, a netip.Addr) {
	x.addr = netip.AddrPortFrom(a, x.t.port)
	x.info.RemoteIP, x.info.RemotePort = a.String(), int(x.t.port)
	if k := c.conn; k != nil {
		if !k.busy && !k.dead && k.addr == x.addr && k.key == x.t.key() {
			k.busy = true
			x.reused = true
			c.verbose("* Re-using existing connection #" + strconv.Itoa(k.id) + " with host " + x.t.host)
			x.phase = phExchange
			c.sendRequest(x)
			return
		}
		c.closeConn(k)
	}
	c.dial(x)
}

// dial opens a new connection for x.
func (c *Client) dial(x *transfer) {
	x.phase = phConnect
	c.verbose("*   Trying " + x.addr.String() + "...")
	tc, err := c.env.Stack.NewTCP()
	if err != nil {
		c.finish(x, c.connectFailure(x, "no free connection ("+err.Error()+")"))
		return
	}
	k := &conn{cl: c, tc: tc, id: c.nconn, key: x.t.key(), addr: x.addr, busy: true}
	c.nconn++
	tc.SetHandler(k)
	tc.SetNoDelay(true)
	if err := tc.Connect(x.addr); err != nil {
		tc.Close()
		c.finish(x, c.connectFailure(x, err.Error()))
		return
	}
	c.conn = k
	x.info.NumConnects++
}

func (c *Client) connectFailure(x *transfer, why string) *Failure {
	d := time.Duration(c.env.Stack.Now().Sub(x.start))
	return fail(ExitCouldntConnect, "Failed to connect to "+x.t.host+" port "+strconv.Itoa(int(x.t.port))+
		" after "+ms(d)+" ms: Couldn't connect to server ("+why+")")
}

// closeConn closes k gracefully (our FIN) and forgets it.
func (c *Client) closeConn(k *conn) {
	if c.conn == k {
		c.conn = nil
	}
	k.dead = true
	if !k.closed {
		k.closed = true
		k.tc.Close()
		c.verbose("* Closing connection " + strconv.Itoa(k.id))
	}
}

// abortConn resets k; from inside k's own callback, the callback must then
// return ErrAbort (conn's methods do).
func (c *Client) abortConn(k *conn) {
	if c.conn == k {
		c.conn = nil
	}
	k.dead = true
	if !k.closed {
		k.closed, k.aborted = true, true
		k.tc.Abort()
	}
}

// request builds x's request head.
func (c *Client) request(x *transfer) []byte {
	o := c.o
	proto := "HTTP/1.1"
	if o.HTTP10 {
		proto = "HTTP/1.0"
	}
	var b strings.Builder
	b.WriteString(x.method + " " + x.t.requestTarget() + " " + proto + "\r\n")
	// Custom headers replace ours of the same name ("Name:" removes one).
	custom := map[string]bool{}
	for _, h := range o.Headers {
		name, _, _ := strings.Cut(h, ":")
		if n, _, ok := strings.Cut(h, ";"); ok && !strings.Contains(n, ":") {
			name = n
		}
		custom[strings.ToLower(strings.TrimSpace(name))] = true
	}
	add := func(name, value string) {
		if !custom[strings.ToLower(name)] {
			b.WriteString(name + ": " + value + "\r\n")
		}
	}
	add("Host", x.t.hostHeader())
	if o.User != "" && !x.crossHost {
		add("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.User)))
	}
	if !o.UserAgentOK {
		add("User-Agent", "curl/"+curlVersion)
	} else if o.UserAgent != "" {
		add("User-Agent", o.UserAgent)
	}
	add("Accept", "*/*")
	if o.Referer != "" {
		add("Referer", o.Referer)
	}
	for _, h := range o.Headers {
		name, value, ok := strings.Cut(h, ":")
		lname := strings.ToLower(strings.TrimSpace(name))
		if x.crossHost && (lname == "authorization" || lname == "cookie") {
			continue // curl ≥ 7.83 keeps these from other hosts too
		}
		switch {
		case ok && strings.TrimSpace(value) == "":
			// "Name:" only removes ours.
		case ok:
			b.WriteString(strings.TrimSpace(name) + ": " + strings.TrimSpace(value) + "\r\n")
		default:
			if n, _, semi := strings.Cut(h, ";"); semi {
				b.WriteString(strings.TrimSpace(n) + ":\r\n") // "Name;" sends it empty
			}
		}
	}
	if x.sendBody {
		add("Content-Length", strconv.FormatInt(x.bodyLen, 10))
		add("Content-Type", "application/x-www-form-urlencoded")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// sendRequest starts sending x's request on c.conn.
func (c *Client) sendRequest(x *transfer) {
	x.phase = phExchange
	x.resp, x.gotAny, x.follow = nil, false, false
	x.reqOff, x.bodyOff, x.sendDone = 0, 0, false
	c.head = c.head[:0]
	if x.sendBody {
		if x.src != nil {
			x.src.Close()
			x.src = nil
		}
		if c.o.DataFile != "" {
			src, err := c.env.Open(c.o.DataFile)
			if err != nil {
				c.finish(x, fail(ExitReadError, "Failed to open/read local data from file/application"))
				return
			}
			x.src = src
			fi, err := os.Stat(c.o.DataFile)
			if err != nil {
				c.finish(x, fail(ExitReadError, "Failed to open/read local data from file/application"))
				return
			}
			x.bodyLen = fi.Size()
		} else {
			x.bodyLen = int64(len(c.o.Data))
		}
	}
	x.req = c.request(x)
	if c.o.Verbose {
		for l := range strings.SplitSeq(strings.TrimSuffix(string(x.req), "\r\n"), "\r\n") {
			c.verbose("> " + l)
		}
	}
	c.pushRequest(x)
}

// pushRequest writes as much of the request as the send buffer takes.
func (c *Client) pushRequest(x *transfer) {
	k := c.conn
	if k == nil || x.sendDone {
		return
	}
	for {
		room := k.tc.SendBuffer()
		if room == 0 {
			break
		}
		if x.reqOff < len(x.req) {
			n := min(room, len(x.req)-x.reqOff)
			flags := rawapi.WriteCopy
			if x.reqOff+n < len(x.req) || x.sendBody && x.bodyLen > 0 {
				flags |= rawapi.WriteMore
			}
			if err := k.tc.Write(x.req[x.reqOff:x.reqOff+n], flags); err != nil {
				break
			}
			x.reqOff += n
			continue
		}
		if !x.sendBody || x.bodyOff >= x.bodyLen {
			x.sendDone = true
			break
		}
		var chunk []byte
		if x.src == nil {
			chunk = c.o.Data[x.bodyOff:min(x.bodyOff+int64(room), x.bodyLen)]
		} else {
			if c.scratch == nil {
				c.scratch = make([]byte, 64<<10)
			}
			want := int(min(int64(min(room, len(c.scratch))), x.bodyLen-x.bodyOff))
			n, err := io.ReadFull(x.src, c.scratch[:want])
			if err != nil {
				c.finish(x, fail(ExitReadError, "Failed to open/read local data from file/application"))
				return
			}
			chunk = c.scratch[:n]
		}
		flags := rawapi.WriteCopy
		if x.bodyOff+int64(len(chunk)) < x.bodyLen {
			flags |= rawapi.WriteMore
		}
		if err := k.tc.Write(chunk, flags); err != nil {
			if x.src != nil {
				// Unread: the file's offset moved past data not sent.
				c.finish(x, fail(ExitSendError, "Send failure: "+err.Error()))
			}
			return
		}
		x.bodyOff += int64(len(chunk))
		x.info.SizeUpload += int64(len(chunk))
	}
	k.tc.Output()
}

// input takes response bytes for x.
func (c *Client) input(x *transfer, k *conn, data []byte) *Failure {
	for len(data) > 0 {
		if x.phase != phExchange || c.x != x {
			// More than the response framed: the connection is confused.
			k.dead = true
			return nil
		}
		x.gotAny = true
		if x.resp == nil {
			n := min(len(data), cap(c.head)-len(c.head))
			c.head = append(c.head, data[:n]...)
			data = data[n:]
			e := headEnd(c.head)
			if e < 0 {
				if len(c.head) == cap(c.head) {
					return fail(ExitRecvError, "Too large response headers (over "+strconv.Itoa(maxHead)+" bytes)")
				}
				continue
			}
			if f := c.gotHead(x, c.head[:e]); f != nil {
				return f
			}
			if x.resp != nil && x.framing == FramingLength && x.left == 0 {
				x.framing = FramingNone
			}
			rest := c.head[e:]
			if x.resp == nil {
				// An interim response: another head follows.
				more := append(append([]byte(nil), rest...), data...)
				c.head = c.head[:0]
				return c.input(x, k, more)
			}
			for len(rest) > 0 && x.phase == phExchange && c.x == x {
				n, f := c.body(x, rest)
				if f != nil {
					return f
				}
				rest = rest[n:]
				if n == 0 {
					break
				}
			}
			if len(rest) > 0 {
				k.dead = true
			}
			c.head = c.head[:0]
			if x.framing == FramingNone && c.x == x && x.phase == phExchange {
				c.responseDone(x, k)
			}
			continue
		}
		n, f := c.body(x, data)
		if f != nil {
			return f
		}
		data = data[n:]
		if n == 0 {
			k.dead = true
			return nil
		}
	}
	return nil
}

// gotHead handles a complete response head.
func (c *Client) gotHead(x *transfer, head []byte) *Failure {
	r, err := parseHead(head)
	if err != nil {
		code := ExitWeirdServerReply
		if err == errHTTP09 {
			code = ExitUnsupportedProtocol
		}
		return fail(code, err.Error())
	}
	x.info.SizeHeader += int64(len(head))
	if c.o.Verbose {
		for l := range strings.SplitSeq(strings.TrimRight(string(head), "\r\n"), "\n") {
			c.verbose("< " + strings.TrimSuffix(l, "\r"))
		}
	}
	if r.Status/100 == 1 && r.Status != 101 {
		return nil // 100 Continue and friends: the real response follows
	}
	x.resp = r
	x.info.HTTPCode = r.Status
	x.info.ContentType = r.ContentType
	x.framing = r.Framing(x.method)
	x.left = r.Length
	x.chunk = chunkDecoder{}
	redirect := r.Location != "" && (r.Status == 301 || r.Status == 302 || r.Status == 303 || r.Status == 307 || r.Status == 308)
	x.follow = c.o.Location && redirect
	if redirect && !x.follow {
		if t, f := resolveRedirect(x.t, r.Location); f == nil {
			x.info.RedirectURL = t.String()
		}
	}
	if !x.follow && c.o.Fail && r.Status >= 400 {
		return fail(ExitHTTPReturnedError, "The requested URL returned error: "+strconv.Itoa(r.Status))
	}
	if c.o.Include || c.o.Head {
		if f := c.openOutput(x); f != nil {
			return f
		}
		if _, err := x.out.Write(head); err != nil {
			return fail(ExitWriteError, "Failure writing output to destination")
		}
	}
	if !x.follow {
		x.info.SizeDownload = 0
	}
	return nil
}

// body takes body bytes and returns how many belong to the response.
func (c *Client) body(x *transfer, b []byte) (int, *Failure) {
	k := c.conn
	switch x.framing {
	case FramingNone:
		return 0, nil
	case FramingLength:
		n := int(min(int64(len(b)), x.left))
		if err := c.emit(x, b[:n]); err != nil {
			return n, err.(*Failure)
		}
		x.left -= int64(n)
		if x.left == 0 {
			c.responseDone(x, k)
		}
		return n, nil
	case FramingChunked:
		n, err := x.chunk.Decode(b, x.chunkFn)
		if err != nil {
			if f, ok := err.(*Failure); ok {
				return n, f
			}
			return n, fail(ExitRecvError, err.Error())
		}
		if x.chunk.Done() {
			c.responseDone(x, k)
		}
		return n, nil
	}
	if err := c.emit(x, b); err != nil {
		return len(b), err.(*Failure)
	}
	return len(b), nil
}

// emit delivers body bytes: to the output, or nowhere for a redirect
// being followed.
func (c *Client) emit(x *transfer, b []byte) error {
	if x.follow || len(b) == 0 {
		return nil
	}
	if f := c.openOutput(x); f != nil {
		return f
	}
	if _, err := x.out.Write(b); err != nil {
		return fail(ExitWriteError, "Failure writing output to destination")
	}
	x.info.SizeDownload += int64(len(b))
	return nil
}

// openOutput opens x's output on first use.
func (c *Client) openOutput(x *transfer) *Failure {
	if x.outOpened {
		if x.out == nil {
			return fail(ExitWriteError, "Failure writing output to destination")
		}
		return nil
	}
	x.outOpened = true
	var w io.Writer = c.env.Stdout
	if !c.toStdout(x) {
		name := x.outName
		if name == remoteNameMark {
			if name = remoteName(x.t); name == "" {
				return fail(ExitWriteError, "Remote file name has no length!")
			}
		}
		f, err := c.env.Create(name)
		if err != nil {
			return fail(ExitWriteError, "Failure writing output to destination")
		}
		x.outFile, w = f, f
	}
	x.out = bufio.NewWriterSize(w, 128<<10)
	return nil
}

// responseDone ends a response whose body is complete: the connection is
// kept for the next request or closed, and the transfer follows its
// redirect or finishes.
func (c *Client) responseDone(x *transfer, k *conn) {
	if x.phase != phExchange || c.x != x {
		return
	}
	r := x.resp
	if k != nil {
		if r.ConnClose || x.framing == FramingClose || !x.sendDone || k.dead {
			c.closeConn(k)
		} else {
			k.busy = false
			c.verbose("* Connection #" + strconv.Itoa(k.id) + " to host " + x.t.host + " left intact")
		}
	}
	if x.follow {
		x.phase = phRedirect // Tick follows it, outside this callback
		c.pending = true
		return
	}
	if f := c.openOutput(x); f != nil { // an empty body still makes the file
		c.finish(x, f)
		return
	}
	c.finish(x, nil)
}

// redirect follows x's Location (RFC 9110 §15.4): method changes as curl
// makes them, credentials only to the same host and port.
func (c *Client) redirect(x *transfer) {
	if c.o.MaxRedirs >= 0 && x.redirects >= c.o.MaxRedirs {
		c.finish(x, fail(ExitTooManyRedirects, "Maximum ("+strconv.Itoa(c.o.MaxRedirs)+") redirects followed"))
		return
	}
	t, f := resolveRedirect(x.t, x.resp.Location)
	if f != nil {
		c.finish(x, f)
		return
	}
	st := x.resp.Status
	if c.o.Method == "" {
		switch {
		case st == 303 && x.method != "HEAD", (st == 301 || st == 302) && x.method == "POST":
			x.method, x.sendBody = "GET", false
		}
	}
	if t.key() != x.t.key() {
		x.crossHost = true
	}
	c.verbose("* Issue another request to this URL: '" + t.String() + "'")
	x.redirects++
	x.info.NumRedirects++
	x.t = t
	x.info.URLEffective = t.String()
	x.resp, x.follow = nil, false
	c.pending = false
	c.begin(x)
}

// finish ends x: f == nil is success. It reports, writes -w, and schedules
// the next URL.
func (c *Client) finish(x *transfer, f *Failure) {
	if x.phase == phDone || c.x != x {
		return
	}
	if f != nil {
		if k := c.conn; k != nil && k.busy {
			c.abortConn(k)
		}
	}
	x.phase = phDone
	if x.src != nil {
		x.src.Close()
		x.src = nil
	}
	if x.out != nil {
		if err := x.out.Flush(); err != nil && f == nil {
			f = fail(ExitWriteError, "Failure writing output to destination")
		}
	}
	if x.outFile != nil {
		if err := x.outFile.Close(); err != nil && f == nil {
			f = fail(ExitWriteError, "Failure writing output to destination")
		}
	}
	now := c.env.Stack.Now()
	if x.meter != nil {
		c.updateMeter(x, now, true)
	}
	x.info.TimeTotal = time.Duration(now.Sub(x.start))
	if f != nil {
		x.info.ExitCode, x.info.ErrorMsg = f.Code, f.Msg
		if !c.o.Silent || c.o.ShowError {
			io.WriteString(c.env.Stderr, f.Error()+"\n")
		}
		c.exit = f.Code
	} else {
		c.exit = 0
	}
	if c.o.WriteOut != "" {
		io.WriteString(c.env.Stdout, writeOut(c.o.WriteOut, &x.info, func(s string) {
			io.WriteString(c.env.Stderr, s+"\n")
		}))
	}
	c.x = nil
	c.pending = true
}

func (c *Client) updateMeter(x *transfer, now rawapi.Time, final bool) {
	dlTotal := int64(-1)
	if x.resp != nil && !x.follow && x.framing == FramingLength {
		dlTotal = x.resp.Length
	}
	ulTotal := int64(-1)
	if x.sendBody {
		ulTotal = x.bodyLen
	}
	x.meter.update(wall(now), x.info.SizeDownload, dlTotal, x.info.SizeUpload, ulTotal, final)
}

func (c *Client) verbose(s string) {
	if c.o.Verbose {
		io.WriteString(c.env.Stderr, s+"\n")
	}
}

// Connection events.

// Connected implements rawapi.TCPHandler.
func (k *conn) Connected(tc rawapi.TCP, err error) error {
	c := k.cl
	k.up = true
	x := c.x
	if x == nil || c.conn != k || x.phase != phConnect {
		return nil
	}
	x.info.TimeConnect = time.Duration(c.env.Stack.Now().Sub(x.start))
	c.verbose("* Connected to " + x.t.host + " (" + x.addr.Addr().String() + ") port " +
		strconv.Itoa(int(x.t.port)) + " (#" + strconv.Itoa(k.id) + ")")
	c.sendRequest(x)
	return k.result()
}

func (k *conn) result() error {
	if k.aborted {
		return rawapi.ErrAbort
	}
	return nil
}

// Recv implements rawapi.TCPHandler.
func (k *conn) Recv(tc rawapi.TCP, p *rawapi.Buf, err error) error {
	c := k.cl
	x := c.x
	if p == nil {
		k.eof(x)
		return k.result()
	}
	// Consumed or not, the bytes are taken: acknowledge them first, so that
	// closing the connection from here sends a FIN, not a RST for unread
	// data.
	tc.Recved(p.Len())
	if k.closed || x == nil || !k.busy || c.conn != k {
		// Data on an idle connection: nothing asked for it.
		p.Free()
		c.abortConn(k)
		return k.result()
	}
	f := c.input(x, k, p.Bytes())
	p.Free()
	if f != nil {
		c.finish(x, f)
	}
	return k.result()
}

// eof handles the server's FIN.
func (k *conn) eof(x *transfer) {
	c := k.cl
	busy := k.busy && c.conn == k && x != nil && x.phase == phExchange
	c.closeConn(k)
	if !busy {
		return
	}
	switch {
	case x.resp == nil && !x.gotAny && x.reused && !x.retried:
		c.retry(x)
	case x.resp == nil && !x.gotAny:
		c.finish(x, fail(ExitGotNothing, "Empty reply from server"))
	case x.resp == nil:
		c.finish(x, fail(ExitWeirdServerReply, "Weird server reply: connection closed inside the response head"))
	case x.framing == FramingClose:
		c.responseDone(x, nil)
	case x.framing == FramingLength:
		c.finish(x, fail(ExitPartialFile, "transfer closed with "+strconv.FormatInt(x.left, 10)+" bytes remaining to read"))
	default:
		c.finish(x, fail(ExitPartialFile, "transfer closed with outstanding read data remaining"))
	}
}

// retry sends x again on a fresh connection: the kept one was closed by
// the server before it saw the request (RFC 9112 §9.3.1 allows retrying an
// idempotent request then; curl retries any).
func (c *Client) retry(x *transfer) {
	x.retried, x.reused = true, false
	c.verbose("* Connection died, retrying a fresh connect")
	c.dial(x)
}

// Sent implements rawapi.TCPHandler.
func (k *conn) Sent(tc rawapi.TCP, n int) error {
	c := k.cl
	if x := c.x; x != nil && c.conn == k && k.busy && x.phase == phExchange {
		c.pushRequest(x)
	}
	return k.result()
}

// Poll implements rawapi.TCPHandler.
func (k *conn) Poll(rawapi.TCP) error { return nil }

// Err implements rawapi.TCPHandler.
func (k *conn) Err(tc rawapi.TCP, err error) {
	c := k.cl
	if k.closed {
		return // ours: closed or aborted
	}
	k.dead, k.closed = true, true
	if c.conn != k {
		return
	}
	c.conn = nil
	x := c.x
	if x == nil || !k.busy {
		return
	}
	why := errText(err)
	switch {
	case x.phase == phConnect:
		c.finish(x, c.connectFailure(x, why))
	case x.phase != phExchange:
	case x.resp == nil && !x.gotAny && x.reused && !x.retried:
		c.retry(x)
	case !x.sendDone && !x.gotAny:
		c.finish(x, fail(ExitSendError, "Send failure: "+why))
	default:
		c.finish(x, fail(ExitRecvError, "Recv failure: "+why))
	}
}

func errText(err error) string {
	switch {
	case errors.Is(err, rawapi.ErrReset):
		return "Connection reset by peer"
	case errors.Is(err, rawapi.ErrTimeout), errors.Is(err, rawapi.ErrAbort):
		return "Connection timed out"
	case errors.Is(err, rawapi.ErrRoute):
		return "No route to host"
	case err == nil:
		return "Connection closed"
	}
	return err.Error()
}
