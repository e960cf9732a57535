package admin

import (
	"encoding/json"
	"errors"
	"html"
	"io"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lwgo/lwgo/rawapi"
)

// Config configures an App.
type Config struct {
	// User is the administrator's user name. Default "admin".
	User string
	// InsecureNoAuth turns authentication off (CSRF protection stays).
	InsecureNoAuth bool
	// ConfigFile is where changes persist (Save); "" keeps them in memory.
	ConfigFile string
	// Port is the server's own port, which the services may not take.
	Port uint16
	// Version is shown on the page.
	Version string
}

// Response is what a handler answers. The server adds the framing fields
// (Content-Length, Connection, Date) and the security headers.
type Response struct {
	Status int
	Header []Field
	Body   []byte
	// File, when set, is streamed after the head instead of Body; Size is
	// its length. The server closes it.
	File *os.File
	Size int64
	// Close ends the connection after this response.
	Close bool
	// AfterSent runs once the response has been handed to TCP entirely.
	AfterSent func()
}

func (r *Response) add(name, value string) { r.Header = append(r.Header, Field{name, value}) }

// App is the configuration server's logic: requests in, responses out,
// with no network: Handle is what the TCP server calls for each request,
// and what tests call directly.
type App struct {
	cfg      Config
	g        *guard
	sys      System
	settings Settings // in force
	now      func() rawapi.Time
	start    rawapi.Time
	file     ConfigFileStatus
	lastErr  string // of the last Apply
	// server reports the TCP server's counters and connections; set by
	// the Server.
	server func(st *Status)
}

// ErrNoPassword: the App would be open to anyone.
var ErrNoPassword = errors.New("no password: give one (-password or the configuration file), or -insecure-no-auth")

// NewApp returns the App for the settings in force s (their Password is
// the administrator's), reporting on and applying to sys; now is the
// stack's clock.
func NewApp(cfg Config, s Settings, sys System, now func() rawapi.Time) (*App, error) {
	if cfg.User == "" {
		cfg.User = "admin"
	}
	if s.Password == "" && !cfg.InsecureNoAuth {
		return nil, ErrNoPassword
	}
	a := &App{cfg: cfg, g: newGuard(cfg.User, s.Password, cfg.InsecureNoAuth), sys: sys, settings: s.Clone(),
		now: now, start: now()}
	a.file.Path = cfg.ConfigFile
	return a, nil
}

// Settings returns the settings in force.
func (a *App) Settings() Settings { return a.settings.Clone() }

// security headers of every response.
var secHeaders = []Field{
	{"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"},
	{"X-Frame-Options", "DENY"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "same-origin"},
}

// Handle answers one request.
func (a *App) Handle(r *Request) *Response {
	if !a.g.authorized(r) {
		resp := a.errorPage(401, "Authentication required.", r)
		resp.add("WWW-Authenticate", `Basic realm="lwgo visor", charset="UTF-8"`)
		return resp
	}
	sid := session(r)
	fresh := ""
	if sid == "" {
		sid = newSessionID()
		fresh = sid
	}
	resp := a.route(r, sid, fresh == "")
	if fresh != "" {
		resp.add("Set-Cookie", sessionCookie+"="+fresh+"; Path=/; HttpOnly; SameSite=Strict")
	}
	return resp
}

func (a *App) route(r *Request, sid string, haveSession bool) *Response {
	p := r.Path
	allow := func(methods ...string) *Response {
		for _, m := range methods {
			if r.Method == m {
				return nil
			}
		}
		resp := a.errorPage(405, "Method "+r.Method+" is not allowed here.", r)
		resp.add("Allow", strings.Join(methods, ", "))
		return resp
	}
	if !safeMethod(r.Method) {
		if !sameOrigin(r) {
			return a.errorPage(403, "Cross-origin request refused (Origin or Referer is not this server).", r)
		}
	}
	switch {
	case p == "/":
		if e := allow("GET", "HEAD"); e != nil {
			return e
		}
		notice := ""
		if r.RawQuery == "saved=1" {
			notice = "Settings applied."
			if a.file.Error != "" {
				notice += " Saving them failed: " + a.file.Error
			}
		}
		return a.page(200, sid, nil, nil, notice)
	case p == "/style.css":
		if e := allow("GET", "HEAD"); e != nil {
			return e
		}
		resp := &Response{Status: 200, Body: []byte(styleCSS)}
		resp.add("Content-Type", "text/css; charset=utf-8")
		resp.add("Cache-Control", "max-age=3600")
		return resp
	case p == "/config":
		if e := allow("POST"); e != nil {
			return e
		}
		return a.formUpdate(r, sid, haveSession)
	case p == "/api/config":
		if e := allow("GET", "HEAD", "PUT", "POST"); e != nil {
			return e
		}
		if safeMethod(r.Method) {
			resp := a.json(200, a.settingsDoc())
			resp.add("X-CSRF-Token", a.g.token(sid))
			return resp
		}
		return a.apiUpdate(r, sid, haveSession)
	case p == "/api/status":
		if e := allow("GET", "HEAD"); e != nil {
			return e
		}
		return a.json(200, a.Status())
	case p == "/api/csrf":
		if e := allow("GET", "HEAD"); e != nil {
			return e
		}
		return a.json(200, map[string]string{"token": a.g.token(sid), "header": csrfHeader})
	case p == "/files" || strings.HasPrefix(p, "/files/"):
		if e := allow("GET", "HEAD"); e != nil {
			return e
		}
		return a.files(r)
	}
	return a.errorPage(404, "Nothing here: "+r.Path, r)
}

