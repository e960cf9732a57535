package interop

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"net/netip"
	"strconv"
	"time"

	"github.com/lwgo/lwgo/rawapi"
)

// The lwgo side's applications, on the raw API. Everything here runs on the
// stack's goroutine (inside Poll, or in functions posted with rig.do).

// listen opens a listener on port whose connections get the handler newConn
// makes.
func (r *rig) listen(port uint16, newConn func() rawapi.TCPHandler) {
	r.tb.Helper()
	var err error
	r.do(func() {
		var c rawapi.TCP
		if c, err = r.s.NewTCP(); err != nil {
			return
		}
		if err = c.Bind(netip.Addr{}, port); err != nil {
			return
		}
		var l rawapi.TCPListener
		if l, err = c.Listen(16); err != nil {
			return
		}
		err = l.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
			if err != nil {
				return err
			}
			h := newConn()
			if err := c.SetHandler(h); err != nil {
				return err
			}
			if s, ok := h.(starter); ok {
				return s.Start(c)
			}
			return nil
		}))
	})
	if err != nil {
		r.tb.Fatalf("listen on %d: %v", port, err)
	}
}

// starter is a handler that speaks first: listen calls Start on accept.
type starter interface{ Start(c rawapi.TCP) error }

// udpEcho opens a UDP echo endpoint on port.
func (r *rig) udpEcho(port uint16) {
	r.tb.Helper()
	var err error
	r.do(func() {
		var u rawapi.UDP
		if u, err = r.s.NewUDP(); err != nil {
			return
		}
		if err = u.Bind(netip.Addr{}, port); err != nil {
			return
		}
		err = u.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
			u.SendTo(p.Bytes(), src)
			p.Free()
		})
	})
	if err != nil {
		r.tb.Fatalf("UDP echo on %d: %v", port, err)
	}
}

// echoConn sends back what it receives and closes after the peer's FIN.
type echoConn struct{ rawapi.DefaultHandler }

func (echoConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return c.Close()
	}
	if c.SendBuffer() < p.Len() {
		return rawapi.ErrMem // refused: offered again once Sent frees room
	}
	if err := c.Write(p.Bytes(), rawapi.WriteCopy); err != nil {
		return err
	}
	c.Recved(p.Len())
	p.Free()
	return nil
}

// discard counts what its connections receive.
type discard struct {
	bytes int64
	conns int
}

type discardConn struct {
	rawapi.DefaultHandler
	d *discard
}

func (h discardConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		h.d.conns++
		return c.Close()
	}
	h.d.bytes += int64(p.Len())
	c.Recved(p.Len())
	p.Free()
	return nil
}

// httpServer serves fixed bodies by path over HTTP/1.0-style responses
// (Content-Length, then close).
type httpServer struct {
	files  map[string][]byte
	served int      // responses completed
	errs   []string // protocol trouble seen
}

type httpConn struct {
	rawapi.DefaultHandler
	srv     *httpServer
	req     []byte
	hdr     []byte
	body    []byte
	off     int // bytes of hdr+body written
	started bool
	closed  bool
}

func (h *httpConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		if !h.started || h.closed {
			return c.Close()
		}
		return nil // the peer half-closed; we close once everything is written
	}
	c.Recved(p.Len())
	if !h.started {
		h.req = append(h.req, p.Bytes()...)
	}
	p.Free()
	if h.started {
		return nil
	}
	end := bytes.Index(h.req, []byte("\r\n\r\n"))
	if end < 0 {
		if len(h.req) > 8<<10 {
			h.srv.errs = append(h.srv.errs, "request header too long")
			c.Abort()
			return rawapi.ErrAbort
		}
		return nil
	}
	h.started = true
	line, _, _ := bytes.Cut(h.req, []byte("\r\n"))
	f := bytes.Fields(line)
	status := "200 OK"
	if len(f) < 2 || string(f[0]) != "GET" {
		status = "400 Bad Request"
	} else if b, ok := h.srv.files[string(f[1])]; ok {
		h.body = b
	} else {
		status = "404 Not Found"
	}
	h.hdr = []byte("HTTP/1.1 " + status + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
		strconv.Itoa(len(h.body)) + "\r\nConnection: close\r\n\r\n")
	return h.push(c)
}

func (h *httpConn) Sent(c rawapi.TCP, n int) error { return h.push(c) }

