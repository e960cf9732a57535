package admin

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/rawapi"
)

// fakeSystem records what the App applies.
type fakeSystem struct {
	applied  []Settings
	network  []Settings
	applyErr error
	checkFE  FieldErrors
}

func (f *fakeSystem) Status(st *Status) { st.DNS = []netip.Addr{netip.MustParseAddr("198.18.0.1")} }
func (f *fakeSystem) Check(s *Settings, fe FieldErrors) {
	for k, v := range f.checkFE {
		fe[k] = v
	}
}
func (f *fakeSystem) Apply(old, s Settings) error {
	f.applied = append(f.applied, s)
	return f.applyErr
}
func (f *fakeSystem) ApplyNetwork(old, s Settings) error {
	f.network = append(f.network, s)
	return nil
}

const testPassword = "correct horse"

func testSettings() Settings {
	s := Default()
	s.Password = testPassword
	s.Network = Network{Address: netip.MustParsePrefix("198.18.0.2/24"), Gateway: netip.MustParseAddr("198.18.0.1")}
	return s
}

// appRig is an App with a fake system and a client's session.
type appRig struct {
	t    *testing.T
	app  *App
	sys  *fakeSystem
	now  rawapi.Time
	sid  string // the session cookie the client got
	file string
}

func newAppRig(t *testing.T, file string) *appRig {
	t.Helper()
	r := &appRig{t: t, sys: &fakeSystem{}, file: file}
	var err error
	r.app, err = NewApp(Config{ConfigFile: file, Port: 80, Version: "test"}, testSettings(), r.sys, func() rawapi.Time { return r.now })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// do sends a request with the given extra header lines ("Name: value").
func (r *appRig) do(method, target, body string, header ...string) *Response {
	r.t.Helper()
	raw := method + " " + target + " HTTP/1.1\r\nHost: 198.18.0.2\r\n" + strings.Join(header, "\r\n")
	if len(header) > 0 {
		raw += "\r\n"
	}
	if body != "" {
		raw += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	raw += "\r\n"
	req, perr := ParseHead([]byte(raw), testLimits)
	if perr != nil {
		r.t.Fatalf("%q: %v", raw, perr)
	}
	req.Body = []byte(body)
	resp := r.app.Handle(req)
	for _, f := range resp.Header {
		if f.Name == "Set-Cookie" {
			v, _, _ := strings.Cut(strings.TrimPrefix(f.Value, sessionCookie+"="), ";")
			r.sid = v
		}
	}
	return resp
}

// authed adds the credentials and the session cookie.
func (r *appRig) authed(header ...string) []string {
	h := append([]string{"Authorization: " + basic("admin", testPassword)}, header...)
	if r.sid != "" {
		h = append(h, "Cookie: other=1; "+sessionCookie+"="+r.sid)
	}
	return h
}

func get(resp *Response, name string) string {
	for _, f := range resp.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

func TestAuthRequired(t *testing.T) {
	r := newAppRig(t, "")
	for _, h := range [][]string{
		nil,
		{"Authorization: " + basic("admin", "wrong")},
		{"Authorization: " + basic("root", testPassword)},
		{"Authorization: Basic !!!"},
		{"Authorization: Bearer x"},
	} {
		resp := r.do("GET", "/", "", h...)
		if resp.Status != 401 || !strings.HasPrefix(get(resp, "WWW-Authenticate"), "Basic realm=") {
			t.Errorf("%v: %d", h, resp.Status)
		}
	}
	if resp := r.do("GET", "/api/status", "", r.authed()...); resp.Status != 200 {
		t.Fatalf("with credentials: %d", resp.Status)
	}
}

func TestNoPasswordRefused(t *testing.T) {
	s := testSettings()
	s.Password = ""
	if _, err := NewApp(Config{}, s, nil, func() rawapi.Time { return 0 }); err != ErrNoPassword {
		t.Fatalf("NewApp without a password: %v", err)
	}
	a, err := NewApp(Config{InsecureNoAuth: true}, s, nil, func() rawapi.Time { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	req, _ := ParseHead([]byte("GET /api/config HTTP/1.1\r\nHost: x\r\n\r\n"), testLimits)
	if resp := a.Handle(req); resp.Status != 200 {
		t.Fatalf("-insecure-no-auth: %d", resp.Status)
	}
}

func TestPageAndSecurityHeaders(t *testing.T) {
	r := newAppRig(t, "")
	resp := r.do("GET", "/", "", r.authed()...)
	if resp.Status != 200 || r.sid == "" || !strings.Contains(get(resp, "Content-Type"), "text/html") {
		t.Fatalf("%d %q %v", resp.Status, r.sid, resp.Header)
	}
	body := string(resp.Body)
	for _, want := range []string{`name=csrf value="` + r.app.g.token(r.sid) + `"`, "198.18.0.2/24", `name=hostname value="lwgo"`,
		"<link rel=stylesheet href=/style.css>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "http://") && strings.Contains(body, "src=") {
		t.Error("page has scripts, inline styles or external sources")
	}
	head := string(resp.AppendHead(nil, "GET", true))
	for _, want := range []string{"Content-Security-Policy: default-src 'self'", "X-Frame-Options: DENY",
		"X-Content-Type-Options: nosniff", "Cache-Control: no-store", "Set-Cookie: lwgo_session=", "HttpOnly; SameSite=Strict"} {
		if !strings.Contains(head, want) {
			t.Errorf("head lacks %q:\n%s", want, head)
		}
	}
	// Markup in settings is escaped.
	r.app.settings.Apps.TFTPD.Root = `/x"><script>alert(1)</script>`
	if body := string(r.do("GET", "/", "", r.authed()...).Body); strings.Contains(body, "<script>") {
		t.Error("settings are not escaped")
	}
}

// form is the page's form with the current values, changed by kv.
func (r *appRig) form(kv ...string) string {
	v := url.Values{}
	for k, x := range formValues(r.app.settings) {
		v.Set(k, x)
	}
	v.Set("csrf", r.app.g.token(r.sid))
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v.Encode()
}

const formType = "Content-Type: application/x-www-form-urlencoded"

func TestFormChange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "visor.json")
	r := newAppRig(t, file)
	r.do("GET", "/", "", r.authed()...)
	resp := r.do("POST", "/config", r.form("hostname", "box1", "dns1", "198.18.0.53", "iperf_enabled", "on"),
		r.authed(formType, "Origin: http://198.18.0.2")...)
	if resp.Status != 303 || get(resp, "Location") != "/?saved=1" {
		t.Fatalf("%d %q %s", resp.Status, get(resp, "Location"), resp.Body)
	}
	s := r.app.Settings()
	if s.Hostname != "box1" || len(s.Network.DNS) != 1 || !s.Apps.IPerf.Enabled || s.Password != testPassword {
		t.Fatalf("settings %+v", s)
	}
	if len(r.sys.applied) != 1 || resp.AfterSent == nil {
		t.Fatalf("applied %d, network change %v", len(r.sys.applied), resp.AfterSent != nil)
	}
	resp.AfterSent()
	if len(r.sys.network) != 1 {
		t.Fatal("network not applied after the response")
	}
	saved, err := Load(file)
	if err != nil || saved.Hostname != "box1" || saved.Password != testPassword {
		t.Fatalf("saved %+v %v", saved, err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode())
	}
	// An address change sends the browser to the new address.
	resp = r.do("POST", "/config", r.form("address", "198.18.0.9/24"), r.authed(formType)...)
	if resp.Status != 303 || get(resp, "Location") != "http://198.18.0.9/?saved=1" {
		t.Fatalf("%d %q", resp.Status, get(resp, "Location"))
	}
	// The password changes, and the old one stops working.
	resp = r.do("POST", "/config", r.form("password", "new password", "password2", "new password"), r.authed(formType)...)
	if resp.Status != 303 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	if r.do("GET", "/", "", r.authed()...).Status != 401 {
		t.Fatal("old password still accepted")
	}
	if r.do("GET", "/", "", "Authorization: "+basic("admin", "new password")).Status != 200 {
		t.Fatal("new password refused")
	}
}

func TestFormCSRF(t *testing.T) {
	r := newAppRig(t, "")
	r.do("GET", "/", "", r.authed()...)
	good := r.form("hostname", "evil")
	for _, tc := range []struct {
		name   string
		body   string
		header []string
		status int
	}{
		{"no token", r.form("hostname", "evil", "csrf", "\x00"), r.authed(formType), 403},
		{"wrong token", r.form("hostname", "evil", "csrf", strings.Repeat("0", 64)), r.authed(formType), 403},
		{"no session cookie", good, []string{"Authorization: " + basic("admin", testPassword), formType}, 403},
		{"other session", good, []string{"Authorization: " + basic("admin", testPassword), formType,
			"Cookie: " + sessionCookie + "=" + strings.Repeat("ab", 16)}, 403},
		{"cross origin", good, r.authed(formType, "Origin: http://evil.test"), 403},
		{"null origin", good, r.authed(formType, "Origin: null"), 403},
		{"cross referer", good, r.authed(formType, "Referer: http://evil.test/page"), 403},
		{"wrong type", good, r.authed("Content-Type: text/plain"), 415},
	} {
		sid := r.sid
		if resp := r.do("POST", "/config", tc.body, tc.header...); resp.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.Status, tc.status)
		}
		r.sid = sid // a request without the cookie was given a new session
	}
	if r.app.settings.Hostname == "evil" || len(r.sys.applied) != 0 {
		t.Fatal("a forged request changed the settings")
	}
	// Same-origin Referer passes.
	if resp := r.do("POST", "/config", good, r.authed(formType, "Referer: http://198.18.0.2/")...); resp.Status != 303 {
		t.Fatalf("same-origin referer: %d", resp.Status)
	}
}

func TestFormBadInput(t *testing.T) {
	r := newAppRig(t, "")
	r.do("GET", "/", "", r.authed()...)
	for _, tc := range []struct {
		kv    []string
		field string
	}{
		{[]string{"hostname", "bad_name!"}, "hostname"},
		{[]string{"hostname", "-x"}, "hostname"},
		{[]string{"address", "198.18.0.2"}, "network.address"},
		{[]string{"address", "198.18.0.0/24"}, "network.address"},
		{[]string{"address", "224.0.0.1/24"}, "network.address"},
		{[]string{"gateway", "10.0.0.1"}, "network.gateway"},
		{[]string{"dns1", "nope"}, "network.dns"},
		{[]string{"tftpd_enabled", "on", "tftpd_root", "relative"}, "apps.tftpd.root"},
		{[]string{"tftpd_enabled", "on", "tftpd_root", "/nonexistent/dir"}, "apps.tftpd.root"},
		{[]string{"httpd_enabled", "on", "httpd_port", "80"}, "apps.httpd.port"},
		{[]string{"httpd_enabled", "on", "iperf_enabled", "on", "httpd_port", "5001"}, "apps.iperf.port"},
		{[]string{"iperf_port", "70000"}, "apps.iperf.port"},
		{[]string{"password", "short", "password2", "short"}, "password"},
		{[]string{"password", "long enough 1", "password2", "long enough 2"}, "password"},
	} {
		resp := r.do("POST", "/config", r.form(tc.kv...), r.authed(formType)...)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), "class=error") {
			t.Errorf("%v: %d", tc.kv, resp.Status)
			continue
		}
		if _, err := json.Marshal(nil); err != nil {
			t.Fatal(err)
		}
		// The form comes back filled with what was sent.
		if v := tc.kv[1]; v != "on" && !strings.Contains(string(resp.Body), `value="`+v+`"`) && tc.field != "password" {
			t.Errorf("%v: the form lost the value", tc.kv)
		}
	}
	if len(r.sys.applied) != 0 {
		t.Fatal("bad input was applied")
	}
}

func TestAPIConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.json")
	r := newAppRig(t, file)
	resp := r.do("GET", "/api/config", "", r.authed()...)
	tok := get(resp, "X-CSRF-Token")
	if resp.Status != 200 || tok == "" || get(resp, "Cache-Control") != "no-store" {
		t.Fatalf("%d %q", resp.Status, tok)
	}
	if strings.Contains(string(resp.Body), testPassword) || !strings.Contains(string(resp.Body), `"password_set": true`) {
		t.Fatalf("GET shows the password: %s", resp.Body)
	}
	var got Settings
	if err := json.Unmarshal(resp.Body, &got); err != nil || got.Network.Address != netip.MustParsePrefix("198.18.0.2/24") {
		t.Fatalf("%v %+v", err, got)
	}
	jsonType := "Content-Type: application/json"
	// POST merges.
	resp = r.do("POST", "/api/config", `{"hostname":"merged","apps":{"iperf":{"enabled":true}}}`, r.authed(jsonType, "X-CSRF-Token: "+tok)...)
	if resp.Status != 200 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	s := r.app.Settings()
	if s.Hostname != "merged" || !s.Apps.IPerf.Enabled || s.Apps.IPerf.Port != 5001 || s.Network.Address.Bits() != 24 {
		t.Fatalf("merge: %+v", s)
	}
	// PUT replaces: what is missing is zero, and fails validation.
	resp = r.do("PUT", "/api/config", `{"hostname":"only"}`, r.authed(jsonType, "X-CSRF-Token: "+tok)...)
	var e struct {
		Error  string
		Fields map[string]string
	}
	if resp.Status != 400 || json.Unmarshal(resp.Body, &e) != nil || e.Fields["network.address"] == "" {
		t.Fatalf("PUT partial: %d %s", resp.Status, resp.Body)
	}
	full, _ := json.Marshal(testSettings().Public())
	if resp = r.do("PUT", "/api/config", string(full), r.authed(jsonType, "X-CSRF-Token: "+tok)...); resp.Status != 200 {
		t.Fatalf("PUT full: %d %s", resp.Status, resp.Body)
	}
	if s := r.app.Settings(); s.Hostname != "lwgo" || s.Password != testPassword {
		t.Fatalf("PUT: %+v", s)
	}
	for _, tc := range []struct {
		name, body string
		header     []string
		status     int
	}{
		{"no token", `{}`, r.authed(jsonType), 403},
		{"token in the body is not enough", `{"csrf":"` + tok + `"}`, r.authed(jsonType), 403},
		{"wrong type", `{}`, r.authed("Content-Type: text/plain", "X-CSRF-Token: "+tok), 415},
		{"bad JSON", `{"hostname":`, r.authed(jsonType, "X-CSRF-Token: "+tok), 400},
		{"unknown field", `{"hostnme":"x"}`, r.authed(jsonType, "X-CSRF-Token: "+tok), 400},
		{"trailing data", `{} {}`, r.authed(jsonType, "X-CSRF-Token: "+tok), 400},
		{"bad address", `{"network":{"dhcp":false,"address":"300.1.1.1/24"}}`, r.authed(jsonType, "X-CSRF-Token: "+tok), 400},
		{"cross origin", `{}`, r.authed(jsonType, "X-CSRF-Token: "+tok, "Origin: http://evil.test"), 403},
	} {
		if resp := r.do("POST", "/api/config", tc.body, tc.header...); resp.Status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, resp.Status, tc.status, resp.Body)
		}
	}
	if resp := r.do("DELETE", "/api/config", "", r.authed("X-CSRF-Token: "+tok)...); resp.Status != 405 || get(resp, "Allow") == "" {
		t.Errorf("DELETE: %d", resp.Status)
	}
	if resp := r.do("GET", "/api/csrf", "", r.authed()...); !strings.Contains(string(resp.Body), tok) {
		t.Errorf("/api/csrf: %s", resp.Body)
	}
}