// settingsDoc is the settings as GET /api/config shows them.
func (a *App) settingsDoc() any {
	return struct {
		Settings
		PasswordSet bool `json:"password_set"`
	}{a.settings.Public(), a.settings.Password != "" || a.cfg.InsecureNoAuth}
}

// Status gathers the status.
func (a *App) Status() Status {
	st := Status{Hostname: a.settings.Hostname, Config: a.file, LastApply: a.lastErr,
		DNS: []netip.Addr{}, Services: []ServiceStatus{}, Connections: []ConnStatus{}}
	st.Uptime = float64(a.now().Sub(a.start)) / float64(rawapi.Second)
	if a.sys != nil {
		a.sys.Status(&st)
	}
	if a.server != nil {
		a.server(&st)
	}
	return st
}

// errorPage is a small HTML (or JSON, for the API) error response.
func (a *App) errorPage(status int, msg string, r *Request) *Response {
	if r != nil && strings.HasPrefix(r.Path, "/api/") {
		return a.json(status, map[string]string{"error": msg})
	}
	body := "<!doctype html><meta charset=utf-8><title>" + strconv.Itoa(status) + " " + statusText(status) +
		"</title><h1>" + strconv.Itoa(status) + " " + statusText(status) + "</h1><p>" + html.EscapeString(msg) + "</p>\n"
	resp := &Response{Status: status, Body: []byte(body)}
	resp.add("Content-Type", "text/html; charset=utf-8")
	resp.add("Cache-Control", "no-store")
	return resp
}

func (a *App) json(status int, v any) *Response {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		b = []byte(`{"error": "internal: ` + err.Error() + `"}`)
		status = 500
	}
	resp := &Response{Status: status, Body: append(b, '\n')}
	resp.add("Content-Type", "application/json")
	resp.add("Cache-Control", "no-store")
	return resp
}

// checkCSRF verifies a state-changing request's token.
func (a *App) checkCSRF(sid string, haveSession bool, tok string) *Response {
	if !haveSession {
		return a.json(403, map[string]string{"error": "no session: GET the page or /api/csrf first, and send its cookie"})
	}
	if !a.g.validToken(sid, tok) {
		return a.json(403, map[string]string{"error": "missing or wrong CSRF token"})
	}
	return nil
}

