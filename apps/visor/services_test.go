package main

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/httpconfig/admin"
	"github.com/lwgo/lwgo/rawapi"
)

func handle(t *testing.T, app *admin.App, method, target, body string, header ...string) *admin.Response {
	t.Helper()
	raw := method + " " + target + " HTTP/1.1\r\nHost: v\r\nAuthorization: Basic " +
		base64.StdEncoding.EncodeToString([]byte("admin:password1")) + "\r\n"
	for _, h := range header {
		raw += h + "\r\n"
	}
	if body != "" {
		raw += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	req, perr := admin.ParseHead([]byte(raw+"\r\n"), admin.Limits{HeaderMax: 8192, BodyMax: 65536, TargetMax: 1024, FieldsMax: 50})
	if perr != nil {
		t.Fatal(perr)
	}
	req.Body = []byte(body)
	return app.Handle(req)
}

// TestMissingServicesCannotBeEnabled: the services not built in are listed
// and refused, with a reason, rather than silently "enabled".
func TestMissingServicesCannotBeEnabled(t *testing.T) {
	s := admin.Default()
	s.Password = "password1"
	s.Network = admin.Network{Address: netip.MustParsePrefix("198.18.0.2/24")}
	sys := &admin.StackSystem{Services: services()}
	app, err := admin.NewApp(admin.Config{Port: 80}, s, sys, func() rawapi.Time { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	cookie := "Cookie: lwgo_session=" + strings.Repeat("ab", 16)
	resp := handle(t, app, "GET", "/api/csrf", "", cookie)
	var tok struct{ Token string }
	if err := json.Unmarshal(resp.Body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("%s %v", resp.Body, err)
	}
	for _, body := range []string{
		`{"apps":{"tftpd":{"enabled":true,"root":"/"}}}`,
		`{"apps":{"iperf":{"enabled":true}}}`,
		`{"apps":{"httpd":{"enabled":true}}}`,
	} {
		resp := handle(t, app, "POST", "/api/config", body, cookie, "X-CSRF-Token: "+tok.Token, "Content-Type: application/json")
		if resp.Status != 400 || !strings.Contains(string(resp.Body), "not built into this visor") {
			t.Errorf("%s: %d %s", body, resp.Status, resp.Body)
		}
	}
	if resp := handle(t, app, "POST", "/api/config", `{"hostname":"ok"}`, cookie, "X-CSRF-Token: "+tok.Token,
		"Content-Type: application/json"); resp.Status != 200 {
		t.Fatalf("a change without services: %d %s", resp.Status, resp.Body)
	}
	var st admin.Status
	sys.Stack = nil // Status needs a stack; check the services' part only
	for _, sv := range services() {
		ss, _ := sv.Status(nil)
		st.Services = append(st.Services, ss)
	}
	if len(st.Services) != 3 || st.Services[0].Running || !strings.Contains(st.Services[0].Detail, "package main") {
		t.Fatalf("%+v", st.Services)
	}
}