// push writes as much of the response as the send buffer takes; Sent calls
// it again as the peer acknowledges.
func (h *httpConn) push(c rawapi.TCP) error {
	total := len(h.hdr) + len(h.body)
	for h.off < total {
		room := c.SendBuffer()
		if room == 0 {
			break
		}
		var chunk []byte
		if h.off < len(h.hdr) {
			chunk = h.hdr[h.off:]
		} else {
			chunk = h.body[h.off-len(h.hdr):]
		}
		chunk = chunk[:min(len(chunk), room)]
		flags := rawapi.WriteCopy
		if h.off+len(chunk) < total {
			flags |= rawapi.WriteMore
		}
		if err := c.Write(chunk, flags); err != nil {
			h.srv.errs = append(h.srv.errs, "write: "+err.Error())
			return nil
		}
		h.off += len(chunk)
	}
	if h.off == total && !h.closed {
		h.closed = true
		h.srv.served++
		return c.Close()
	}
	return nil
}

func (h *httpConn) Err(c rawapi.TCP, err error) {
	if !h.closed {
		h.srv.errs = append(h.srv.errs, "connection error: "+err.Error())
	}
}

// fetchResult is what an lwgo HTTP client got.
type fetchResult struct {
	status  string
	length  int64 // Content-Length
	got     int64 // body bytes received
	sum     [32]byte
	elapsed time.Duration
	err     error
}

// httpClient fetches one URL path over one connection and hashes the body.
type httpClient struct {
	rawapi.DefaultHandler
	req    []byte
	hdr    []byte
	inBody bool
	res    fetchResult
	h      hash.Hash
	start  time.Time
	done   chan fetchResult
}

// fetch connects from lwgo to addr, GETs path and returns the result; it
// waits up to timeout.
func (r *rig) fetch(addr netip.AddrPort, path string, timeout time.Duration) fetchResult {
	r.tb.Helper()
	h := &httpClient{
		req:  []byte("GET " + path + " HTTP/1.0\r\nHost: " + addr.String() + "\r\nUser-Agent: lwgo\r\n\r\n"),
		h:    sha256.New(),
		done: make(chan fetchResult, 1),
	}
	done := h.done // finish clears h.done on the stack's goroutine
	var err error
	r.do(func() {
		var c rawapi.TCP
		if c, err = r.s.NewTCP(); err != nil {
			return
		}
		c.SetHandler(h)
		h.start = time.Now()
		err = c.Connect(addr)
	})
	if err != nil {
		r.tb.Fatalf("connect to %v: %v", addr, err)
	}
	select {
	case res := <-done:
		return res
	case <-time.After(timeout):
		r.tb.Fatalf("fetch %s from %v: not done after %v", path, addr, timeout)
	}
	return fetchResult{}
}

func (h *httpClient) Connected(c rawapi.TCP, err error) error {
	return c.Write(h.req, rawapi.WriteCopy)
}

func (h *httpClient) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		h.finish(nil)
		return c.Close()
	}
	b := p.Bytes()
	if !h.inBody {
		h.hdr = append(h.hdr, b...)
		end := bytes.Index(h.hdr, []byte("\r\n\r\n"))
		if end < 0 {
			if len(h.hdr) > 16<<10 {
				h.finish(errors.New("response header too long"))
				c.Abort()
				p.Free()
				return rawapi.ErrAbort
			}
			c.Recved(p.Len())
			p.Free()
			return nil
		}
		h.inBody = true
		h.parseHeader(h.hdr[:end])
		b = h.hdr[end+4:]
	}
	h.h.Write(b)
	h.res.got += int64(len(b))
	c.Recved(p.Len())
	p.Free()
	return nil
}

func (h *httpClient) parseHeader(hdr []byte) {
	lines := bytes.Split(hdr, []byte("\r\n"))
	if f := bytes.SplitN(lines[0], []byte(" "), 2); len(f) == 2 {
		h.res.status = string(f[1])
	}
	h.res.length = -1
	for _, l := range lines[1:] {
		k, v, ok := bytes.Cut(l, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("Content-Length")) {
			h.res.length, _ = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
}

func (h *httpClient) Err(c rawapi.TCP, err error) { h.finish(err) }

func (h *httpClient) finish(err error) {
	if h.done == nil {
		return
	}
	h.res.err = err
	h.res.elapsed = time.Since(h.start)
	copy(h.res.sum[:], h.h.Sum(nil))
	h.done <- h.res
	h.done = nil
}
