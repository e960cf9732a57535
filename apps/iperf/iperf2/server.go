package iperf2

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/lwgo/lwgo/rawapi"
)

// Result is one finished test, as either side saw it.
type Result struct {
	ID            int
	Local, Remote netip.AddrPort
	Bytes         int64           // bytes received (server) or queued (client), headers included
	Duration      rawapi.Duration // from the connection to the end of the data
	Header        bool            // the stream began with an iperf 2 test header
	Err           error           // the connection's error, if it did not end cleanly
}

// Server is an iperf 2 TCP server on the raw API, like lwIP's lwiperf: it
// counts what each connection sends until the client closes and prints
// iperf 2's report. Tests that ask for the reverse or dual direction (-r,
// -d) are counted one way only.
type Server struct {
	s      *rawapi.Stack
	out    io.Writer
	format byte
	l      rawapi.TCPListener
	conns  []srvConn
	nextID int
	// OnResult, when set, receives each finished test.
	OnResult func(Result)
}

// srvConn is one test connection.
type srvConn struct {
	rawapi.DefaultHandler
	srv    *Server
	used   bool
	id     int
	c      rawapi.TCP
	local  netip.AddrPort
	remote netip.AddrPort
	start  rawapi.Time
	bytes  int64
	hdr    [maxHdrLen]byte
	hn     int // header bytes collected
	need   int // header bytes wanted: 4 to read the flags, then the header's length; 0: done
	header bool
}

// NewServer listens on port of s with room for maxConns tests at once.
func NewServer(s *rawapi.Stack, port uint16, maxConns int, out io.Writer, format byte) (*Server, error) {
	srv := &Server{s: s, out: out, format: format, conns: make([]srvConn, maxConns), nextID: 1}
	c, err := s.NewTCP()
	if err != nil {
		return nil, err
	}
	if err := c.Bind(netip.Addr{}, port); err != nil {
		c.Close()
		return nil, err
	}
	if srv.l, err = c.Listen(0); err != nil {
		c.Close()
		return nil, err
	}
	srv.l.SetAcceptor(srv)
	banner(out, fmt.Sprintf("Server listening on TCP port %d", port), rcvBuf(s))
	return srv, nil
}

// rcvBuf is the receive window the stack gives each connection.
func rcvBuf(s *rawapi.Stack) int {
	if n := s.Config().TCP.RcvBuf; n > 0 {
		return n
	}
	return 256 << 10
}

// Close stops listening and resets the tests in progress.
func (srv *Server) Close() {
	srv.l.Close()
	for i := range srv.conns {
		if srv.conns[i].used {
			srv.conns[i].used = false
			srv.conns[i].c.Abort()
		}
	}
}

// Conns appends the connections of the tests in progress to dst.
func (srv *Server) Conns(dst []rawapi.TCP) []rawapi.TCP {
	for i := range srv.conns {
		if srv.conns[i].used {
			dst = append(dst, srv.conns[i].c)
		}
	}
	return dst
}

// Accept implements rawapi.Acceptor.
func (srv *Server) Accept(l rawapi.TCPListener, c rawapi.TCP, err error) error {
	if err != nil {
		return err
	}
	for i := range srv.conns {
		sc := &srv.conns[i]
		if sc.used {
			continue
		}
		*sc = srvConn{srv: srv, used: true, id: srv.nextID, c: c, local: c.LocalAddr(), remote: c.RemoteAddr(),
			start: srv.s.Now(), need: 4}
		srv.nextID++
		connected(srv.out, sc.id, sc.local, sc.remote)
		return c.SetHandler(sc)
	}
	return rawapi.ErrMem // busy: reset
}

// Recv implements rawapi.TCPHandler: count, and answer the test header.
func (sc *srvConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if !sc.used || c != sc.c {
		if p != nil {
			p.Free()
		}
		return nil
	}
	if p == nil {
		sc.finish(nil)
		return c.Close()
	}
	b := p.Bytes()
	sc.bytes += int64(len(b))
	for len(b) > 0 && sc.need > 0 {
		k := copy(sc.hdr[sc.hn:sc.need], b)
		sc.hn += k
		b = b[k:]
		if sc.hn < sc.need {
			break
		}
		if sc.need == 4 {
			n, ext := headerLen(uint32(sc.hdr[0])<<24 | uint32(sc.hdr[1])<<16 | uint32(sc.hdr[2])<<8 | uint32(sc.hdr[3]))
			if n == 0 {
				sc.need = 0 // plain data
				break
			}
			sc.need, sc.header = n, true
			if ext {
				// iperf 2.1 clients wait for client_hdr_ack.
				var ack [ackLen]byte
				c.Write(appendAck(ack[:0]), rawapi.WriteCopy)
			}
			continue
		}
		sc.need = 0 // the whole header is in
	}
	c.Recved(p.Len())
	p.Free()
	return nil
}

// Err implements rawapi.TCPHandler.
func (sc *srvConn) Err(c rawapi.TCP, err error) {
	if sc.used && c == sc.c {
		sc.finish(err)
	}
}

func (sc *srvConn) finish(err error) {
	sc.used = false
	r := Result{ID: sc.id, Local: sc.local, Remote: sc.remote, Bytes: sc.bytes,
		Duration: sc.srv.s.Now().Sub(sc.start), Header: sc.header, Err: err}
	result(sc.srv.out, r.ID, r.Bytes, r.Duration, sc.srv.format)
	if err != nil {
		fmt.Fprintf(sc.srv.out, "[%3d] connection ended: %v\n", r.ID, err)
	}
	if sc.srv.OnResult != nil {
		sc.srv.OnResult(r)
	}
}
