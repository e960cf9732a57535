package interop

// The appliance's httpd against the kernel: visor (apps/visor) on a TAP in
// a namespace, its httpd (apps/httpd/httpserver, a rawapi.Tasks task in
// visor's loop) switched on and off through the configuration API, and
// Linux curl fetching from it, on a plain TAP and with -offload (virtio
// headers, checksum offload and TSO both ways).

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// visorAPI is a logged-in client of visor's configuration API: curl in the
// namespace with the administrator's credentials, a cookie jar and the
// CSRF token the server handed out.
type visorAPI struct {
	a     *appNet
	base  string // http://address of the configuration page
	jar   string
	token string
}

// login fetches /api/config for the session cookie and its CSRF token.
func loginVisor(t *testing.T, a *appNet, base string) *visorAPI {
	t.Helper()
	work := t.TempDir()
	v := &visorAPI{a: a, base: base, jar: filepath.Join(work, "jar")}
	hdr := filepath.Join(work, "hdr")
	a.mustRun(20*time.Second, "curl", "-sS", "-m", "10", "-u", "admin:"+adminPass, "-c", v.jar, "-D", hdr,
		"-o", "/dev/null", base+"/api/config")
	h, _ := os.ReadFile(hdr)
	m := regexp.MustCompile(`(?i)x-csrf-token: ([0-9a-f]{64})`).FindSubmatch(h)
	if m == nil {
		t.Fatalf("no CSRF token in the headers of /api/config:\n%s", h)
	}
	v.token = string(m[1])
	return v
}

// configure posts body (JSON settings, merged into the current ones).
func (v *visorAPI) configure(t *testing.T, body string) {
	t.Helper()
	if code := v.a.mustRun(20*time.Second, "curl", "-sS", "-m", "10", "-u", "admin:"+adminPass, "-b", v.jar,
		"-H", "X-CSRF-Token: "+v.token, "-H", "Content-Type: application/json", "-d", body,
		"-o", "/dev/null", "-w", "%{http_code}", v.base+"/api/config"); code != "200" {
		t.Fatalf("POST /api/config %s: %s", body, code)
	}
}

// visorStatus is the part of GET /api/status this test reads.
type visorStatus struct {
	Services []struct {
		Name    string
		Enabled bool
		Running bool
		Port    uint16
		Detail  string
	}
	Connections []struct {
		Service string
		State   string
	}
	Interfaces []struct {
		Counters struct{ TxFrames, TxBytes uint64 }
	}
	LastApply string `json:"last_apply_error"`
}

// status reads /api/status; ok is false when it does not answer 200 with
// JSON within 5 s.
func (v *visorAPI) status() (st visorStatus, ok bool) {
	out, err := v.a.run(10*time.Second, "curl", "-sS", "-f", "-m", "5", "-u", "admin:"+adminPass, v.base+"/api/status")
	if err != nil || json.Unmarshal([]byte(out), &st) != nil {
		return st, false
	}
	return st, true
}

// tx returns the frames and bytes visor has handed to its TAP.
func (st visorStatus) tx() (frames, bytes uint64) {
	if len(st.Interfaces) == 1 {
		return st.Interfaces[0].Counters.TxFrames, st.Interfaces[0].Counters.TxBytes
	}
	return 0, 0
}

// httpd returns the status of the httpd service.
func (st visorStatus) httpd() (enabled, running bool, port uint16, detail string) {
	for _, s := range st.Services {
		if s.Name == "httpd" {
			return s.Enabled, s.Running, s.Port, s.Detail
		}
	}
	return false, false, 0, ""
}

// curlExit runs curl in the namespace and returns its exit code and output.
func curlExit(a *appNet, args ...string) (int, string) {
	out, err := a.run(20*time.Second, "curl", args...)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out
	}
	if err != nil {
		return -1, out + err.Error()
	}
	return 0, out
}

