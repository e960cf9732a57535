package admin

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/rawapi"
)

// srvRig is the Server on stack A (with a StackSystem for A) and raw
// clients on stack B.
type srvRig struct {
	t      *testing.T
	w      *apptest.World
	app    *App
	srv    *Server
	sys    *StackSystem
	log    bytes.Buffer
	peak   int // most connections served at once
	peakQ  int
	addr   netip.AddrPort
	apply  []Settings
	closed bool
}

func newSrvRig(t *testing.T, sc ServerConfig, s Settings) *srvRig {
	t.Helper()
	r := &srvRig{t: t, w: apptest.New(t, apptest.Options{Config: rawapi.Config{PoolBufs: 1024,
		TCP: rawapi.TCPConfig{MaxPCBs: 256}}})}
	r.sys = &StackSystem{Stack: r.w.A, Netif: r.w.NA}
	var err error
	if r.app, err = NewApp(Config{Port: 80}, s, r.sys, r.w.A.Now); err != nil {
		t.Fatal(err)
	}
	sc.Log = &r.log
	if r.srv, err = NewServer(r.w.A, r.app, sc); err != nil {
		t.Fatal(err)
	}
	r.addr = netip.AddrPortFrom(apptest.AddrA, 80)
	r.w.OnIdle = append(r.w.OnIdle, func() {
		r.peak = max(r.peak, r.srv.Stats.Active)
		r.peakQ = max(r.peakQ, r.srv.Stats.Queued)
	})
	return r
}

func (r *srvRig) dial(req string) *apptest.Client {
	return (&apptest.Client{Send: []byte(req)}).Dial(r.t, r.w, r.addr)
}

// run runs until every client is done, or fails after limit.
func (r *srvRig) run(limit rawapi.Duration, cs ...*apptest.Client) {
	r.t.Helper()
	if !r.w.Run(limit, nil, func() bool {
		for _, c := range cs {
			if !c.Done {
				return false
			}
		}
		return true
	}) {
		for i, c := range cs {
			if !c.Done {
				r.t.Fatalf("client %d not done after %v s; got %q", i, limit.Seconds(), c.Got[:min(len(c.Got), 300)])
			}
		}
	}
}

// settle closes the server and checks that both stacks got every buffer back.
func (r *srvRig) settle() {
	r.t.Helper()
	r.w.Step = 100 * rawapi.Millisecond
	r.w.Run(150*rawapi.Second, nil, nil)
	if r.srv.Stats.Active != 0 || r.srv.Stats.Queued != 0 {
		r.t.Errorf("server still has %d active, %d queued connections", r.srv.Stats.Active, r.srv.Stats.Queued)
	}
	r.srv.Close()
	r.w.Run(5*rawapi.Second, nil, nil)
	r.w.CheckPools(r.t)
}

var auth = "Authorization: " + basic("admin", testPassword) + "\r\n"

// resp is a parsed response.
type resp struct {
	status int
	header map[string]string
	body   []byte
}

// parse splits b into responses (bodies by Content-Length).
func parse(t *testing.T, b []byte) []resp {
	t.Helper()
	var out []resp
	for len(b) > 0 {
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			t.Fatalf("no end of head in %q", b[:min(len(b), 200)])
		}
		lines := strings.Split(string(b[:end]), "\r\n")
		b = b[end+4:]
		f := strings.SplitN(lines[0], " ", 3)
		st, _ := strconv.Atoi(f[1])
		r := resp{status: st, header: map[string]string{}}
		for _, l := range lines[1:] {
			k, v, _ := strings.Cut(l, ": ")
			r.header[strings.ToLower(k)] = v
		}
		if st == 100 {
			continue
		}
		n, _ := strconv.Atoi(r.header["content-length"])
		if n > len(b) {
			t.Fatalf("body of %d, %d arrived", n, len(b))
		}
		r.body, b = b[:n], b[n:]
		out = append(out, r)
	}
	return out
}

func one(t *testing.T, c *apptest.Client) resp {
	t.Helper()
	rs := parse(t, c.Got)
	if len(rs) != 1 {
		t.Fatalf("%d responses: %q", len(rs), c.Got)
	}
	return rs[0]
}

