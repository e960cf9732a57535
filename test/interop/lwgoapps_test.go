package interop

// lwgo's programs (apps/httpd, apps/tftpd, apps/iperf) against Debian's real
// clients and servers: each program is built, started inside a fresh
// namespace with -tap (it makes its own TAP there, through apps/internal/
// appflags) and -host-ip for the kernel's side, and the kernel's tools in the
// same namespace talk to it: curl and wget to httpd; tftp-hpa and curl's TFTP
// to tftpd; iperf 2.1 both ways with iperf; dnsmasq's DHCP for -dhcp.
//
// The tools beyond the tier's own (tftp, iperf, wget, dnsmasq) are not in the
// Makefile's PREREQS yet; without them these tests skip, under CI too.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lwgo/lwgo/platform/netns"
)

var (
	appsOnce sync.Once
	appsDir  string
	appsErr  error
)

// buildApps builds the three programs once per test binary (the issue 4
// benchmarks use two of them).
func buildApps(tb testing.TB) string {
	tb.Helper()
	appsOnce.Do(func() {
		appsDir, appsErr = os.MkdirTemp("", "lwgoapps")
		if appsErr != nil {
			return
		}
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			appsErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", appsDir+"/", "./apps/httpd", "./apps/tftpd", "./apps/iperf")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
		if out, err := cmd.CombinedOutput(); err != nil {
			appsErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if appsErr != nil {
		tb.Fatal(appsErr)
	}
	return appsDir
}

// needApps is needTier plus the extra tools, which skip when missing.
func needApps(t *testing.T, tools ...string) {
	t.Helper()
	needTier(t, "ip")
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed: make deps installs it (Makefile PREREQS)", tool)
			}
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
}

// appNet is a namespace for one program: netns.New's, with its TAP closed
// (which removes it) so that the program makes its own under the same name.
type appNet struct {
	t *testing.T
	n *netns.Net
}

func newAppNet(t *testing.T) *appNet {
	t.Helper()
	return &appNet{t: t, n: programNet(t, 77)}
}

// programNet makes a namespace on 198.18.subnet.0/24 whose TAP is closed
// (so removed), for a program that makes its own under the same name.
func programNet(tb testing.TB, subnet uint8) *netns.Net {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := netns.New(ctx, netns.Config{Subnet: subnet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	n.Dev.Close()
	n.Dev = nil
	return n
}

// flags are the appflags every program gets.
func (a *appNet) flags() []string {
	return []string{"-tap", a.n.TAPName, "-host-ip", a.n.KernelAddr.String(), "-ip", a.n.StackAddr.String()}
}

// app is a program running in the namespace.
type app struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	cancel context.CancelFunc
}

// syncBuffer is a bytes.Buffer safe for the command's copy goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs name (a built program or a system tool) in the namespace and
// waits for ready to appear in its output.
func (a *appNet) start(ready, name string, args ...string) *app {
	a.t.Helper()
	return startApp(a.t, a.n, ready, name, args...)
}

// startApp runs name in n and waits for ready to appear in its output; the
// program is stopped at cleanup.
func startApp(tb testing.TB, n *netns.Net, ready, name string, args ...string) *app {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	p := &app{cmd: n.Command(ctx, name, args...), out: &syncBuffer{}, done: make(chan struct{}), cancel: cancel}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() { p.stop() })
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.out.String(), ready) {
		select {
		case <-p.done:
			tb.Fatalf("%s exited before %q:\n%s", name, ready, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: no %q within 15 s:\n%s", name, ready, p.out.String())
		}
	}
	return p
}

// stop sends SIGTERM, waits up to 5 s, and returns the output.
func (p *app) stop() string {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cancel()
		<-p.done
	}
	p.cancel()
	return p.out.String()
}

// run runs a tool in the namespace and returns its combined output.
func (a *appNet) run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := a.n.Command(ctx, name, args...).CombinedOutput()
	return string(out), err
}