func mediaType(r *Request) string {
	ct, _, _ := strings.Cut(r.Get("Content-Type"), ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// apiUpdate handles PUT (replace) and POST (merge) of /api/config.
func (a *App) apiUpdate(r *Request, sid string, haveSession bool) *Response {
	if e := a.checkCSRF(sid, haveSession, r.Get(csrfHeader)); e != nil {
		return e
	}
	if mediaType(r) != "application/json" {
		return a.json(415, map[string]string{"error": "send Content-Type: application/json"})
	}
	base := a.settings
	if r.Method == "PUT" {
		base = Settings{}
	}
	next, err := DecodeJSON(r.Body, base)
	if err != nil {
		return a.json(400, map[string]string{"error": err.Error()})
	}
	resp, fe := a.update(next)
	if fe != nil {
		return a.json(400, map[string]any{"error": "invalid settings: " + fe.Error(), "fields": fe})
	}
	out := a.json(200, map[string]any{"settings": a.settingsDoc(), "saved": a.file.Saved,
		"network_change": resp != nil, "apply_error": a.lastErr})
	if resp != nil {
		out.AfterSent = resp
	}
	return out
}

// formUpdate handles the page's form.
func (a *App) formUpdate(r *Request, sid string, haveSession bool) *Response {
	if mediaType(r) != "application/x-www-form-urlencoded" {
		return a.errorPage(415, "The form must be sent as application/x-www-form-urlencoded.", r)
	}
	q, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return a.errorPage(400, "Malformed form data.", r)
	}
	if !haveSession || !a.g.validToken(sid, q.Get(csrfField)) {
		return a.errorPage(403, "The form's security token is missing or stale: reload the page and try again.", r)
	}
	next, fe := a.fromForm(q)
	vals := map[string]string{}
	for k := range q {
		vals[k] = q.Get(k)
	}
	if fe != nil {
		return a.page(400, sid, fe, vals, "")
	}
	after, fe := a.update(next)
	if fe != nil {
		return a.page(400, sid, fe, vals, "")
	}
	resp := &Response{Status: 303, AfterSent: after}
	loc := "/?saved=1"
	if after != nil && !next.Network.DHCP && next.Network.Address.Addr() != addrOf(r.Host) {
		// The address changes: send the browser to the new one.
		loc = "http://" + hostPort(next.Network.Address.Addr(), a.cfg.Port) + "/?saved=1"
	}
	resp.add("Location", loc)
	resp.add("Cache-Control", "no-store")
	return resp
}

func addrOf(host string) netip.Addr {
	if ap, err := netip.ParseAddrPort(host); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(host)
	return a
}

func hostPort(a netip.Addr, port uint16) string {
	if port == 80 || port == 0 {
		return a.String()
	}
	return netip.AddrPortFrom(a, port).String()
}

// fromForm builds settings from the form's fields onto the ones in force.
func (a *App) fromForm(q url.Values) (Settings, FieldErrors) {
	s := a.settings.Clone()
	fe := FieldErrors{}
	on := func(k string) bool { return q.Get(k) != "" }
	s.Hostname = strings.TrimSpace(q.Get("hostname"))
	s.Network.DHCP = q.Get("mode") == "dhcp"
	s.Network.Address, s.Network.Gateway = netip.Prefix{}, netip.Addr{}
	if v := strings.TrimSpace(q.Get("address")); v != "" {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			fe["network.address"] = "write an address with its prefix length, like 198.18.0.2/24"
		}
		s.Network.Address = p
	}
	if v := strings.TrimSpace(q.Get("gateway")); v != "" {
		g, err := netip.ParseAddr(v)
		if err != nil {
			fe["network.gateway"] = "not an IPv4 address"
		}
		s.Network.Gateway = g
	}
	s.Network.DNS = nil
	for _, k := range []string{"dns1", "dns2"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			d, err := netip.ParseAddr(v)
			if err != nil {
				fe["network.dns"] = v + " is not an IPv4 address"
				continue
			}
			s.Network.DNS = append(s.Network.DNS, d)
		}
	}
	port := func(field, k string, p *uint16) {
		v := strings.TrimSpace(q.Get(k))
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			fe[field] = "a port from 1 to 65535"
			return
		}
		*p = uint16(n)
	}
	t := &s.Apps.TFTPD
	t.Enabled, t.Writable = on("tftpd_enabled"), on("tftpd_writable")
	t.Root = strings.TrimSpace(q.Get("tftpd_root"))
	port("apps.tftpd.port", "tftpd_port", &t.Port)
	s.Apps.HTTPD.Enabled = on("httpd_enabled")
	port("apps.httpd.port", "httpd_port", &s.Apps.HTTPD.Port)
	s.Apps.IPerf.Enabled = on("iperf_enabled")
	port("apps.iperf.port", "iperf_port", &s.Apps.IPerf.Port)
	s.Password = ""
	if p := q.Get("password"); p != "" {
		if p != q.Get("password2") {
			fe["password"] = "the two passwords differ"
		}
		s.Password = p
	}
	if len(fe) > 0 {
		return s, fe
	}
	return s, nil
}

// update validates next and puts it in force: saved to the file, applied
// to the system. It returns the network change to make once the response
// has left (nil if none), or the problems.
func (a *App) update(next Settings) (func(), FieldErrors) {
	fe := next.Validate(a.cfg.Port)
	if fe == nil {
		fe = FieldErrors{}
	}
	if a.sys != nil {
		a.sys.Check(&next, fe)
	}
	if len(fe) > 0 {
		return nil, fe
	}
	if next.Password == "" {
		next.Password = a.settings.Password
	} else {
		a.g.setPassword(next.Password)
	}
	old := a.settings
	a.settings = next.Clone()
	a.file.Saved, a.file.Error = false, ""
	if a.cfg.ConfigFile != "" {
		if err := Save(a.cfg.ConfigFile, a.settings); err != nil {
			a.file.Error = err.Error()
		} else {
			a.file.Saved = true
		}
	}
	a.lastErr = ""
	if a.sys != nil {
		if err := a.sys.Apply(old, a.settings); err != nil {
			a.lastErr = err.Error()
		}
	}
	if !networkChanged(old.Network, next.Network) && old.Hostname == next.Hostname {
		return nil, nil
	}
	applied := a.settings.Clone()
	return func() {
		if a.sys != nil {
			if err := a.sys.ApplyNetwork(old, applied); err != nil {
				a.lastErr = "network: " + err.Error()
			}
		}
	}, nil
}

