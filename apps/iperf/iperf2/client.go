package iperf2

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/lwgo/lwgo/rawapi"
)

// ClientConfig describes a test.
type ClientConfig struct {
	Server netip.AddrPort
	// Time is the test's duration (-t), unless Amount is set.
	Time rawapi.Duration
	// Amount is the number of bytes to send (-n), header included.
	Amount int64
	// Len is the size of each write (-l). Default 128 KiB.
	Len    int
	Format byte
	Out    io.Writer
}

// Client is an iperf 2 TCP client on the raw API: it sends the iperf 2.1
// test header, then data, for Time or Amount, closes, and reports like iperf
// 2 once the server has closed too.
type Client struct {
	rawapi.DefaultHandler
	s      *rawapi.Stack
	cfg    ClientConfig
	c      rawapi.TCP
	buf    []byte // one write's worth of pattern
	hdr    []byte // the test header, sent first
	hoff   int
	off    int // into buf
	sent   int64
	start  rawapi.Time
	end    rawapi.Time
	acked  int // bytes the server sent (its client_hdr_ack)
	local  netip.AddrPort
	state  int
	result Result
}

// Client states.
const (
	cConnecting = iota
	cSending
	cClosing // FIN sent, waiting for the server's
	cDone
)

// NewClient prepares a test on s.
func NewClient(s *rawapi.Stack, cfg ClientConfig) *Client {
	if cfg.Len <= 0 {
		cfg.Len = 128 << 10
	}
	if cfg.Time <= 0 && cfg.Amount <= 0 {
		cfg.Time = 10 * rawapi.Second
	}
	cl := &Client{s: s, cfg: cfg, buf: make([]byte, cfg.Len)}
	for i := range cl.buf {
		cl.buf[i] = '0' + byte(i%10) // iperf's pattern
	}
	h := header{threads: 1, port: int32(cfg.Server.Port()), bufLen: int32(cfg.Len)}
	if cfg.Amount > 0 {
		h.amount = int32(min(cfg.Amount, 1<<31-1))
	} else {
		h.amount = -int32(min(cfg.Time/(10*rawapi.Millisecond), 1<<31-1))
	}
	cl.hdr = appendHeader(nil, h)
	return cl
}

// Start connects.
func (cl *Client) Start() error {
	banner(cl.cfg.Out, fmt.Sprintf("Client connecting to %v, TCP port %d", cl.cfg.Server.Addr(), cl.cfg.Server.Port()), rcvBuf(cl.s))
	c, err := cl.s.NewTCP()
	if err != nil {
		return err
	}
	cl.c = c
	c.SetHandler(cl)
	if err := c.Connect(cl.cfg.Server); err != nil {
		c.Close()
		return err
	}
	return nil
}

// Done reports whether the test is over; Result tells how it went.
func (cl *Client) Done() bool { return cl.state == cDone }

// Result returns the test's outcome once Done.
func (cl *Client) Result() Result { return cl.result }

// Tick ends a timed test at its time; it returns the next deadline. Call it
// from the loop beside Stack.Poll.
func (cl *Client) Tick(now rawapi.Time) rawapi.Time {
	if cl.state != cSending || cl.cfg.Amount > 0 {
		return rawapi.Never
	}
	end := cl.start.Add(cl.cfg.Time)
	if now >= end {
		cl.stop()
		return rawapi.Never
	}
	return end
}

// Connected implements rawapi.TCPHandler.
func (cl *Client) Connected(c rawapi.TCP, err error) error {
	cl.state, cl.start, cl.local = cSending, cl.s.Now(), c.LocalAddr()
	connected(cl.cfg.Out, 1, cl.local, c.RemoteAddr())
	return cl.push()
}

// Sent implements rawapi.TCPHandler.
func (cl *Client) Sent(c rawapi.TCP, n int) error { return cl.push() }

// push writes what the send buffer takes.
func (cl *Client) push() error {
	c := cl.c
	for cl.state == cSending {
		if cl.cfg.Amount == 0 && cl.s.Now() >= cl.start.Add(cl.cfg.Time) {
			cl.stop()
			break
		}
		left := int64(1) << 62
		if cl.cfg.Amount > 0 {
			left = cl.cfg.Amount - cl.sent
			if left <= 0 && cl.hoff == len(cl.hdr) {
				cl.stop()
				break
			}
		}
		room := c.SendBuffer()
		if room == 0 {
			break
		}
		var p []byte
		if cl.hoff < len(cl.hdr) {
			p = cl.hdr[cl.hoff:] // the header goes out whole, whatever -n says
		} else {
			p = cl.buf[cl.off:]
			p = p[:min(int64(len(p)), left)]
		}
		p = p[:min(len(p), room)]
		if err := c.Write(p, rawapi.WriteCopy); err != nil {
			return err
		}
		if cl.hoff < len(cl.hdr) {
			cl.hoff += len(p)
		} else {
			cl.off = (cl.off + len(p)) % len(cl.buf)
		}
		cl.sent += int64(len(p))
	}
	return nil
}

// stop ends the sending: FIN after the data.
func (cl *Client) stop() {
	if cl.state != cSending {
		return
	}
	cl.state = cClosing
	cl.c.CloseWrite()
}

// Recv implements rawapi.TCPHandler: the server's acknowledgment of the
// header, then its FIN.
func (cl *Client) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		cl.end = cl.s.Now()
		cl.finish(nil)
		return c.Close()
	}
	cl.acked += p.Len()
	c.Recved(p.Len())
	p.Free()
	return nil
}

// Err implements rawapi.TCPHandler.
func (cl *Client) Err(c rawapi.TCP, err error) {
	cl.end = cl.s.Now()
	cl.finish(err)
}

func (cl *Client) finish(err error) {
	if cl.state == cDone {
		return
	}
	if cl.state == cConnecting {
		cl.start = cl.end
	}
	cl.state = cDone
	cl.result = Result{ID: 1, Local: cl.local, Remote: cl.cfg.Server, Bytes: cl.sent, Duration: cl.end.Sub(cl.start),
		Header: true, Err: err}
	if err != nil {
		fmt.Fprintf(cl.cfg.Out, "connect or transfer failed: %v\n", err)
		if cl.sent == 0 {
			return
		}
	}
	result(cl.cfg.Out, 1, cl.sent, cl.result.Duration, cl.cfg.Format)
}
