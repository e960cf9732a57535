package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/httpconfig/admin"
	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/apps/iperf/iperf2"
	"github.com/lwgo/lwgo/rawapi"
)

// visorRig is visor's configuration server and services on stack A, polled
// by visor's loop, and clients on stack B.
type visorRig struct {
	t      *testing.T
	w      *apptest.World
	srv    *admin.Server
	loop   loop
	log    bytes.Buffer
	cookie string
	token  string
}

func newVisorRig(t *testing.T) *visorRig {
	r := &visorRig{t: t, w: apptest.New(t, apptest.Options{Config: rawapi.Config{PoolBufs: 1024, MaxUDPPCBs: 24,
		TCP: rawapi.TCPConfig{MaxPCBs: 256, SndBuf: 256 << 10, RcvBuf: 256 << 10}}})}
	svcs := services(&r.log)
	for _, sv := range svcs {
		if ss, ok := sv.(admin.StackService); ok {
			ss.Attach(r.w.A, r.w.NA)
		}
	}
	s := admin.Default()
	s.Password = "password1"
	s.Network = admin.Network{Address: netip.PrefixFrom(apptest.AddrA, 24)}
	sys := &admin.StackSystem{Stack: r.w.A, Netif: r.w.NA, Services: svcs}
	app, err := admin.NewApp(admin.Config{Port: 80}, s, sys, r.w.A.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Apply(admin.Settings{}, s); err != nil {
		t.Fatal(err)
	}
	if r.srv, err = admin.NewServer(r.w.A, app, admin.ServerConfig{Port: 80}); err != nil {
		t.Fatal(err)
	}
	r.loop = loop{s: r.w.A, services: svcs}
	r.cookie = "lwgo_session=" + strings.Repeat("cd", 16)
	st, body := r.api("GET", "/api/csrf", "")
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); st != 200 || err != nil || tok.Token == "" {
		t.Fatalf("csrf: %d %s %v", st, body, err)
	}
	r.token = tok.Token
	return r
}

func (r *visorRig) pollA(now rawapi.Time) { r.loop.Poll(now) }

// api makes one request of the configuration server over the wire.
func (r *visorRig) api(method, target, body string) (int, []byte) {
	r.t.Helper()
	req := method + " " + target + " HTTP/1.1\r\nHost: 192.0.2.1\r\nAuthorization: Basic " +
		base64.StdEncoding.EncodeToString([]byte("admin:password1")) + "\r\nCookie: " + r.cookie +
		"\r\nConnection: close\r\n"
	if r.token != "" {
		req += "X-CSRF-Token: " + r.token + "\r\n"
	}
	if body != "" {
		req += "Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	c := (&apptest.Client{Send: []byte(req + "\r\n" + body)}).Dial(r.t, r.w, netip.AddrPortFrom(apptest.AddrA, 80))
	if !r.w.Run(10*rawapi.Second, r.pollA, func() bool { return c.Done }) {
		r.t.Fatalf("%s %s: no response", method, target)
	}
	head, b, ok := bytes.Cut(c.Got, []byte("\r\n\r\n"))
	f := strings.Fields(string(head))
	if !ok || len(f) < 2 {
		r.t.Fatalf("%s %s: %q", method, target, c.Got)
	}
	st, _ := strconv.Atoi(f[1])
	return st, b
}

func (r *visorRig) configure(body string) {
	r.t.Helper()
	if st, b := r.api("POST", "/api/config", body); st != 200 {
		r.t.Fatalf("POST %s: %d %s", body, st, b)
	}
}

// service returns the status of the named service.
func (r *visorRig) service(name string) admin.ServiceStatus {
	r.t.Helper()
	st, b := r.api("GET", "/api/status", "")
	var s admin.Status
	if err := json.Unmarshal(b, &s); st != 200 || err != nil {
		r.t.Fatalf("status: %d %v %s", st, err, b)
	}
	if s.LastApply != "" {
		r.t.Fatalf("last apply: %s", s.LastApply)
	}
	for _, ss := range s.Services {
		if ss.Name == name {
			return ss
		}
	}
	r.t.Fatalf("no service %s in %+v", name, s.Services)
	return admin.ServiceStatus{}
}

// tftpGet reads name from A's port 69 in octet mode (no options, a
// perfect wire: no retransmissions); it reports what arrived and whether
// the transfer finished within limit.
func (r *visorRig) tftpGet(name string, limit rawapi.Duration) ([]byte, bool) {
	r.t.Helper()
	u, err := r.w.B.NewUDP()
	if err != nil {
		r.t.Fatal(err)
	}
	defer u.Close()
	u.Bind(netip.Addr{}, 0)
	var got []byte
	var block uint16
	done := false
	u.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, _ netip.Addr) {
		defer p.Free()
		b := p.Bytes()
		if done || len(b) < 4 || binary.BigEndian.Uint16(b) != 3 { // DATA
			if len(b) >= 2 && binary.BigEndian.Uint16(b) == 5 {
				r.t.Errorf("TFTP error %q", b[4:])
				done = true
			}
			return
		}
		if n := binary.BigEndian.Uint16(b[2:]); n == block+1 {
			block = n
			got = append(got, b[4:]...)
			done = len(b)-4 < 512
		}
		u.SendTo([]byte{0, 4, byte(block >> 8), byte(block)}, src) // ACK
	})
	rrq := append(append([]byte{0, 1}, name...), 0)
	rrq = append(append(rrq, "octet"...), 0)
	u.SendTo(rrq, netip.AddrPortFrom(apptest.AddrA, 69))
	r.w.Run(limit, r.pollA, func() bool { return done })
	return got, done
}