func TestServeLoginPageAndChange(t *testing.T) {
	r := newSrvRig(t, ServerConfig{}, testSettings())
	c := r.dial("GET / HTTP/1.1\r\nHost: 192.0.2.1\r\nConnection: close\r\n\r\n")
	r.run(10*rawapi.Second, c)
	if got := one(t, c); got.status != 401 || got.header["www-authenticate"] == "" {
		t.Fatalf("%d %v", got.status, got.header)
	}
	c = r.dial("GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n" + auth + "Connection: close\r\n\r\n")
	r.run(10*rawapi.Second, c)
	page := one(t, c)
	cookie, _, _ := strings.Cut(page.header["set-cookie"], ";")
	if page.status != 200 || !strings.HasPrefix(cookie, sessionCookie+"=") || !c.EOF {
		t.Fatalf("%d %q", page.status, cookie)
	}
	i := bytes.Index(page.body, []byte(`name=csrf value="`))
	tok := string(page.body[i+17 : i+17+64])
	form := func(tok string) string {
		v := url.Values{}
		for k, x := range formValues(r.app.settings) {
			v.Set(k, x)
		}
		v.Set("csrf", tok)
		v.Set("hostname", "changed")
		return v.Encode()
	}
	post := func(body string) string {
		return "POST /config HTTP/1.1\r\nHost: 192.0.2.1\r\n" + auth + "Cookie: " + cookie +
			"\r\nOrigin: http://192.0.2.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	}
	c = r.dial(post(form(strings.Repeat("0", 64))))
	r.run(10*rawapi.Second, c)
	if got := one(t, c); got.status != 403 || r.app.settings.Hostname == "changed" {
		t.Fatalf("without the token: %d", got.status)
	}
	c = r.dial(post(form(tok)))
	r.run(10*rawapi.Second, c)
	if got := one(t, c); got.status != 303 || r.app.settings.Hostname != "changed" {
		t.Fatalf("with the token: %d %s", got.status, got.body)
	}
	if !strings.Contains(r.log.String(), "POST /config 303") {
		t.Errorf("log:\n%s", r.log.String())
	}
	r.settle()
}

func TestServeBadRequests(t *testing.T) {
	r := newSrvRig(t, ServerConfig{HeaderMax: 2048, BodyMax: 1024}, testSettings())
	for _, tc := range []struct {
		req    string
		status int
	}{
		{"GARBAGE\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400},
		{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 3000) + "\r\n\r\n", 431},
		{"GET /" + strings.Repeat("a", 3000), 414},
		{"POST /api/config HTTP/1.1\r\nHost: a\r\n" + auth + "Content-Length: 5000\r\n\r\n", 413},
		{"POST /api/config HTTP/1.1\r\nHost: a\r\n" + auth + "\r\n", 411},
		{"POST /api/config HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
	} {
		c := r.dial(tc.req)
		r.run(20*rawapi.Second, c)
		got := one(t, c)
		if got.status != tc.status || got.header["connection"] != "close" || !c.EOF {
			t.Errorf("%.40q: %d (connection %q, EOF %v), want %d", tc.req, got.status, got.header["connection"], c.EOF, tc.status)
		}
	}
	r.settle()
}

// TestServeStalledClients: a request that never completes gets 408; an
// idle kept connection is closed; a client that stops reading a large
// response is reset; a queued connection is not held forever.
func TestServeStalledClients(t *testing.T) {
	root := t.TempDir()
	big := make([]byte, 4<<20)
	os.WriteFile(filepath.Join(root, "big"), big, 0o644)
	s := testSettings()
	s.Apps.TFTPD = TFTPD{Root: root, Port: 69}
	r := newSrvRig(t, ServerConfig{ReadTimeout: 3 * rawapi.Second, IdleTimeout: 5 * rawapi.Second,
		WriteTimeout: 4 * rawapi.Second}, s)
	r.w.Step = 10 * rawapi.Millisecond
	start := r.w.Clk.Now()
	partial := r.dial("GET / HTTP/1.1\r\nHost: a\r\n")
	r.run(10*rawapi.Second, partial)
	if got := one(t, partial); got.status != 408 || r.w.Clk.Now().Sub(start) < 3*rawapi.Second {
		t.Fatalf("partial request: %d after %v s", got.status, r.w.Clk.Now().Sub(start).Seconds())
	}
	start = r.w.Clk.Now()
	idle := r.dial("GET /style.css HTTP/1.1\r\nHost: a\r\n" + auth + "\r\n")
	r.run(10*rawapi.Second, idle)
	if got := one(t, idle); got.status != 200 || !idle.EOF || r.w.Clk.Now().Sub(start) < 5*rawapi.Second {
		t.Fatalf("idle: %d EOF %v after %v s", got.status, idle.EOF, r.w.Clk.Now().Sub(start).Seconds())
	}
	reader := &apptest.Client{Send: []byte("GET /files/big HTTP/1.1\r\nHost: a\r\n" + auth + "\r\n"), NoRead: true}
	reader.Dial(t, r.w, r.addr)
	r.run(30*rawapi.Second, reader)
	if reader.ConnErr != rawapi.ErrReset || r.srv.Stats.Timeouts != 2 {
		t.Fatalf("stalled reader: %v, %d timeouts", reader.ConnErr, r.srv.Stats.Timeouts)
	}
	r.settle()
}

// TestServeManyClientsBounded: 100 clients at once; at most MaxConns are
// served at a time, the rest wait their turn, and every one gets its page.
func TestServeManyClientsBounded(t *testing.T) {
	r := newSrvRig(t, ServerConfig{MaxConns: 8, MaxQueued: 100, Backlog: 128}, testSettings())
	var cs []*apptest.Client
	for range 100 {
		cs = append(cs, r.dial("GET /api/status HTTP/1.1\r\nHost: a\r\n"+auth+"Connection: close\r\n\r\n"))
	}
	r.run(60*rawapi.Second, cs...)
	for i, c := range cs {
		if got := one(t, c); got.status != 200 || !bytes.Contains(got.body, []byte(`"uptime_seconds"`)) {
			t.Fatalf("client %d: %d", i, got.status)
		}
	}
	if r.peak != 8 || r.peakQ < 50 || r.srv.Stats.Requests != 100 {
		t.Fatalf("peak %d served, %d queued; %d requests", r.peak, r.peakQ, r.srv.Stats.Requests)
	}
	r.settle()
}

// TestServeOverflowIsReset: beyond MaxConns+MaxQueued, connections are
// reset at once.
func TestServeOverflowIsReset(t *testing.T) {
	r := newSrvRig(t, ServerConfig{MaxConns: 2, MaxQueued: 2, ReadTimeout: 2 * rawapi.Second, QueueTimeout: 60 * rawapi.Second}, testSettings())
	var hold, extra []*apptest.Client
	for range 4 {
		hold = append(hold, r.dial("GET / HTTP/1.1\r\n")) // never finished
	}
	r.w.Run(rawapi.Second, nil, nil)
	for range 3 {
		extra = append(extra, r.dial("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	}
	r.run(10*rawapi.Second, extra...)
	for i, c := range extra {
		if c.ConnErr != rawapi.ErrReset {
			t.Errorf("extra client %d: %v %q", i, c.ConnErr, c.Got)
		}
	}
	if r.srv.Stats.Refused != 3 {
		t.Errorf("%d refused", r.srv.Stats.Refused)
	}
	// The held ones time out in turn (408), queued ones after the first two.
	r.run(30*rawapi.Second, hold...)
	for i, c := range hold {
		if got := one(t, c); got.status != 408 {
			t.Errorf("held client %d: %d", i, got.status)
		}
	}
	r.settle()
}

func TestServePipelinedKeepAlive(t *testing.T) {
	r := newSrvRig(t, ServerConfig{}, testSettings())
	req := "GET /style.css HTTP/1.1\r\nHost: a\r\n" + auth + "\r\n"
	c := r.dial(req + "HEAD / HTTP/1.1\r\nHost: a\r\n" + auth + "\r\n" +
		"GET /api/csrf HTTP/1.1\r\nHost: a\r\n" + auth + "Connection: close\r\n\r\n")
	r.run(10*rawapi.Second, c)
	// HEAD has a Content-Length but no body: split by hand.
	got := c.Got
	i := bytes.Index(got, []byte("HTTP/1.1 200 OK\r\nDate"))
	j := bytes.Index(got[i+1:], []byte("HTTP/1.1 200 OK\r\nDate")) + i + 1
	k := bytes.LastIndex(got, []byte("HTTP/1.1 200 OK\r\nDate"))
	if i != 0 || j <= i || k <= j {
		t.Fatalf("three responses expected: %q", got)
	}
	if css := parse(t, got[:j]); len(css) != 1 || !bytes.Contains(css[0].body, []byte("font:")) {
		t.Fatal("first response")
	}
	head := got[j:k]
	if !bytes.HasSuffix(head, []byte("\r\n\r\n")) || !bytes.Contains(head, []byte("Content-Length: ")) {
		t.Fatalf("HEAD response %q", head)
	}
	if last := parse(t, got[k:]); len(last) != 1 || !bytes.Contains(last[0].body, []byte(`"token"`)) || !c.EOF {
		t.Fatal("third response")
	}
	r.settle()
}

func TestServeExpectContinue(t *testing.T) {
	r := newSrvRig(t, ServerConfig{}, testSettings())
	// The JSON API wants a session: fetch one.
	c := r.dial("GET /api/csrf HTTP/1.1\r\nHost: a\r\n" + auth + "Connection: close\r\n\r\n")
	r.run(10*rawapi.Second, c)
	got := one(t, c)
	cookie, _, _ := strings.Cut(got.header["set-cookie"], ";")
	tok := got.header["x-csrf-token"]
	if tok == "" {
		i := bytes.Index(got.body, []byte(`"token": "`))
		tok = string(got.body[i+10 : i+10+64])
	}
	body := `{"hostname":"via-api"}`
	head := "POST /api/config HTTP/1.1\r\nHost: a\r\n" + auth + "Cookie: " + cookie + "\r\nX-CSRF-Token: " + tok +
		"\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nConnection: close\r\n\r\n"
	c = &apptest.Client{}
	c.Send = []byte(head)
	c.Dial(t, r.w, r.addr)
	r.w.Run(rawapi.Second, nil, nil)
	if !bytes.Equal(c.Got, []byte("HTTP/1.1 100 Continue\r\n\r\n")) {
		t.Fatalf("before the body: %q", c.Got)
	}
	c.Conn.Write([]byte(body), rawapi.WriteCopy)
	c.Conn.Output()
	r.run(10*rawapi.Second, c)
	if rs := parse(t, c.Got); len(rs) != 1 || rs[0].status != 200 || r.app.settings.Hostname != "via-api" {
		t.Fatalf("%q", c.Got)
	}
	r.settle()
}

func TestServeFileDownload(t *testing.T) {
	root := t.TempDir()
	data := make([]byte, 5<<20+3)
	rand.NewChaCha8([32]byte{7}).Read(data)
	os.WriteFile(filepath.Join(root, "f.bin"), data, 0o644)
	s := testSettings()
	s.Apps.TFTPD = TFTPD{Root: root, Port: 69}
	r := newSrvRig(t, ServerConfig{}, s)
	h := sha256.New()
	n := 0
	c := &apptest.Client{Send: []byte("GET /files/f.bin HTTP/1.1\r\nHost: a\r\n" + auth + "Connection: close\r\n\r\n")}
	var head []byte
	c.OnData = func(p []byte) {
		if i := bytes.Index(head, []byte("\r\n\r\n")); i < 0 {
			head = append(head, p...)
			if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
				h.Write(head[i+4:])
				n += len(head) - i - 4
			}
			return
		}
		h.Write(p)
		n += len(p)
	}
	c.Dial(t, r.w, r.addr)
	r.run(60*rawapi.Second, c)
	if !bytes.Contains(head, []byte("Content-Length: "+strconv.Itoa(len(data)))) || n != len(data) ||
		[32]byte(h.Sum(nil)) != sha256.Sum256(data) {
		t.Fatalf("got %d of %d bytes; head %q", n, len(data), head)
	}
	r.settle()
}

// TestServeAddressChange: the API moves the stack to a new address; the
// response still arrives from the old one, and then the address changes.
func TestServeAddressChange(t *testing.T) {
	s := testSettings()
	s.Network = Network{Address: netip.MustParsePrefix("192.0.2.1/24")}
	r := newSrvRig(t, ServerConfig{}, s)
	g := r.app.g
	sid := newSessionID()
	body := `{"network":{"dhcp":false,"address":"192.0.2.77/24"}}`
	c := r.dial("POST /api/config HTTP/1.1\r\nHost: 192.0.2.1\r\n" + auth + "Cookie: " + sessionCookie + "=" + sid +
		"\r\nX-CSRF-Token: " + g.token(sid) + "\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
	r.run(10*rawapi.Second, c)
	if got := one(t, c); got.status != 200 || !bytes.Contains(got.body, []byte(`"network_change": true`)) {
		t.Fatalf("%d %s", got.status, got.body)
	}
	r.w.Run(2*rawapi.Second, nil, nil)
	if a := prefixOf(r.w.NA); a != netip.MustParsePrefix("192.0.2.77/24") {
		t.Fatalf("address now %v", a)
	}
	c = (&apptest.Client{Send: []byte("GET /style.css HTTP/1.1\r\nHost: a\r\n" + auth + "Connection: close\r\n\r\n")}).
		Dial(t, r.w, netip.MustParseAddrPort("192.0.2.77:80"))
	r.run(10*rawapi.Second, c)
	if got := one(t, c); got.status != 200 {
		t.Fatalf("at the new address: %d", got.status)
	}
	r.settle()
}
