package httpserver

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/rawapi"
)

// rig is an httpd on stack A, driven by its Seq, and HTTP clients on B.
type rig struct {
	w   *apptest.World
	q   *rawapi.Seq
	srv *Server
	log bytes.Buffer
}

func newRig(t *testing.T, cfg Config, o apptest.Options) *rig {
	t.Helper()
	r := &rig{w: apptest.New(t, o)}
	cfg.Log = &r.log
	r.q = r.w.Seq(cfg.SeqConfig())
	var err error
	if r.srv, err = NewServer(r.q, cfg); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) addr() netip.AddrPort { return netip.AddrPortFrom(apptest.AddrA, r.srv.cfg.Port) }

// dial starts a client on B sending req.
func (r *rig) dial(t *testing.T, req string) *apptest.Client {
	return (&apptest.Client{Send: []byte(req)}).Dial(t, r.w, r.addr())
}

// serveUntil serves until all clients are done or limit of virtual time
// passes; it fails the test on the limit.
func (r *rig) serveUntil(t *testing.T, limit rawapi.Duration, cs ...*apptest.Client) {
	t.Helper()
	end := r.w.Clk.Now().Add(limit)
	r.srv.Serve(func() bool {
		if r.w.Clk.Now() > end {
			return true
		}
		for _, c := range cs {
			if !c.Done {
				return false
			}
		}
		return true
	})
	for i, c := range cs {
		if !c.Done {
			t.Fatalf("client %d not done after %d s of virtual time (got %d bytes)", i, limit.Seconds(), len(c.Got))
		}
	}
}

// settle closes the server, lets both stacks finish and checks the pools.
func (r *rig) settle(t *testing.T) {
	t.Helper()
	r.srv.Close()
	r.w.Step = 100 * rawapi.Millisecond
	r.q.Sleep(3 * 60 * rawapi.Second)
	r.w.CheckPools(t)
}

// response is one parsed HTTP response.
type response struct {
	status int
	header map[string]string
	body   []byte
}

// parseResponses splits b into responses; heads[i] says whether response i
// answers a HEAD (no body whatever Content-Length says).
func parseResponses(t *testing.T, b []byte, heads ...bool) []response {
	t.Helper()
	var rs []response
	for i := 0; len(b) > 0; i++ {
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			t.Fatalf("response %d: no end of head in %q", i, b[:min(len(b), 200)])
		}
		lines := strings.Split(string(b[:end]), "\r\n")
		b = b[end+4:]
		var r response
		var proto string
		if _, err := fmt.Sscanf(lines[0], "%s %d", &proto, &r.status); err != nil || proto != "HTTP/1.1" {
			t.Fatalf("response %d: status line %q", i, lines[0])
		}
		r.header = map[string]string{}
		for _, l := range lines[1:] {
			k, v, ok := strings.Cut(l, ": ")
			if !ok {
				t.Fatalf("response %d: header line %q", i, l)
			}
			r.header[strings.ToLower(k)] = v
		}
		n, err := strconv.Atoi(r.header["content-length"])
		if err != nil {
			t.Fatalf("response %d: Content-Length %q", i, r.header["content-length"])
		}
		if i < len(heads) && heads[i] {
			n = 0
		}
		if n > len(b) {
			t.Fatalf("response %d: body of %d bytes, %d arrived", i, n, len(b))
		}
		r.body, b = b[:n], b[n:]
		rs = append(rs, r)
	}
	return rs
}