// TestTFTPAndIperfOnVisorsStack: tftpd and iperf, switched on through the
// configuration API, serve on visor's stack from visor's loop; switched off,
// their ports are closed.
func TestTFTPAndIperfOnVisorsStack(t *testing.T) {
	r := newVisorRig(t)
	if ss := r.service("tftpd"); ss.Running {
		t.Fatalf("tftpd runs before it is enabled: %+v", ss)
	}
	if _, ok := r.tftpGet("boot.img", 3*rawapi.Second); ok {
		t.Fatal("a TFTP transfer before tftpd is enabled")
	}

	dir := t.TempDir()
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	if err := os.WriteFile(filepath.Join(dir, "boot.img"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	root, _ := json.Marshal(dir)
	r.configure(`{"apps":{"tftpd":{"enabled":true,"root":` + string(root) + `}}}`)
	if ss := r.service("tftpd"); !ss.Running || ss.Port != 69 {
		t.Fatalf("tftpd: %+v", ss)
	}
	got, ok := r.tftpGet("boot.img", 30*rawapi.Second)
	if !ok || !bytes.Equal(got, data) {
		t.Fatalf("TFTP: done %v, %d of %d bytes\n%s", ok, len(got), len(data), r.log.String())
	}

	r.configure(`{"apps":{"iperf":{"enabled":true}}}`)
	if ss := r.service("iperf"); !ss.Running || ss.Port != 5001 {
		t.Fatalf("iperf: %+v", ss)
	}
	iperf := func() iperf2.Result {
		var out bytes.Buffer
		c := iperf2.NewClient(r.w.B, iperf2.ClientConfig{Server: netip.AddrPortFrom(apptest.AddrA, 5001),
			Amount: 2_000_000, Len: 8000, Out: &out})
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		tick := func(now rawapi.Time) { r.loop.Poll(now); c.Tick(now) }
		if !r.w.Run(30*rawapi.Second, tick, c.Done) {
			t.Fatalf("iperf client not done\n%s", out.String())
		}
		return c.Result()
	}
	if res := iperf(); res.Err != nil || res.Bytes != 2_000_000 {
		t.Fatalf("iperf: %+v", res)
	}
	r.w.Run(rawapi.Second, r.pollA, nil) // the server sees the end
	if ss := r.service("iperf"); !strings.HasPrefix(ss.Detail, "1 tests done, 2000000 bytes") {
		t.Fatalf("iperf: %+v", ss)
	}
	if !strings.Contains(r.log.String(), "Server listening on TCP port 5001") {
		t.Errorf("log:\n%s", r.log.String())
	}

	// Off: the endpoints close.
	r.configure(`{"apps":{"tftpd":{"enabled":false},"iperf":{"enabled":false}}}`)
	for _, name := range []string{"tftpd", "iperf"} {
		if ss := r.service(name); ss.Running || ss.Enabled {
			t.Fatalf("%s after disabling: %+v", name, ss)
		}
	}
	if _, ok := r.tftpGet("boot.img", 3*rawapi.Second); ok {
		t.Fatal("a TFTP transfer after tftpd is disabled")
	}
	if res := iperf(); res.Err != rawapi.ErrReset {
		t.Fatalf("iperf after disabling: %+v", res)
	}
	// And on again, on another port.
	r.configure(`{"apps":{"iperf":{"enabled":true,"port":5002}}}`)
	if ss := r.service("iperf"); !ss.Running || ss.Port != 5002 {
		t.Fatalf("iperf: %+v", ss)
	}
	r.configure(`{"apps":{"iperf":{"enabled":false}}}`)

	r.w.Step = 100 * rawapi.Millisecond
	r.w.Run(150*rawapi.Second, r.pollA, nil)
	r.srv.Close()
	r.w.Run(5*rawapi.Second, r.pollA, nil)
	r.w.CheckPools(t)
}

// get fetches target from A's port with a raw client on B and returns the
// response, or the connection's error.
func (r *visorRig) get(port uint16, target string) (string, error) {
	r.t.Helper()
	c := (&apptest.Client{Send: []byte("GET " + target + " HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n")}).
		Dial(r.t, r.w, netip.AddrPortFrom(apptest.AddrA, port))
	if !r.w.Run(10*rawapi.Second, r.pollA, func() bool { return c.Done }) {
		r.t.Fatalf("GET %s on port %d: no end", target, port)
	}
	return string(c.Got), c.ConnErr
}

// TestHTTPDOnVisorsStack: httpd, switched on through the configuration API,
// serves its page on the configured port from visor's stack and loop (its
// sequential server as a task); switched off, its port is closed; on again
// on another port, it serves there.
func TestHTTPDOnVisorsStack(t *testing.T) {
	r := newVisorRig(t)
	goroutines := runtime.NumGoroutine()
	if ss := r.service("httpd"); ss.Running || ss.Enabled {
		t.Fatalf("httpd runs before it is enabled: %+v", ss)
	}
	if _, err := r.get(8080, "/"); err != rawapi.ErrReset {
		t.Fatalf("port 8080 before httpd is enabled: %v", err)
	}

	r.configure(`{"apps":{"httpd":{"enabled":true,"port":8080}}}`)
	if ss := r.service("httpd"); !ss.Running || ss.Port != 8080 {
		t.Fatalf("httpd: %+v", ss)
	}
	for range 3 {
		resp, err := r.get(8080, "/")
		if err != nil || !strings.HasPrefix(resp, "HTTP/1.1 200 OK\r\n") || !strings.Contains(resp, "<h1>hello, world</h1>") {
			t.Fatalf("GET /: %v\n%s", err, resp)
		}
	}
	if resp, err := r.get(8080, "/big?size=300000"); err != nil || !strings.HasSuffix(resp, "\r\n\r\n"+bigBody(300_000)) {
		t.Fatalf("GET /big: %v, %d bytes", err, len(resp))
	}
	if st, _ := r.api("GET", "/api/status", ""); st != 200 { // the configuration page still serves
		t.Fatalf("status: %d", st)
	}
	if ss := r.service("httpd"); !strings.HasPrefix(ss.Detail, "4 connections, 4 requests") {
		t.Fatalf("httpd: %+v", ss)
	}
	if !strings.Contains(r.log.String(), "GET / 200") {
		t.Errorf("log:\n%s", r.log.String())
	}

	r.configure(`{"apps":{"httpd":{"enabled":false}}}`)
	if ss := r.service("httpd"); ss.Running || ss.Enabled {
		t.Fatalf("httpd after disabling: %+v", ss)
	}
	if _, err := r.get(8080, "/"); err != rawapi.ErrReset {
		t.Fatalf("port 8080 after disabling: %v", err)
	}

	r.configure(`{"apps":{"httpd":{"enabled":true,"port":8081}}}`)
	if ss := r.service("httpd"); !ss.Running || ss.Port != 8081 {
		t.Fatalf("httpd: %+v", ss)
	}
	if resp, err := r.get(8081, "/index.html"); err != nil || !strings.Contains(resp, "hello, world") {
		t.Fatalf("GET on 8081: %v\n%s", err, resp)
	}
	if _, err := r.get(8080, "/"); err != rawapi.ErrReset {
		t.Fatalf("port 8080 after the move: %v", err)
	}
	r.configure(`{"apps":{"httpd":{"enabled":false}}}`)
	for i := 0; runtime.NumGoroutine() > goroutines && i < 100; i++ {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Fatalf("%d goroutines after disabling httpd, %d before it ran", n, goroutines) // its task's
	}

	r.w.Step = 100 * rawapi.Millisecond
	r.w.Run(150*rawapi.Second, r.pollA, nil)
	r.srv.Close()
	r.w.Run(5*rawapi.Second, r.pollA, nil)
	r.w.CheckPools(t)
}

// bigBody is httpd's /big body of n bytes: 64-byte lines of a pattern.
func bigBody(n int) string {
	const period = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.\n"
	return strings.Repeat(period, n/len(period)+1)[:n]
}