func TestAPIStatus(t *testing.T) {
	r := newAppRig(t, "")
	r.now = r.now.Add(90 * rawapi.Second)
	resp := r.do("GET", "/api/status", "", r.authed()...)
	var st Status
	if err := json.Unmarshal(resp.Body, &st); err != nil || st.Uptime != 90 || len(st.DNS) != 1 || st.Hostname != "lwgo" {
		t.Fatalf("%v %+v", err, st)
	}
}

func TestRoutes(t *testing.T) {
	r := newAppRig(t, "")
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/nope", 404}, {"GET", "/api/nope", 404}, {"POST", "/", 405}, {"GET", "/config", 405},
		{"HEAD", "/", 200}, {"GET", "/style.css", 200}, {"GET", "/files/", 404},
	} {
		if resp := r.do(tc.method, tc.target, "", r.authed()...); resp.Status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.target, resp.Status, tc.status)
		}
	}
	if resp := r.do("GET", "/api/nope", "", r.authed()...); get(resp, "Content-Type") != "application/json" {
		t.Error("API errors are not JSON")
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "a.bin"), []byte("0123456789"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "b<x>.txt"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(dir, "secret"), filepath.Join(root, "escape"))
	r := newAppRig(t, "")
	r.app.settings.Apps.TFTPD.Root = root
	resp := r.do("GET", "/files/a.bin", "", r.authed()...)
	if resp.Status != 200 || resp.File == nil || resp.Size != 10 {
		t.Fatalf("%d %v", resp.Status, resp.Size)
	}
	resp.File.Close()
	resp = r.do("GET", "/files/", "", r.authed()...)
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `href="a.bin"`) || !strings.Contains(string(resp.Body), `href="sub/"`) {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	resp = r.do("GET", "/files/sub/", "", r.authed()...)
	if !strings.Contains(string(resp.Body), "b&lt;x&gt;.txt") {
		t.Fatalf("listing not escaped: %s", resp.Body)
	}
	if resp := r.do("GET", "/files/sub", "", r.authed()...); resp.Status != 301 || get(resp, "Location") != "/files/sub/" {
		t.Errorf("directory without slash: %d", resp.Status)
	}
	for _, p := range []string{"/files/../secret", "/files/escape", "/files/sub/../../secret", "/files/nope", "/files/%2e%2e/secret"} {
		resp := r.do("GET", p, "", r.authed()...)
		if resp.Status < 400 || resp.File != nil {
			t.Errorf("%s: %d", p, resp.Status)
		}
	}
}