func bigPatternSHA(n int) [32]byte {
	h := sha256.New()
	chunk := bigChunk(1 << 16)
	for n > 0 {
		k := min(n, len(chunk))
		h.Write(chunk[:k])
		n -= k
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func TestServesIndexAndBigBody(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	idx := r.dial(t, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	const size = 3_000_017
	h := sha256.New()
	var got int
	var head []byte
	big := &apptest.Client{Send: []byte("GET /big?size=" + strconv.Itoa(size) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")}
	big.OnData = func(p []byte) {
		if head == nil || !bytes.Contains(head, []byte("\r\n\r\n")) {
			head = append(head, p...)
			if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
				body := head[i+4:]
				head = head[:i+4]
				h.Write(body)
				got += len(body)
			}
			return
		}
		h.Write(p)
		got += len(p)
	}
	big.Dial(t, r.w, r.addr())
	r.serveUntil(t, 120*rawapi.Second, idx, big)

	rs := parseResponses(t, idx.Got)
	if len(rs) != 1 || rs[0].status != 200 || !bytes.Equal(rs[0].body, indexPage) ||
		rs[0].header["connection"] != "close" || !strings.HasPrefix(rs[0].header["content-type"], "text/html") {
		t.Fatalf("index: %+v", rs)
	}
	if !idx.EOF || idx.ConnErr != nil {
		t.Fatalf("index connection: EOF %v, err %v; want a graceful close", idx.EOF, idx.ConnErr)
	}
	if !bytes.Contains(head, []byte("Content-Length: "+strconv.Itoa(size)+"\r\n")) ||
		!bytes.HasPrefix(head, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Fatalf("big head: %q", head)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	if got != size || sum != bigPatternSHA(size) {
		t.Fatalf("big body: %d bytes, sha256 %x; want %d bytes, %x", got, sum, size, bigPatternSHA(size))
	}
	if !big.EOF || big.ConnErr != nil {
		t.Fatalf("big connection: EOF %v, err %v", big.EOF, big.ConnErr)
	}
	if !strings.Contains(r.log.String(), "192.0.2.2 GET /big?size=3000017 200\n") {
		t.Fatalf("log:\n%s", r.log.String())
	}
	r.settle(t)
}

func TestBigBodyOverALossyWire(t *testing.T) {
	lossy := fault.Config{DropRate: 0.02, ReorderRate: 0.02, DuplicateRate: 0.01}
	ab, ba := lossy, lossy
	ab.Seed, ba.Seed = 5, 6
	r := newRig(t, Config{}, apptest.Options{FaultAB: ab, FaultBA: ba})
	const size = 500_000
	c := r.dial(t, "GET /big?size="+strconv.Itoa(size)+" HTTP/1.1\r\nConnection: close\r\n\r\n")
	r.serveUntil(t, 300*rawapi.Second, c)
	rs := parseResponses(t, c.Got)
	if len(rs) != 1 || len(rs[0].body) != size || sha256.Sum256(rs[0].body) != bigPatternSHA(size) {
		t.Fatalf("got %d responses, body %d bytes", len(rs), len(rs[0].body))
	}
}

func TestKeepAliveAndPipelining(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	c := r.dial(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"+
		"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /big?size=100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	r.serveUntil(t, 30*rawapi.Second, c)
	rs := parseResponses(t, c.Got, false, true, false)
	if len(rs) != 3 {
		t.Fatalf("%d responses, want 3", len(rs))
	}
	if rs[0].status != 200 || rs[0].header["connection"] != "keep-alive" || !bytes.Equal(rs[0].body, indexPage) {
		t.Fatalf("first: %+v", rs[0])
	}
	if rs[1].status != 200 || rs[1].header["content-length"] != strconv.Itoa(len(indexPage)) || len(rs[1].body) != 0 {
		t.Fatalf("HEAD: %+v", rs[1])
	}
	if rs[2].status != 200 || rs[2].header["connection"] != "close" || string(rs[2].body) != bigAlphabet+bigAlphabet[:36] {
		t.Fatalf("third: %+v", rs[2])
	}
	if r.srv.Stats.Accepted != 1 || r.srv.Stats.Requests != 3 {
		t.Fatalf("stats %+v", r.srv.Stats)
	}
	r.settle(t)
}

func TestMalformedRequests(t *testing.T) {
	long := "GET / HTTP/1.1\r\nX-Long: " + strings.Repeat("a", 5000) + "\r\n\r\n"
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"garbage", "garbage\r\n\r\n", 400},
		{"http09", "GET /\r\n\r\n", 400},
		{"relative-target", "GET index.html HTTP/1.1\r\n\r\n", 400},
		{"lowercase-method", "get / HTTP/1.1\r\n\r\n", 400},
		{"control-in-target", "GET /a\x01b HTTP/1.1\r\n\r\n", 400},
		{"http2", "GET / HTTP/2.0\r\n\r\n", 505},
		{"post", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405},
		{"not-found", "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n", 404},
		{"bad-size", "GET /big?size=12a HTTP/1.1\r\n\r\n", 400},
		{"no-size", "GET /big HTTP/1.1\r\n\r\n", 400},
		{"huge-size", "GET /big?size=99999999999999999999 HTTP/1.1\r\n\r\n", 400},
		{"header-without-colon", "GET / HTTP/1.1\r\nBad header\r\n\r\n", 400},
		{"space-before-colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400},
		{"oversized-head", long, 431},
		{"leading-crlf", "\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n", 200},
		{"bare-lf", "GET / HTTP/1.1\nConnection: close\n\n", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{}, apptest.Options{})
			c := r.dial(t, tc.req)
			r.serveUntil(t, 30*rawapi.Second, c)
			rs := parseResponses(t, c.Got)
			if len(rs) != 1 || rs[0].status != tc.status {
				t.Fatalf("got %q, want one %d response", c.Got, tc.status)
			}
			if tc.status != 200 && tc.status != 404 && rs[0].header["connection"] != "close" {
				t.Fatalf("error response keeps the connection: %v", rs[0].header)
			}
			if tc.status == 405 && rs[0].header["allow"] != "GET, HEAD" {
				t.Fatalf("405 without Allow: %v", rs[0].header)
			}
			if !c.EOF || c.ConnErr != nil {
				t.Fatalf("connection ended with EOF %v, err %v; want a graceful close", c.EOF, c.ConnErr)
			}
			r.settle(t)
		})
	}
}

func TestStalledClientsDoNotBlockOthers(t *testing.T) {
	const timeout = 5 * rawapi.Second
	r := newRig(t, Config{IdleTimeout: timeout, MaxClients: 4}, apptest.Options{})
	silent := r.dial(t, "")                 // connects, says nothing
	partial := r.dial(t, "GET / HT")        // stops in the request line
	reader := &apptest.Client{NoRead: true, // asks for a lot and reads nothing
		Send: []byte("GET /big?size=50000000 HTTP/1.1\r\n\r\n")}
	reader.Dial(t, r.w, r.addr())
	r.q.Sleep(500 * rawapi.Millisecond)
	start := r.w.Clk.Now()
	normal := r.dial(t, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
	r.serveUntil(t, 30*rawapi.Second, normal)
	if d := r.w.Clk.Now().Sub(start); d >= timeout/2 {
		t.Fatalf("a normal client beside three stalled ones took %d ms", d.Milliseconds())
	}
	if rs := parseResponses(t, normal.Got); len(rs) != 1 || rs[0].status != 200 {
		t.Fatalf("normal client: %q", normal.Got)
	}
	r.serveUntil(t, 3*timeout, silent, partial)
	end := r.w.Clk.Now().Add(timeout) // serve until the reader's abort
	r.srv.Serve(func() bool { return r.w.Clk.Now() > end })
	if !silent.EOF || len(silent.Got) != 0 {
		t.Fatalf("silent client: EOF %v, got %q; want a close without a response", silent.EOF, silent.Got)
	}
	if rs := parseResponses(t, partial.Got); len(rs) != 1 || rs[0].status != 408 {
		t.Fatalf("partial client: %q, want 408", partial.Got)
	}
	if r.srv.Stats.Timeouts != 3 || r.srv.Stats.Aborted != 1 {
		t.Fatalf("%d timeouts, %d aborted; want 3, 1", r.srv.Stats.Timeouts, r.srv.Stats.Aborted)
	}
	for i := range r.srv.cl {
		if r.srv.cl[i].state != stFree {
			t.Fatalf("slot %d still busy", i)
		}
	}
	if reader.ConnErr != rawapi.ErrReset {
		t.Fatalf("the non-reading client ended with %v, want the server's reset", reader.ConnErr)
	}
	r.settle(t)
}

func TestManyConnectionsInTurn(t *testing.T) {
	r := newRig(t, Config{MaxClients: 3, Backlog: 4}, apptest.Options{})
	const total = 60
	var cs []*apptest.Client
	// Keep at most four clients in flight: more than the server serves at
	// once, no more than its backlog (a served client is done before the
	// server has seen its FIN and freed its slot).
	r.w.OnIdle = append(r.w.OnIdle, func() {
		inFlight := 0
		for _, c := range cs {
			if !c.Done {
				inFlight++
			}
		}
		for len(cs) < total && inFlight < 4 {
			path := "/"
			if len(cs)%3 == 1 {
				path = "/big?size=" + strconv.Itoa(10_000*len(cs))
			} else if len(cs)%3 == 2 {
				path = "/missing"
			}
			cs = append(cs, r.dial(t, "GET "+path+" HTTP/1.1\r\nConnection: close\r\n\r\n"))
			inFlight++
		}
	})
	r.srv.Serve(func() bool {
		if len(cs) < total {
			return false
		}
		for _, c := range cs {
			if !c.Done {
				return false
			}
		}
		return true
	})
	for i, c := range cs {
		rs := parseResponses(t, c.Got)
		want, size := 200, len(indexPage)
		switch i % 3 {
		case 1:
			size = 10_000 * i
		case 2:
			want, size = 404, len(notFoundPage)
		}
		if len(rs) != 1 || rs[0].status != want || len(rs[0].body) != size || c.ConnErr != nil {
			t.Fatalf("client %d: %d responses, err %v, got %q...", i, len(rs), c.ConnErr, c.Got[:min(len(c.Got), 100)])
		}
	}
	if r.srv.Stats.Accepted != total || r.srv.l.Refused() != 0 {
		t.Fatalf("accepted %d, refused %d", r.srv.Stats.Accepted, r.srv.l.Refused())
	}
	r.settle(t)
}

// TestNoAllocsPerRequest: a keep-alive request costs the server nothing on
// the heap (request logging off).
func TestNoAllocsPerRequest(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	r := newRig(t, Config{}, apptest.Options{})
	r.srv.cfg.Log = nil
	req := []byte("GET /big?size=5000 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	want := 0
	got := 0
	c := &apptest.Client{OnData: func(p []byte) { got += len(p) }}
	c.Dial(t, r.w, r.addr())
	done := func() bool { return got >= want }
	perRound := 2*len("HTTP/1.1 200 OK\r\nServer: lwgo-httpd\r\nContent-Length: \r\nConnection: keep-alive\r\n\r\n") +
		len("Content-Type: application/octet-stream\r\n") + 4 + 5000 +
		len("Content-Type: text/html; charset=utf-8\r\n") + len(strconv.Itoa(len(indexPage))) + len(indexPage)
	round := func() {
		c.Conn.Write(req, 0)
		c.Conn.Output()
		want += perRound
		r.srv.Serve(done)
	}
	round()
	if got != want {
		t.Fatalf("first round: got %d bytes, want %d", got, want)
	}
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 {
		t.Fatalf("a round of two requests allocates %v times, want 0", allocs)
	}
	if got != want {
		t.Fatalf("got %d bytes, want %d", got, want)
	}
}
