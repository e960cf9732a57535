package interop

// lwgo's configuration server (apps/httpconfig), curl (apps/curl), dns
// (apps/dns) and appliance (apps/visor) against the kernel's tools in a
// namespace: curl and wget fetch pages and 100 MiB from httpconfig and
// from httpd, 100 curl processes hit httpconfig at once, lwgo's curl
// fetches from python3's http.server (100 MiB included) by name through
// dnsmasq, lwgo's dns resolves what dnsmasq serves, a DHCP lease from
// dnsmasq carries the DNS server, and visor -netns builds and removes its
// own namespace. Every transfer is checked by SHA-256. The programs run as
// built binaries inside the namespace with -tap and -host-ip (apps_test's
// lwgoapps helpers: newAppNet, start, run).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
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
)

var (
	apps2Once sync.Once
	apps2Dir  string
	apps2Err  error
)

// buildApps2 builds dns, curl, httpconfig and visor once per test binary,
// into lwgo-apps2-<pid> in the temporary directory; the directories of
// earlier runs whose process is gone are removed first.
func buildApps2(t *testing.T) string {
	t.Helper()
	apps2Once.Do(func() {
		old, _ := filepath.Glob(filepath.Join(os.TempDir(), "lwgo-apps2-*"))
		for _, d := range old {
			pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "lwgo-apps2-"))
			if err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH {
				os.RemoveAll(d)
			}
		}
		apps2Dir = filepath.Join(os.TempDir(), "lwgo-apps2-"+strconv.Itoa(os.Getpid()))
		if apps2Err = os.MkdirAll(apps2Dir, 0o755); apps2Err != nil {
			return
		}
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			apps2Err = err
			return
		}
		cmd := exec.Command("go", "build", "-o", apps2Dir+"/", "./apps/dns", "./apps/curl", "./apps/httpconfig", "./apps/visor")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
		if out, err := cmd.CombinedOutput(); err != nil {
			apps2Err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if apps2Err != nil {
		t.Fatal(apps2Err)
	}
	return apps2Dir
}

const (
	adminPass = "interop-pass-1"
	hugeSize  = 100 << 20
)

// writeBig writes n bytes of body(n) to dir/name and returns its SHA-256.
func writeBig(t *testing.T, dir, name string, n int) string {
	t.Helper()
	data, sum := body(n)
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(sum[:])
}

func sumFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(name)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// lintPcap runs tshark over a capture the stack wrote (-pcap) and fails on
// malformed packets, bad checksums or errors in what stack sent.
func lintPcap(t *testing.T, file, stack string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", "-n", "-r", file, "-o", "ip.check_checksum:TRUE",
		"-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-Y", "ip.src=="+stack+" && (_ws.malformed || _ws.expert.severity >= \"Error\" || ip.checksum.status==\"Bad\""+
			" || udp.checksum.status==\"Bad\" || tcp.checksum.status==\"Bad\")",
		"-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info", "-e", "_ws.expert.message")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("tshark: malformed packets, bad checksums or errors from lwgo:\n%s", s)
	}
}