func TestValidate(t *testing.T) {
	good := testSettings()
	if fe := good.Validate(80); fe != nil {
		t.Fatalf("good settings: %v", fe)
	}
	dhcp := good
	dhcp.Network = Network{DHCP: true}
	if fe := dhcp.Validate(80); fe != nil {
		t.Fatalf("DHCP: %v", fe)
	}
	for _, tc := range []struct {
		change func(*Settings)
		field  string
	}{
		{func(s *Settings) { s.Hostname = "" }, "hostname"},
		{func(s *Settings) { s.Hostname = strings.Repeat("a", 64) }, "hostname"},
		{func(s *Settings) { s.Hostname = "a..b" }, "hostname"},
		{func(s *Settings) { s.Network.Address = netip.Prefix{} }, "network.address"},
		{func(s *Settings) { s.Network.Address = netip.MustParsePrefix("198.18.0.255/24") }, "network.address"},
		{func(s *Settings) { s.Network.Address = netip.MustParsePrefix("127.0.0.2/8") }, "network.address"},
		{func(s *Settings) { s.Network.Address = netip.MustParsePrefix("::1/64") }, "network.address"},
		{func(s *Settings) { s.Network.Address = netip.MustParsePrefix("198.18.0.2/4") }, "network.address"},
		{func(s *Settings) { s.Network.Gateway = netip.MustParseAddr("198.18.0.2") }, "network.gateway"},
		{func(s *Settings) { s.Network.DNS = make([]netip.Addr, 3) }, "network.dns"},
		{func(s *Settings) { s.Network.DNS = []netip.Addr{netip.MustParseAddr("0.0.0.0")} }, "network.dns"},
		{func(s *Settings) { s.Apps.HTTPD = Service{Enabled: true} }, "apps.httpd.port"},
		{func(s *Settings) { s.Apps.TFTPD = TFTPD{Enabled: true, Root: "/", Port: 0} }, "apps.tftpd.port"},
	} {
		s := testSettings()
		tc.change(&s)
		if fe := s.Validate(80); fe[tc.field] == "" {
			t.Errorf("%s: not refused (%v)", tc.field, fe)
		}
	}
	s := testSettings()
	s.Network.Address = netip.MustParsePrefix("198.18.0.2/32") // a /32 has no broadcast
	s.Network.Gateway = netip.Addr{}
	if fe := s.Validate(80); fe != nil {
		t.Errorf("/32: %v", fe)
	}
}

