package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/httpconfig/admin"
	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/rawapi"
)

// TestCurlAgainstHTTPConfig: lwgo's curl on stack A against lwgo's
// configuration server on stack B: authentication, JSON status, a change
// through the API with its CSRF token, a redirect, and a download checked
// by SHA-256, several URLs over one kept connection.
func TestCurlAgainstHTTPConfig(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	data := make([]byte, 6<<20+11)
	rand.NewChaCha8([32]byte{9}).Read(data)
	os.WriteFile(filepath.Join(root, "sub", "big.bin"), data, 0o644)
	sum := sha256.Sum256(data)

	w := apptest.New(t, apptest.Options{Config: rawapi.Config{PoolBufs: 1024}})
	s := admin.Default()
	s.Password = "password1"
	s.Network = admin.Network{Address: netip.PrefixFrom(apptest.AddrB, 24)}
	s.Apps.TFTPD = admin.TFTPD{Root: root, Port: 69}
	sys := &admin.StackSystem{Stack: w.B, Netif: w.NB}
	app, err := admin.NewApp(admin.Config{Port: 80}, s, sys, w.B.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := admin.NewServer(w.B, app, admin.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := &curlRig{t: t, w: w, files: &memFiles{files: map[string]*bytes.Buffer{}}, limit: 120 * rawapi.Second}

	res := r.curl("-sSf", base+"/api/status")
	if res.code != ExitHTTPReturnedError || !strings.Contains(res.stderr, "error: 401") {
		t.Fatalf("no credentials: %d %q", res.code, res.stderr)
	}
	res = r.curl("-sf", "-u", "admin:password1", "-w", "\n%{http_code} %{num_connects}", base+"/api/status", base+"/style.css")
	if res.code != 0 || !strings.Contains(res.stdout, `"uptime_seconds"`) || !strings.HasSuffix(res.stdout, "\n200 0") {
		t.Fatalf("status: %d %q", res.code, res.stdout)
	}
	// A change through the API, with a session and its token.
	sid := strings.Repeat("5a", 16)
	tok := appToken(t, w, sid)
	res = r.curl("-sf", "-u", "admin:password1", "-H", "Cookie: lwgo_session="+sid, "-H", "X-CSRF-Token: "+tok,
		"-H", "Content-Type: application/json", "-d", `{"hostname":"from-curl"}`, base+"/api/config")
	if res.code != 0 || app.Settings().Hostname != "from-curl" {
		t.Fatalf("change: %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = r.curl("-s", "-u", "admin:password1", "-H", "Content-Type: application/json", "-d", `{"hostname":"forged"}`,
		"-w", "%{http_code}", "-o", "/dev/null", base+"/api/config")
	if res.stdout != "403" || app.Settings().Hostname != "from-curl" {
		t.Fatalf("without the token: %q", res.stdout)
	}
	// /files/sub redirects to /files/sub/; then the download.
	res = r.curl("-sfL", "-u", "admin:password1", "-w", "%{num_redirects}", base+"/files/sub")
	if res.code != 0 || !strings.Contains(res.stdout, `href="big.bin"`) || !strings.HasSuffix(res.stdout, "1") {
		t.Fatalf("listing: %d %q", res.code, res.stdout)
	}
	res = r.curl("-sf", "-u", "admin:password1", "-o", "big", "-w", "%{size_download}", base+"/files/sub/big.bin")
	got := sha256.Sum256(res.files["big"].Bytes())
	if res.code != 0 || res.stdout != strconv.Itoa(len(data)) || got != sum {
		t.Fatalf("download: %d %q sha %s", res.code, res.stdout, hex.EncodeToString(got[:]))
	}
	srv.Close()
	r.settle()
}

// appToken is the CSRF token of session sid, as the server's /api/csrf
// hands it out (fetched over the wire, with the session cookie).
func appToken(t *testing.T, w *apptest.World, sid string) string {
	t.Helper()
	r := &curlRig{t: t, w: w, files: &memFiles{files: map[string]*bytes.Buffer{}}, limit: 30 * rawapi.Second}
	res := r.curl("-sf", "-u", "admin:password1", "-H", "Cookie: lwgo_session="+sid, base+"/api/csrf")
	i := strings.Index(res.stdout, `"token": "`)
	if res.code != 0 || i < 0 {
		t.Fatalf("/api/csrf: %d %q", res.code, res.stdout)
	}
	return res.stdout[i+10 : i+10+64]
}
