package main

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/rawapi"
)

// A scripted HTTP server on stack B for the client's tests: it parses
// requests (head and Content-Length body), asks a handler for the reply,
// and does what the reply says.

type testReq struct {
	method, target, proto string
	header                map[string]string // lower-case names
	body                  []byte
	conn                  int // connection number, from 1
}

type testResp struct {
	raw   string // bytes to send
	close bool   // close (FIN) after sending raw
	reset bool   // reset after sending raw
	stall bool   // send nothing, keep the connection
}

type testServer struct {
	handler func(*testReq) testResp
	conns   int
	reqs    []*testReq
	errs    []string
}

func (s *testServer) listen(t *testing.T, w *apptest.World, port uint16) {
	t.Helper()
	c, err := w.B.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(netip.Addr{}, port); err != nil {
		t.Fatal(err)
	}
	l, err := c.Listen(8)
	if err != nil {
		t.Fatal(err)
	}
	l.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
		if err != nil {
			return err
		}
		s.conns++
		return c.SetHandler(&testConn{s: s, id: s.conns})
	}))
}

type testConn struct {
	rawapi.DefaultHandler
	s       *testServer
	id      int
	in      []byte
	out     []byte
	closing bool
	reset   bool
	stalled bool
}

func (h *testConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		if len(h.out) == 0 {
			return c.Close()
		}
		h.closing = true
		return nil
	}
	h.in = append(h.in, p.Bytes()...)
	c.Recved(p.Len())
	p.Free()
	for !h.stalled && !h.closing {
		end := bytes.Index(h.in, []byte("\r\n\r\n"))
		if end < 0 {
			break
		}
		lines := strings.Split(string(h.in[:end]), "\r\n")
		f := strings.Fields(lines[0])
		if len(f) != 3 {
			h.s.errs = append(h.s.errs, "bad request line "+lines[0])
			c.Abort()
			return rawapi.ErrAbort
		}
		r := &testReq{method: f[0], target: f[1], proto: f[2], header: map[string]string{}, conn: h.id}
		for _, l := range lines[1:] {
			k, v, _ := strings.Cut(l, ":")
			r.header[strings.ToLower(k)] = strings.TrimSpace(v)
		}
		n, _ := strconv.Atoi(r.header["content-length"])
		if len(h.in) < end+4+n {
			break
		}
		r.body = append([]byte(nil), h.in[end+4:end+4+n]...)
		h.in = h.in[end+4+n:]
		h.s.reqs = append(h.s.reqs, r)
		resp := h.s.handler(r)
		switch {
		case resp.stall:
			h.stalled = true
		case resp.reset:
			h.out = append(h.out, resp.raw...)
			h.reset = true
		default:
			h.out = append(h.out, resp.raw...)
			h.closing = resp.close
		}
	}
	return h.push(c)
}

func (h *testConn) Sent(c rawapi.TCP, n int) error { return h.push(c) }

func (h *testConn) push(c rawapi.TCP) error {
	if n := min(len(h.out), c.SendBuffer()); n > 0 {
		if err := c.Write(h.out[:n], rawapi.WriteCopy); err != nil {
			return err
		}
		h.out = h.out[n:]
	}
	if len(h.out) == 0 {
		switch {
		case h.reset:
			c.Output()
			c.Abort()
			return rawapi.ErrAbort
		case h.closing:
			return c.Close()
		}
	}
	return nil
}