// TestApps2HTTPConfig: httpconfig in a namespace. Linux curl logs in, reads
// the page and the JSON API, changes the settings with the CSRF token (and
// is refused without it, or with bad input), downloads 100 MiB from /files/
// as does wget, and 100 curl processes at once all get their answer.
func TestApps2HTTPConfig(t *testing.T) {
	needTier(t, "curl", "wget", "tshark")
	dir := buildApps2(t)
	a := newAppNet(t)
	work := t.TempDir()
	root := filepath.Join(work, "files")
	os.MkdirAll(root, 0o755)
	hugeSum := writeBig(t, root, "huge.bin", hugeSize)
	cfg := filepath.Join(work, "visor.json")
	os.WriteFile(cfg, []byte(`{"hostname":"interop","apps":{"tftpd":{"root":"`+root+`","port":69}}}`), 0o600)
	pcap := filepath.Join(work, "httpconfig.pcap")
	srv := a.start("configuration page at", filepath.Join(dir, "httpconfig"),
		append(a.flags(), "-config", cfg, "-password", adminPass, "-pcap", pcap)...)
	base := "http://" + a.n.StackAddr.Addr().String()
	curl := func(args ...string) string {
		t.Helper()
		return a.mustRun(30*time.Second, "curl", append([]string{"-sS", "-m", "20"}, args...)...)
	}
	if out := curl("-o", "/dev/null", "-w", "%{http_code}", base+"/"); out != "401" {
		t.Fatalf("no credentials: %q", out)
	}
	jar := filepath.Join(work, "jar")
	page := curl("-u", "admin:"+adminPass, "-c", jar, base+"/")
	m := regexp.MustCompile(`name=csrf value="([0-9a-f]{64})"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "<h1>interop</h1>") {
		t.Fatalf("page:\n%s", page)
	}
	tok := m[1]
	var st struct {
		Interfaces []struct{ Address string }
		TCP        struct{ Established int }
	}
	if err := json.Unmarshal([]byte(curl("-u", "admin:"+adminPass, base+"/api/status")), &st); err != nil ||
		len(st.Interfaces) != 1 || st.Interfaces[0].Address != a.n.StackAddr.String() {
		t.Fatalf("status: %v %+v", err, st)
	}
	api := func(token, body string) string {
		args := []string{"-u", "admin:" + adminPass, "-b", jar, "-H", "Content-Type: application/json",
			"-o", "/dev/null", "-w", "%{http_code}", "-d", body, base + "/api/config"}
		if token != "" {
			args = append(args, "-H", "X-CSRF-Token: "+token)
		}
		return curl(args...)
	}
	if code := api("", `{"hostname":"forged"}`); code != "403" {
		t.Fatalf("without the token: %s", code)
	}
	if code := api(tok, `{"network":{"dhcp":false,"address":"198.18.77.2/33"}}`); code != "400" {
		t.Fatalf("bad input: %s", code)
	}
	if code := api(tok, `{"hostname":"changed","network":{"dns":["198.18.77.1"]}}`); code != "200" {
		t.Fatalf("change: %s", code)
	}
	form := "csrf=" + tok + "&hostname=by-form&mode=static&address=198.18.77.2%2F24&dns1=198.18.77.1&tftpd_port=69&tftpd_root=" +
		root + "&httpd_port=8080&iperf_port=5001"
	if out := curl("-u", "admin:"+adminPass, "-b", jar, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
		"-H", "Origin: "+base, "-d", form, base+"/config"); !strings.HasPrefix(out, "303 http://") || !strings.HasSuffix(out, "198.18.77.2/?saved=1") {
		t.Fatalf("form: %q", out)
	}
	saved, _ := os.ReadFile(cfg)
	if !strings.Contains(string(saved), `"hostname": "by-form"`) || !strings.Contains(string(saved), `"198.18.77.1"`) {
		t.Fatalf("saved settings:\n%s", saved)
	}
	if out := curl("-u", "admin:"+adminPass, "-H", "X-Big: "+strings.Repeat("a", 9000), "-o", "/dev/null",
		"-w", "%{http_code}", base+"/"); out != "431" {
		t.Fatalf("oversized header: %q", out)
	}
	lintPcap(t, pcap, a.n.StackAddr.Addr().String())

	// 100 MiB with curl and with wget.
	file := filepath.Join(work, "dl")
	out := a.mustRun(90*time.Second, "curl", "-sS", "-m", "80", "-u", "admin:"+adminPass, "-o", file,
		"-w", "%{http_code} %{size_download} %{speed_download}", base+"/files/huge.bin")
	f := strings.Fields(out)
	if len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(hugeSize) || sumFile(t, file) != hugeSum {
		t.Fatalf("curl 100 MiB: %q", out)
	}
	speed, _ := strconv.ParseFloat(f[2], 64)
	start := time.Now()
	a.mustRun(90*time.Second, "wget", "-q", "-O", file, "--user", "admin", "--password", adminPass, base+"/files/huge.bin")
	wgetTime := time.Since(start)
	if sumFile(t, file) != hugeSum {
		t.Fatal("wget 100 MiB: SHA-256 differs")
	}
	t.Logf("httpconfig /files/: 100 MiB to curl at %.0f MB/s, to wget in %v", speed/1e6, wgetTime.Round(time.Millisecond))

	// A hundred curl processes at once, started by one shell in the
	// namespace (each writes its status code to a file).
	cdir := filepath.Join(work, "concurrent")
	os.MkdirAll(cdir, 0o755)
	start = time.Now()
	a.mustRun(90*time.Second, "sh", "-c", `for i in $(seq 1 100); do curl -sS -m 60 -u admin:`+adminPass+
		` -o /dev/null -w '%{http_code}' `+base+`/api/status > `+cdir+`/$i 2>&1 & done; wait`)
	failed := 0
	for i := 1; i <= 100; i++ {
		if c, _ := os.ReadFile(filepath.Join(cdir, strconv.Itoa(i))); string(c) != "200" {
			t.Errorf("concurrent curl %d: %q", i, c)
			failed++
		}
	}
	if failed > 0 {
		// What the server and its TCP saw, and lwgo's resets in the capture.
		t.Logf("status: %s", curl("-u", "admin:"+adminPass, base+"/api/status"))
		out, _ := exec.Command("tshark", "-n", "-r", pcap, "-Y", "tcp.flags.reset==1", "-T", "fields",
			"-e", "frame.time_relative", "-e", "ip.src", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "_ws.col.Info").Output()
		t.Logf("resets:\n%s", out)
	}
	t.Logf("100 concurrent curl clients: all 200 in %v", time.Since(start).Round(time.Millisecond))
	log := srv.stop()
	if !strings.Contains(log, "GET /files/huge.bin 200") {
		t.Fatalf("httpconfig log:\n%.3000s", log)
	}
}

// TestApps2HTTPDHugeWithCurlAndWget: curl and wget fetch 100 MiB from
// lwgo's httpd (its /big, generated as it goes).
func TestApps2HTTPDHugeWithCurlAndWget(t *testing.T) {
	needTier(t, "curl", "wget")
	dir := buildApps(t)
	a := newAppNet(t)
	srv := a.start("serving http://", filepath.Join(dir, "httpd"), append(a.flags(), "-q")...)
	url := "http://" + a.n.StackAddr.Addr().String() + "/big?size=" + strconv.Itoa(hugeSize)
	want := bigSum(hugeSize)
	file := filepath.Join(t.TempDir(), "big")
	out := a.mustRun(90*time.Second, "curl", "-sS", "-m", "80", "-o", file, "-w", "%{http_code} %{size_download} %{speed_download}", url)
	f := strings.Fields(out)
	if len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(hugeSize) || sumFile(t, file) != want {
		t.Fatalf("curl: %q", out)
	}
	speed, _ := strconv.ParseFloat(f[2], 64)
	start := time.Now()
	a.mustRun(90*time.Second, "wget", "-q", "-O", file, url)
	took := time.Since(start)
	if sumFile(t, file) != want {
		t.Fatal("wget: SHA-256 differs")
	}
	t.Logf("httpd /big: 100 MiB to curl at %.0f MB/s, to wget in %v", speed/1e6, took.Round(time.Millisecond))
	srv.stop()
}

// TestApps2LwgoCurlFromLwgoHTTPD: lwgo's curl fetches from lwgo's httpd,
// each its own process on its own TAP in one namespace, the kernel routing
// between the two subnets: a page, 100 MiB (SHA-256) and three URLs on one
// kept connection.
func TestApps2LwgoCurlFromLwgoHTTPD(t *testing.T) {
	needTier(t)
	httpd := filepath.Join(buildApps(t), "httpd")
	curl := filepath.Join(buildApps2(t), "curl")
	a := newAppNet(t)
	if err := a.n.Do(func() error { // this namespace's forwarding only
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0)
	}); err != nil {
		t.Fatal(err)
	}
	k := a.n.KernelAddr.Addr().String()
	srv := a.start("serving http://", httpd, append(a.flags(), "-gw", k, "-q")...)
	// The client on a second TAP, 198.18.79.0/24, through the kernel.
	cflags := []string{"-tap", a.n.TAPName + "c", "-host-ip", "198.18.79.1/24", "-ip", "198.18.79.2/24", "-gw", "198.18.79.1"}
	base := "http://" + a.n.StackAddr.Addr().String()
	run := func(args ...string) string {
		t.Helper()
		return a.mustRun(120*time.Second, curl, append(append([]string{}, cflags...), args...)...)
	}
	if out := run("-sS", base+"/"); !strings.Contains(out, "hello, world") {
		t.Fatalf("page: %q", out)
	}
	file := filepath.Join(t.TempDir(), "big")
	out := run("-sS", "-o", file, "-w", "%{http_code} %{size_download} %{speed_download}", base+"/big?size="+strconv.Itoa(hugeSize))
	f := strings.Fields(out)
	if len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(hugeSize) || sumFile(t, file) != bigSum(hugeSize) {
		t.Fatalf("100 MiB: %q", out)
	}
	speed, _ := strconv.ParseFloat(f[2], 64)
	t.Logf("lwgo curl from lwgo httpd through the kernel: 100 MiB at %.0f MB/s", speed/1e6)
	if out := run("-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code}:%{num_connects} ",
		base+"/", base+"/big?size=1000", base+"/nope"); out != "200:1 200:0 404:0 " {
		t.Fatalf("keep-alive: %q", out)
	}
	srv.stop()
}

// dnsmasq starts dnsmasq in a's namespace on the TAP the next program
// makes, serving DNS (names → the kernel's address, NXDOMAIN for other
// .test names) and, with dhcp, leases too.
func dnsmasq(t *testing.T, a *appNet, dhcp bool, extra ...string) *app {
	t.Helper()
	k := a.n.KernelAddr.Addr().String()
	args := []string{"--no-daemon", "--conf-file=/dev/null", "--interface=" + a.n.TAPName, "--bind-dynamic",
		"--except-interface=lo", "--no-resolv", "--no-hosts", "--pid-file=", "--log-queries",
		"--local=/test/", "--address=/files.test/" + k, "--host-record=peer.test," + k,
		"--host-record=other.test,198.18.77.200", "--cname=alias.test,peer.test"}
	if dhcp {
		args = append(args, "--dhcp-range=198.18.77.50,198.18.77.99,255.255.255.0,2m",
			"--dhcp-option=option:router,"+k, "--dhcp-option=option:dns-server,"+k,
			"--dhcp-leasefile="+filepath.Join(t.TempDir(), "leases"), "--log-dhcp")
	}
	return a.start("started", "dnsmasq", append(args, extra...)...)
}

// TestApps2CurlFromPythonHTTPServer: lwgo's curl fetches from python3's
// http.server in the namespace, by name through dnsmasq: a page, 100 MiB
// (SHA-256), a directory redirect with -L, a 404 with -f (exit 22), a
// refused port (7), an unanswered address (28) and an unknown name (6).
func TestApps2CurlFromPythonHTTPServer(t *testing.T) {
	py := python()
	needTier(t, py, "dnsmasq", "tshark")
	dir := buildApps2(t)
	a := newAppNet(t)
	work := t.TempDir()
	www := filepath.Join(work, "www")
	os.MkdirAll(filepath.Join(www, "sub"), 0o755)
	os.WriteFile(filepath.Join(www, "hello.txt"), []byte("hello from python\n"), 0o644)
	os.WriteFile(filepath.Join(www, "sub", "index.html"), []byte("<p>sub</p>\n"), 0o644)
	hugeSum := writeBig(t, www, "huge.bin", hugeSize)
	dnsmasq(t, a, false)
	a.start("Serving HTTP", py, "-u", "-m", "http.server", "--bind", "0.0.0.0", "--directory", www, "8000")
	waitListening(t, a, 8000)
	lwcurl := func(timeout time.Duration, args ...string) (string, int) {
		t.Helper()
		all := append(append(a.flags(), "-dns", a.n.KernelAddr.Addr().String()), args...)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		out, err := a.n.Command(ctx, filepath.Join(dir, "curl"), all...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("lwgo curl %v: %v\n%s", args, err, out)
		}
		return string(out), code
	}
	if out, code := lwcurl(30*time.Second, "-sS", "http://files.test:8000/hello.txt"); code != 0 || out != "hello from python\n" {
		t.Fatalf("page: exit %d %q", code, out)
	}
	file := filepath.Join(work, "dl")
	pcap := filepath.Join(work, "curl.pcap")
	out, code := lwcurl(120*time.Second, "-sS", "-o", file, "-w", "%{http_code} %{size_download} %{speed_download}",
		"http://files.test:8000/huge.bin")
	f := strings.Fields(out)
	if code != 0 || len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(hugeSize) || sumFile(t, file) != hugeSum {
		t.Fatalf("100 MiB: exit %d %q", code, out)
	}
	speed, _ := strconv.ParseFloat(f[2], 64)
	t.Logf("lwgo curl from http.server: 100 MiB at %.0f MB/s", speed/1e6)
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-sSL", "-w", " %{num_redirects}", "http://alias.test:8000/sub"}, 0, "<p>sub</p>\n 1"},
		{[]string{"-sSf", "http://peer.test:8000/nope"}, 22, "curl: (22) The requested URL returned error: 404\n"},
		{[]string{"-s", "http://peer.test:8001/"}, 7, ""},
		{[]string{"-s", "--connect-timeout", "2", "http://other.test/"}, 28, ""},
		{[]string{"-s", "http://nosuch.test/"}, 6, ""},
		{[]string{"-s", "-pcap", pcap, "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code}", "http://files.test:8000/hello.txt",
			"http://files.test:8000/sub/"}, 0, "200200"},
	} {
		if out, code := lwcurl(30*time.Second, tc.args...); code != tc.code || out != tc.out {
			t.Errorf("curl %v: exit %d %q, want %d %q", tc.args, code, out, tc.code, tc.out)
		}
	}
	lintPcap(t, pcap, a.n.StackAddr.Addr().String())
}

// waitListening waits until a TCP port accepts on the namespace's loopback.
func waitListening(t *testing.T, a *appNet, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := a.n.Do(func() error {
			c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(port), time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d not listening: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestApps2DNSWithDnsmasq: lwgo's dns resolves names dnsmasq serves (an
// address, a host record, a CNAME) and reports the unknown one.
func TestApps2DNSWithDnsmasq(t *testing.T) {
	needTier(t, "dnsmasq", "tshark")
	dir := buildApps2(t)
	a := newAppNet(t)
	dnsmasq(t, a, false)
	k := a.n.KernelAddr.Addr().String()
	pcap := filepath.Join(t.TempDir(), "dns.pcap")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := a.n.Command(ctx, filepath.Join(dir, "dns"), append(a.flags(), "-server", k, "-pcap", pcap,
		"files.test", "www.files.test", "peer.test", "alias.test", "other.test", "nosuch.test")...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	want := "files.test has address " + k + "\nwww.files.test has address " + k + "\npeer.test has address " + k +
		"\nalias.test has address " + k + "\nother.test has address 198.18.77.200\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stdout.String() != want ||
		stderr.String() != "dns: nosuch.test: not found (NXDOMAIN, or no A record)\n" {
		t.Fatalf("dns: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	lintPcap(t, pcap, a.n.StackAddr.Addr().String())
}

// TestApps2DHCPLeaseCarriesDNS: lwgo takes a lease from dnsmasq (-dhcp),
// and the DNS server of the lease answers its lookups; then visor takes a
// lease and its status page shows it.
func TestApps2DHCPLeaseCarriesDNS(t *testing.T) {
	needTier(t, "dnsmasq", "curl")
	dir := buildApps2(t)
	a := newAppNet(t)
	dnsmasq(t, a, true)
	k := a.n.KernelAddr.Addr().String()
	hostIP := []string{"-tap", a.n.TAPName, "-host-ip", a.n.KernelAddr.String(), "-dhcp"}
	out, err := a.run(60*time.Second, filepath.Join(dir, "dns"), append(hostIP, "peer.test")...)
	if err != nil || out != "peer.test has address "+k+"\n" {
		t.Fatalf("dns -dhcp: %v %q", err, out)
	}
	srv := a.start("configuration page at", filepath.Join(dir, "visor"), append(hostIP, "-password", adminPass, "-q")...)
	m := regexp.MustCompile(`configuration page at http://(198\.18\.77\.\d+)/`).FindStringSubmatch(srv.out.String())
	if m == nil {
		t.Fatalf("visor:\n%s", srv.out.String())
	}
	var st struct {
		DHCP *struct {
			State   string
			Address string
			Server  string
			DNS     []string
		}
		DNS []string
	}
	body := a.mustRun(20*time.Second, "curl", "-sS", "-m", "10", "-u", "admin:"+adminPass, "http://"+m[1]+"/api/status")
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.DHCP == nil || st.DHCP.State != "BOUND" ||
		st.DHCP.Address != m[1]+"/24" || st.DHCP.Server != k || len(st.DHCP.DNS) != 1 || st.DHCP.DNS[0] != k {
		t.Fatalf("visor's status: %v\n%s", err, body)
	}
	srv.stop()

	// Switched at run time through the API: static to DHCP (the lease
	// replaces the address), then back to a static address (the lease is
	// released).
	work := t.TempDir()
	srv = a.start("configuration page at", filepath.Join(dir, "visor"), append(a.flags(), "-password", adminPass, "-q")...)
	setNet := func(at, body string) {
		t.Helper()
		jar, hdr := filepath.Join(work, "jar"), filepath.Join(work, "hdr")
		a.mustRun(20*time.Second, "curl", "-sS", "-m", "10", "-u", "admin:"+adminPass, "-c", jar, "-D", hdr,
			"-o", "/dev/null", "http://"+at+"/api/config")
		h, _ := os.ReadFile(hdr)
		m := regexp.MustCompile(`(?i)x-csrf-token: ([0-9a-f]{64})`).FindSubmatch(h)
		if m == nil {
			t.Fatalf("no token in %q", h)
		}
		if code := a.mustRun(20*time.Second, "curl", "-sS", "-m", "10", "-u", "admin:"+adminPass, "-b", jar,
			"-H", "X-CSRF-Token: "+string(m[1]), "-H", "Content-Type: application/json", "-d", body,
			"-o", "/dev/null", "-w", "%{http_code}", "http://"+at+"/api/config"); code != "200" {
			t.Fatalf("%s to %s: %s", body, at, code)
		}
	}
	status := func(at string) (state, addr string) {
		t.Helper()
		var st struct {
			DHCP       *struct{ State string }
			Interfaces []struct{ Address string }
		}
		out, err := a.run(10*time.Second, "curl", "-sS", "-m", "5", "-u", "admin:"+adminPass, "http://"+at+"/api/status")
		if err != nil || json.Unmarshal([]byte(out), &st) != nil || len(st.Interfaces) != 1 {
			return "", ""
		}
		if st.DHCP != nil {
			state = st.DHCP.State
		}
		return state, st.Interfaces[0].Address
	}
	setNet(a.n.StackAddr.Addr().String(), `{"network":{"dhcp":true,"dns":[]}}`)
	// The TAP's MAC follows its name, so dnsmasq hands out the lease it
	// gave before.
	leased := m[1]
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if st, addr := status(leased); st == "BOUND" && addr == leased+"/24" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lease of %s 30 s after switching to DHCP:\n%s", leased, srv.out.String())
		}
	}
	setNet(leased, `{"network":{"dhcp":false,"address":"198.18.77.3/24","gateway":"`+k+`"}}`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st, addr := status("198.18.77.3"); st == "" && addr == "198.18.77.3/24" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not on the static address 10 s after the change")
		}
	}
	srv.stop()
}

