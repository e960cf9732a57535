//go:build qemu

package qemu

import (
	"encoding/json"
	"fmt"
	"github.com/lwgo/lwgo/test/qemu/internal/initramfs"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestVisorAppliance is the appliance case: the visor appliance
// (apps/visor with -e1000 auto -dhcp, started by ./visorinit as /init) boots
// on QEMU's e1000, driven by lwgo's userspace driver, and its configuration
// page is fetched from the host through a hostfwd port forward on
// 127.0.0.1 (user,restrict=on). It checks 401 without credentials, 200 with
// them and that /api/status is JSON, and measures the time from QEMU start
// to the first answered request. The image is what `make demo` boots.
func TestVisorAppliance(t *testing.T) {
	setup(t)
	const password = "qemu-test-pass"
	start := time.Now()
	for _, b := range []struct{ out, pkg string }{
		{"visor", "../../apps/visor"},
		{"visorinit", "./visorinit"},
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(work, b.out), b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	visorBin, err := os.ReadFile(filepath.Join(work, "visor"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := buildImage(filepath.Join(work, "visorinit"), "visor",
		initramfs.File{Name: "visor", Mode: initramfs.ModeFile | 0o755, Data: visorBin},
		initramfs.File{Name: "etc", Mode: initramfs.ModeDir | 0o755},
		initramfs.File{Name: "etc/visor.args", Mode: initramfs.ModeFile | 0o600,
			Data: []byte("-e1000\nauto\n-dhcp\n-password\n" + password + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("visor image built in %v", time.Since(start).Round(time.Millisecond))

	port := freePort(t)
	vm := Boot{
		Name:    "visor",
		Initrd:  img,
		Memory:  512,
		Netdev:  fmt.Sprintf("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:80", port),
		Timeout: 120 * time.Second,
	}.Start(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string, auth bool) (int, []byte, error) {
		req, _ := http.NewRequest("GET", url+path, nil)
		if auth {
			req.SetBasicAuth("admin", password)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}

	// The first answered request: any HTTP response from visor.
	var first time.Duration
	code := 0
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); {
		if code, _, err = get("/", false); err == nil {
			first = vm.Since()
			break
		}
		select {
		case <-vm.eof:
			end = time.Now()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if first == 0 {
		vm.Kill()
		vm.Wait(t)
		t.Fatalf("no answer from %s", url)
	}
	t.Logf("visor: first answered request %v after QEMU start", first.Round(time.Millisecond))
	fmt.Printf("qemu-timing: case=visor qemu-start-to-first-answered-request=%v\n", first.Round(time.Millisecond))
	if code != http.StatusUnauthorized {
		t.Errorf("GET / without credentials: %d, want 401", code)
	}
	if code, body, err := get("/", true); err != nil || code != http.StatusOK {
		t.Errorf("GET / as admin: %d %v %.200q", code, err, body)
	}
	code, body, err := get("/api/status", true)
	if err != nil || code != http.StatusOK {
		t.Errorf("GET /api/status: %d %v", code, err)
	}
	var status struct {
		Interfaces []struct {
			Name    string `json:"name"`
			Address string `json:"address"`
			LinkUp  bool   `json:"link_up"`
		} `json:"interfaces"`
		DHCP struct {
			State string `json:"state"`
		} `json:"dhcp"`
	}
	if err := json.Unmarshal(body, &status); err != nil {
		t.Errorf("/api/status is not JSON: %v: %.300q", err, body)
	} else {
		t.Logf("visor status: interfaces %+v, dhcp %s", status.Interfaces, status.DHCP.State)
		if len(status.Interfaces) == 0 || status.Interfaces[0].Address != "10.0.2.15/24" || status.DHCP.State != "BOUND" {
			t.Errorf("status: interfaces %+v dhcp %q, want en0 10.0.2.15/24 from a BOUND lease", status.Interfaces, status.DHCP.State)
		}
	}
	// visor serves until stopped: the verdict is the host's checks above,
	// not the guest's exit (the killed VM reports no guest verdict).
	vm.Kill()
	r := vm.Wait(t)
	if r.Find("visor: configuration page at") == "" {
		t.Errorf("console lacks visor's banner")
	}
}