// ok is a 200 response with body and Content-Length.
func ok(body string, extra ...string) testResp {
	return testResp{raw: "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		strings.Join(append(extra, ""), "\r\n") + "\r\n" + body}
}

func status(code int, extra ...string) testResp {
	return testResp{raw: "HTTP/1.1 " + strconv.Itoa(code) + " X\r\nContent-Length: 0\r\n" +
		strings.Join(append(extra, ""), "\r\n") + "\r\n"}
}

// memFiles is an Env.Create that keeps -o files in memory.
type memFiles struct {
	files map[string]*bytes.Buffer
	fail  bool // writes fail
}

type memFile struct {
	b    *bytes.Buffer
	fail bool
}

func (f memFile) Write(p []byte) (int, error) {
	if f.fail {
		return 0, errors.New("disk full")
	}
	return f.b.Write(p)
}
func (memFile) Close() error { return nil }

func (m *memFiles) create(name string) (io.WriteCloser, error) {
	if strings.Contains(name, "/nonexistent/") {
		return nil, errors.New("no such directory")
	}
	b := &bytes.Buffer{}
	m.files[name] = b
	return memFile{b, m.fail}, nil
}

// result is what one run of the client produced.
type result struct {
	code           int
	stdout, stderr string
	files          map[string]*bytes.Buffer
}

// curlRig is a World with the test server on B port 80 (and DNS on 53 when
// names are given).
type curlRig struct {
	t     *testing.T
	w     *apptest.World
	srv   *testServer
	names map[string]netip.Addr
	dns   *rawapi.DNS
	files *memFiles
	limit rawapi.Duration
}

func newCurlRig(t *testing.T, handler func(*testReq) testResp) *curlRig {
	t.Helper()
	r := &curlRig{t: t, w: apptest.New(t, apptest.Options{}), srv: &testServer{handler: handler},
		files: &memFiles{files: map[string]*bytes.Buffer{}}, limit: 120 * rawapi.Second}
	r.srv.listen(t, r.w, 80)
	return r
}

// withDNS serves names from B's port 53 and gives the client a resolver.
func (r *curlRig) withDNS(names map[string]netip.Addr) *curlRig {
	r.names = names
	u, err := r.w.B.NewUDP()
	if err != nil {
		r.t.Fatal(err)
	}
	u.Bind(netip.Addr{}, 53)
	u.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		defer p.Free()
		q := p.Bytes()
		end := 12
		var labels []string
		for end < len(q) && q[end] != 0 {
			n := int(q[end])
			if end+1+n > len(q) {
				return
			}
			labels = append(labels, string(q[end+1:end+1+n]))
			end += 1 + n
		}
		end += 5
		if end > len(q) {
			return
		}
		resp := append([]byte(nil), q[:end]...)
		a, found := r.names[strings.Join(labels, ".")]
		resp[2], resp[3] = 0x81, 0x80
		resp[6], resp[7] = 0, 1
		if !found {
			resp[3] = 0x83
			resp[7] = 0
		} else {
			a4 := a.As4()
			resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, a4[:]...)
		}
		u.SendTo(resp, src)
	})
	d, err := rawapi.NewDNS(r.w.A, rawapi.DNSConfig{})
	if err != nil {
		r.t.Fatal(err)
	}
	d.SetServer(0, apptest.AddrB)
	r.dns = d
	return r
}

// curl runs the client with args (curl options and URLs) to the end.
func (r *curlRig) curl(args ...string) result {
	r.t.Helper()
	o, fwd, err := parseArgs(args, newFlagSet())
	if err != nil || len(fwd) != 0 {
		r.t.Fatalf("parseArgs %q: %v %q", args, err, fwd)
	}
	var stdout, stderr bytes.Buffer
	cl := NewClient(Env{Stack: r.w.A, DNS: r.dns, Stdout: &stdout, Stderr: &stderr, Create: r.files.create}, o)
	cl.Start()
	if !r.w.Run(r.limit, func(now rawapi.Time) {
		r.w.A.Poll(now)
		cl.Tick(now)
	}, cl.Done) {
		r.t.Fatalf("curl %q: not done after %v s of virtual time; stderr:\n%s", args, r.limit.Seconds(), stderr.String())
	}
	return result{code: cl.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), files: r.files.files}
}

// settle lets both stacks finish their connections and checks the pools.
func (r *curlRig) settle() {
	r.w.Step = 50 * rawapi.Millisecond
	r.w.Run(200*rawapi.Second, nil, nil)
	r.w.CheckPools(r.t)
}