// TestApps2VisorNetns: the main job in host mode. visor -netns makes its
// namespace and TAP, tells how to reach the page, serves it (curl from the
// namespace it named), and removes everything on SIGTERM.
func TestApps2VisorNetns(t *testing.T) {
	needTier(t, "curl")
	dir := buildApps2(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "visor"), "-netns", "-subnet", "78", "-password", adminPass)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	re := regexp.MustCompile(`sudo ip netns exec (lwgo-\d+-\d+) curl -u admin (http://198\.18\.78\.2/)api/status`)
	var m []string
	for deadline := time.Now().Add(20 * time.Second); m == nil; {
		m = re.FindStringSubmatch(out.String())
		select {
		case err := <-done:
			t.Fatalf("visor exited: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("visor printed no instructions:\n%s", out.String())
		}
	}
	ns, url := m[1], m[2]
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() }) // if visor failed to
	curl := exec.Command("ip", "netns", "exec", ns, "curl", "-sS", "-m", "10", "-u", "admin:"+adminPass, url+"api/status")
	body, err := curl.Output()
	if err != nil || !strings.Contains(string(body), `"address": "198.18.78.2/24"`) {
		cmd.Process.Kill()
		t.Fatalf("curl in %s: %v\n%s", ns, err, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("visor: %v\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("visor did not stop on SIGTERM:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "removed namespace "+ns) {
		t.Errorf("visor's goodbye:\n%s", out.String())
	}
	if list, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(list), ns) {
		t.Fatalf("namespace %s left behind", ns)
	}
	if _, err := netip.ParsePrefix("198.18.78.2/24"); err != nil {
		t.Fatal(err)
	}
}