// TestVisorServesHTTPDOverTAP: visor starts with httpd off (port 8080
// refuses); switched on through the JSON API (login, CSRF token), httpd
// serves its page and 100 MiB of /big to Linux curl (size and SHA-256
// checked) while the configuration page goes on answering from the same
// loop, and its connection shows in the status; switched off, port 8080
// refuses again and the configuration page still serves. Once on a plain
// TAP, once with -offload (TSO both ways).
func TestVisorServesHTTPDOverTAP(t *testing.T) {
	needTier(t, "curl")
	dir := buildApps2(t)
	want := bigSum(hugeSize)
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"plain", nil}, {"offload", []string{"-offload"}}} {
		t.Run(mode.name, func(t *testing.T) {
			a := newAppNet(t)
			srv := a.start("configuration page at", filepath.Join(dir, "visor"),
				append(append(a.flags(), mode.extra...), "-password", adminPass)...)
			addr := a.n.StackAddr.Addr().String()
			v := loginVisor(t, a, "http://"+addr)
			httpd := "http://" + addr + ":8080"
			refused := func(when string) {
				t.Helper()
				// curl exits 7 when the connection is refused (lwgo answers
				// the SYN with a RST).
				if code, out := curlExit(a, "-sS", "-m", "5", "-o", "/dev/null", httpd+"/"); code != 7 {
					t.Fatalf("port 8080 %s: curl exit %d, want 7 (refused): %s", when, code, out)
				}
			}
			refused("before httpd is enabled")

			v.configure(t, `{"apps":{"httpd":{"enabled":true,"port":8080}}}`)
			st, ok := v.status()
			if en, run, port, _ := st.httpd(); !ok || st.LastApply != "" || !en || !run || port != 8080 {
				t.Fatalf("httpd after enabling: ok %v %+v", ok, st)
			}
			if out := a.mustRun(10*time.Second, "curl", "-sS", "-m", "5", httpd+"/"); !strings.Contains(out, "<h1>hello, world</h1>") {
				t.Fatalf("curl /: %q", out)
			}

			// 100 MiB from /big while curl polls the configuration page.
			st, _ = v.status()
			frames0, bytes0 := st.tx()
			file := filepath.Join(t.TempDir(), "big")
			type result struct {
				out string
				err error
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				out, err := a.run(60*time.Second, "curl", "-sS", "-m", "50", "-o", file,
					"-w", "%{http_code} %{size_download} %{speed_download}", httpd+"/big?size="+strconv.Itoa(hugeSize))
				done <- result{out, err}
			}()
			var res result
			during, seen := 0, false
		wait:
			for {
				select {
				case res = <-done:
					break wait
				default:
				}
				st, ok := v.status()
				select {
				case res = <-done: // the answer may have come after the download
					break wait
				default:
				}
				if !ok {
					t.Errorf("the configuration page did not answer during the download")
					continue
				}
				during++
				for _, c := range st.Connections {
					if c.Service == "httpd" && c.State == "ESTABLISHED" {
						seen = true
					}
				}
			}
			took := time.Since(start)
			f := strings.Fields(res.out)
			if res.err != nil || len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(hugeSize) {
				t.Fatalf("curl /big: %v %q", res.err, res.out)
			}
			if got := sumFile(t, file); got != want {
				t.Fatalf("/big: SHA-256 %s, want %s", got, want)
			}
			speed, _ := strconv.ParseFloat(f[2], 64)
			if during == 0 || !seen {
				t.Errorf("during the download: %d status answers, httpd's connection listed: %v", during, seen)
			}
			t.Logf("%s: 100 MiB from visor's httpd in %v (%.0f MB/s by curl); %d status answers during it",
				mode.name, took.Round(time.Millisecond), speed/1e6, during)
			st, _ = v.status()
			if _, _, _, detail := st.httpd(); !strings.HasPrefix(detail, "2 connections, 2 requests, ") {
				t.Errorf("httpd's status after two requests: %q", detail)
			}
			// The frames visor handed to the TAP meanwhile: Ethernet frames
			// of at most 1514 bytes, or with -offload TSO super-segments
			// that the kernel splits.
			frames1, bytes1 := st.tx()
			avg := float64(bytes1-bytes0) / float64(max(frames1-frames0, 1))
			t.Logf("%s: %d frames to the TAP, %.0f bytes on average", mode.name, frames1-frames0, avg)
			if offload := len(mode.extra) > 0; bytes1-bytes0 < hugeSize || offload != (avg > 2*1514) {
				t.Errorf("%d bytes in %d frames to the TAP (offload %v)", bytes1-bytes0, frames1-frames0, offload)
			}

			v.configure(t, `{"apps":{"httpd":{"enabled":false}}}`)
			st, ok = v.status()
			if en, run, _, _ := st.httpd(); !ok || en || run {
				t.Fatalf("httpd after disabling: ok %v %+v", ok, st)
			}
			refused("after disabling httpd")
			if _, ok := v.status(); !ok {
				t.Fatal("the configuration page stopped answering")
			}

			log := srv.stop()
			for _, line := range []string{" GET / 200\n", " GET /big?size=" + strconv.Itoa(hugeSize) + " 200\n"} {
				if !strings.Contains(log, line) {
					t.Errorf("visor's log has no %q:\n%.3000s", line, log)
				}
			}
		})
	}
}