func TestSettingsJSONRoundTrip(t *testing.T) {
	s := testSettings()
	s.Network.DNS = []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.3")}
	s.Apps.TFTPD = TFTPD{Enabled: true, Root: "/srv", Writable: true, Port: 69}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeJSON(b, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(got)
	if string(b) != string(b2) {
		t.Fatalf("round trip:\n%s\n%s", b, b2)
	}
	// Save and Load keep everything, the password included.
	file := filepath.Join(t.TempDir(), "s.json")
	if err := Save(file, s); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	b3, _ := json.Marshal(loaded)
	if string(b3) != string(b) {
		t.Fatalf("Save/Load:\n%s\n%s", b, b3)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(filepath.Dir(file))
	if len(ents) != 1 {
		t.Fatalf("directory holds %d files", len(ents))
	}
	// A missing file is the defaults; a broken one is an error.
	if _, err := Load(filepath.Join(t.TempDir(), "none")); !os.IsNotExist(err) {
		t.Fatalf("missing: %v", err)
	}
	os.WriteFile(file, []byte("{broken"), 0o600)
	if _, err := Load(file); err == nil {
		t.Fatal("broken file loaded")
	}
}

func TestTokens(t *testing.T) {
	g := newGuard("admin", "pw", false)
	id := newSessionID()
	if !isSessionID(id) || isSessionID("xyz") || isSessionID(strings.Repeat("g", 32)) {
		t.Fatal("session ids")
	}
	tok := g.token(id)
	if !g.validToken(id, tok) || g.validToken(newSessionID(), tok) || g.validToken(id, tok[:10]) || g.validToken("", "") {
		t.Fatal("token checks")
	}
	if newGuard("admin", "pw", false).token(id) == tok {
		t.Fatal("tokens survive a new key")
	}
}