func networkChanged(a, b Network) bool {
	if a.DHCP != b.DHCP || len(a.DNS) != len(b.DNS) {
		return true
	}
	for i := range a.DNS {
		if a.DNS[i] != b.DNS[i] {
			return true
		}
	}
	return !b.DHCP && (a.Address != b.Address || a.Gateway != b.Gateway)
}

// files serves the TFTP root read-only: a listing for a directory, the
// bytes of a regular file. os.Root keeps every path inside the root.
func (a *App) files(r *Request) *Response {
	root := a.settings.Apps.TFTPD.Root
	if root == "" {
		return a.errorPage(404, "No file directory is configured (the TFTP root).", r)
	}
	rel := strings.Trim(strings.TrimPrefix(r.Path, "/files"), "/")
	if rel == "" {
		rel = "."
	}
	if rel != path.Clean(rel) || strings.HasPrefix(rel, "../") || rel == ".." {
		return a.errorPage(400, "Bad file path.", r)
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		return a.errorPage(500, "The file directory cannot be opened.", r)
	}
	defer rt.Close()
	f, err := rt.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return a.errorPage(404, "No such file.", r)
		}
		return a.errorPage(403, "That file cannot be served.", r)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return a.errorPage(500, "The file cannot be read.", r)
	}
	if fi.IsDir() {
		defer f.Close()
		if !strings.HasSuffix(r.Path, "/") {
			resp := &Response{Status: 301}
			resp.add("Location", r.Path+"/")
			return resp
		}
		ents, err := f.ReadDir(1000)
		if err != nil && len(ents) == 0 && !errors.Is(err, io.EOF) {
			return a.errorPage(500, "The directory cannot be read.", r)
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		var b strings.Builder
		b.WriteString("<!doctype html><meta charset=utf-8><title>Files</title><link rel=stylesheet href=/style.css><h1>Files in " +
			html.EscapeString(r.Path) + "</h1><ul>")
		for _, e := range ents {
			name := e.Name()
			if e.IsDir() {
				name += "/"
			} else if !e.Type().IsRegular() {
				continue
			}
			b.WriteString(`<li><a href="` + html.EscapeString(url.PathEscape(e.Name())) + suffix(e.IsDir()) + `">` +
				html.EscapeString(name) + "</a>")
		}
		b.WriteString("</ul>\n")
		resp := &Response{Status: 200, Body: []byte(b.String())}
		resp.add("Content-Type", "text/html; charset=utf-8")
		resp.add("Cache-Control", "no-store")
		return resp
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return a.errorPage(403, "That file cannot be served.", r)
	}
	resp := &Response{Status: 200, File: f, Size: fi.Size()}
	resp.add("Content-Type", "application/octet-stream")
	resp.add("Last-Modified", fi.ModTime().UTC().Format(timeFormat))
	resp.add("Cache-Control", "no-store")
	return resp
}

func suffix(dir bool) string {
	if dir {
		return "/"
	}
	return ""
}

// timeFormat is the HTTP date (RFC 9110 §5.6.7, IMF-fixdate).
const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// httpDate is the Date field's value now.
func httpDate() string { return time.Now().UTC().Format(timeFormat) }

func statusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 303:
		return "See Other"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 411:
		return "Length Required"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 417:
		return "Expectation Failed"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Status " + strconv.Itoa(code)
}

// AppendHead appends resp's status line and header section for a response
// to method, with the framing and security fields.
func (resp *Response) AppendHead(b []byte, method string, keepAlive bool) []byte {
	b = append(b, "HTTP/1.1 "+strconv.Itoa(resp.Status)+" "+statusText(resp.Status)+"\r\n"...)
	b = append(b, "Date: "+httpDate()+"\r\n"...)
	b = append(b, "Server: lwgo-httpconfig\r\n"...)
	for _, f := range secHeaders {
		b = append(b, f.Name+": "+f.Value+"\r\n"...)
	}
	for _, f := range resp.Header {
		b = append(b, f.Name+": "+f.Value+"\r\n"...)
	}
	n := int64(len(resp.Body))
	if resp.File != nil {
		n = resp.Size
	}
	if resp.Status >= 200 && resp.Status != 204 && resp.Status != 304 {
		b = append(b, "Content-Length: "+strconv.FormatInt(n, 10)+"\r\n"...)
	}
	if !keepAlive {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...)
}