func (a *appNet) mustRun(timeout time.Duration, name string, args ...string) string {
	a.t.Helper()
	out, err := a.run(timeout, name, args...)
	if err != nil {
		a.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

// bigSum is the SHA-256 of httpd's /big body of n bytes.
func bigSum(n int) string {
	const period = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.\n"
	h := sha256.New()
	chunk := []byte(strings.Repeat(period, 1024))
	for n > 0 {
		k := min(n, len(chunk))
		h.Write(chunk[:k])
		n -= k
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestAppHTTPDWithCurlAndWget(t *testing.T) {
	needApps(t, "curl", "wget")
	dir := buildApps(t)
	a := newAppNet(t)
	srv := a.start("serving http://", filepath.Join(dir, "httpd"), append(a.flags(), "-port", "80")...)
	base := "http://" + a.n.StackAddr.Addr().String()

	if out := a.mustRun(10*time.Second, "curl", "-sS", "-m", "5", base+"/"); !strings.Contains(out, "<h1>hello, world</h1>") {
		t.Fatalf("curl /: %q", out)
	}
	const size = 20_000_000
	file := filepath.Join(t.TempDir(), "big")
	out := a.mustRun(60*time.Second, "curl", "-sS", "-m", "50", "-o", file, "-w", "%{http_code} %{size_download}", base+"/big?size="+strconv.Itoa(size))
	if out != "200 "+strconv.Itoa(size) {
		t.Fatalf("curl /big: %q", out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != bigSum(size) {
		t.Fatalf("/big: sha256 %x, want %s", got, bigSum(size))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{base + "/nope"}, "404"},
		{[]string{"-X", "POST", "-d", "x", base + "/"}, "405"},
		{[]string{"-H", "X-Big: " + strings.Repeat("a", 6000), base + "/"}, "431"},
		{[]string{"-I", base + "/"}, "200"},
		{[]string{"--http1.0", base + "/big?size=1000"}, "200"},
	} {
		args := append([]string{"-sS", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}"}, tc.args...)
		if out := a.mustRun(10*time.Second, "curl", args...); out != tc.want {
			t.Fatalf("curl %v: %q, want %s", tc.args, out, tc.want)
		}
	}
	// Twenty at once: served in turn, eight interleaved, the rest in the backlog.
	var wg sync.WaitGroup
	codes := make([]string, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = a.run(20*time.Second, "curl", "-sS", "-m", "15", "-o", "/dev/null", "-w", "%{http_code}", base+"/big?size=100000")
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != "200" {
			t.Fatalf("concurrent curl %d: %q", i, c)
		}
	}
	if out := a.mustRun(10*time.Second, "wget", "-q", "-O", "-", base+"/"); !strings.Contains(out, "hello, world") {
		t.Fatalf("wget: %q", out)
	}
	log := srv.stop()
	if !strings.Contains(log, "GET /big?size=20000000 200") || !strings.Contains(log, "httpd: 2") {
		t.Fatalf("httpd log:\n%s", log)
	}
}

func TestAppTFTPDWithTFTPHPAAndCurl(t *testing.T) {
	needApps(t, "tftp", "curl")
	dir := buildApps(t)
	a := newAppNet(t)
	root := filepath.Join(t.TempDir(), "root")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	rnd := make([]byte, 1_000_003)
	for i := range rnd {
		rnd[i] = byte(i*7 + i>>11)
	}
	os.WriteFile(filepath.Join(root, "rand.bin"), rnd, 0o644)
	os.WriteFile(filepath.Join(root, "text.txt"), []byte("one\ntwo\r\nthree\n"), 0o644)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("secret"), 0o644)
	os.Symlink(secret, filepath.Join(root, "escape"))
	srv := a.start("tftpd: serving", filepath.Join(dir, "tftpd"), append(a.flags(), "-root", root, "-w")...)
	host := a.n.StackAddr.Addr().String()
	work := t.TempDir()
	get := func(mode, remote, local string) string {
		out, _ := a.run(30*time.Second, "tftp", host, "-m", mode, "-c", "get", remote, filepath.Join(work, local))
		return out
	}
	if out := get("octet", "rand.bin", "r1"); strings.Contains(out, "Error") {
		t.Fatalf("tftp get: %s", out)
	}
	if got, _ := os.ReadFile(filepath.Join(work, "r1")); !bytes.Equal(got, rnd) {
		t.Fatalf("tftp get octet: %d bytes differ", len(got))
	}
	get("netascii", "text.txt", "t1")
	if got, _ := os.ReadFile(filepath.Join(work, "t1")); string(got) != "one\ntwo\r\nthree\n" {
		t.Fatalf("tftp get netascii: %q", got)
	}
	for _, tc := range []struct{ name, want string }{
		{"nosuch", "Error code 1"},
		{"../secret", "Error code 2"},
		{"escape", "Error code 2"},
	} {
		if out := get("octet", tc.name, "x"); !strings.Contains(out, tc.want) {
			t.Fatalf("tftp get %s: %q, want %q", tc.name, out, tc.want)
		}
	}
	up := filepath.Join(work, "up.bin")
	os.WriteFile(up, rnd[:300_000], 0o644)
	if out := a.mustRun(30*time.Second, "tftp", host, "-m", "octet", "-c", "put", up, "sub/up.bin"); strings.Contains(out, "Error") {
		t.Fatalf("tftp put: %s", out)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "sub", "up.bin")); !bytes.Equal(got, rnd[:300_000]) {
		t.Fatalf("tftp put stored %d bytes", len(got))
	}
	if out, _ := a.run(30*time.Second, "tftp", host, "-m", "octet", "-c", "put", up, "sub/up.bin"); !strings.Contains(out, "Error code 6") {
		t.Fatalf("tftp put over an existing file: %q", out)
	}
	// curl negotiates blksize and tsize (RFC 2347-2349).
	out := a.mustRun(30*time.Second, "curl", "-sS", "-m", "20", "--tftp-blksize", "1400", "-o", filepath.Join(work, "c1"), "-w", "%{size_download}", "tftp://"+host+"/rand.bin")
	if got, _ := os.ReadFile(filepath.Join(work, "c1")); out != strconv.Itoa(len(rnd)) || !bytes.Equal(got, rnd) {
		t.Fatalf("curl tftp blksize 1400: %q, %d bytes", out, len(got))
	}
	log := srv.stop()
	if !strings.Contains(log, "0 failed") {
		t.Fatalf("tftpd log:\n%s", log)
	}
}

var iperfBytes = regexp.MustCompile(`sec +(\d+) Bytes`)

// iperfTotals returns the byte counts of the "-f b" report lines in out.
func iperfTotals(out string) []string {
	var totals []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := iperfBytes.FindStringSubmatch(sc.Text()); m != nil {
			totals = append(totals, m[1])
		}
	}
	return totals
}

// TestAppIperfBothWaysWithIperf2: apps/iperf against Debian's iperf 2, each
// side as client and as server, 10 MiB each, on a plain TAP and on one with
// every offload (-offload: lwgo sends and receives 64 KiB super-segments).
func TestAppIperfBothWaysWithIperf2(t *testing.T) {
	needApps(t, "iperf")
	dir := buildApps(t)
	const n = "10485760" // -n 10M
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"plain", nil}, {"offload", []string{"-offload"}}} {
		t.Run(mode.name, func(t *testing.T) {
			// Debian's client, lwgo's server.
			a := newAppNet(t)
			flags := append(a.flags(), mode.extra...)
			srv := a.start("Server listening", filepath.Join(dir, "iperf"), append(flags, "-s", "-f", "b")...)
			out := a.mustRun(60*time.Second, "iperf", "-c", a.n.StackAddr.Addr().String(), "-n", "10M", "-f", "b")
			if got := iperfTotals(out); len(got) != 1 || got[0] != n {
				t.Fatalf("iperf client: %v\n%s", got, out)
			}
			time.Sleep(200 * time.Millisecond)
			if got := iperfTotals(srv.stop()); len(got) != 1 || got[0] != n {
				t.Fatalf("lwgo server: %v\n%s", got, srv.out.String())
			}

			// lwgo's client, Debian's server.
			b := newAppNet(t)
			flags = append(b.flags(), mode.extra...)
			real := b.start("Server listening", "iperf", "-s", "-f", "b")
			out = b.mustRun(60*time.Second, filepath.Join(dir, "iperf"), append(flags, "-c", b.n.KernelAddr.Addr().String(), "-n", "10M", "-f", "b")...)
			if got := iperfTotals(out); len(got) != 1 || got[0] != n {
				t.Fatalf("lwgo client: %v\n%s", got, out)
			}
			time.Sleep(200 * time.Millisecond)
			if got := iperfTotals(real.stop()); len(got) != 1 || got[0] != n {
				t.Fatalf("iperf server: %v\n%s", got, real.out.String())
			}
		})
	}
}

func TestAppDHCPFromDnsmasq(t *testing.T) {
	needApps(t, "dnsmasq", "curl")
	dir := buildApps(t)
	a := newAppNet(t)
	tapName := a.n.TAPName
	// dnsmasq binds to the TAP as soon as httpd has made it.
	a.start("", "dnsmasq", "--no-daemon", "--interface="+tapName, "--bind-dynamic", "--port=0", "--no-resolv",
		"--dhcp-range=198.18.77.50,198.18.77.99,2m", "--pid-file=", "--dhcp-leasefile="+filepath.Join(t.TempDir(), "leases"))
	srv := a.start("serving http://", filepath.Join(dir, "httpd"),
		"-tap", tapName, "-host-ip", a.n.KernelAddr.String(), "-dhcp", "-port", "80")
	m := regexp.MustCompile(`serving http://(198\.18\.77\.\d+):80/`).FindStringSubmatch(srv.out.String())
	if m == nil {
		t.Fatalf("httpd:\n%s", srv.out.String())
	}
	if out := a.mustRun(10*time.Second, "curl", "-sS", "-m", "5", "http://"+m[1]+"/"); !strings.Contains(out, "hello, world") {
		t.Fatalf("curl the leased address: %q", out)
	}
}
