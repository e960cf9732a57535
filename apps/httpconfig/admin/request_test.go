package admin

import (
	"strings"
	"testing"
)

var testLimits = Limits{HeaderMax: 8192, BodyMax: 65536, TargetMax: 2048, FieldsMax: 100}

func TestParseHead(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		status     int // 0: accepted
		check      func(*Request) bool
	}{
		{"simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, func(r *Request) bool {
			return r.Method == "GET" && r.Path == "/" && r.KeepAlive && r.Host == "a" && r.ContentLength == -1
		}},
		{"query and escapes", "GET /a%20b?x=1&y HTTP/1.1\r\nHost: a\r\n\r\n", 0, func(r *Request) bool {
			return r.Path == "/a b" && r.RawQuery == "x=1&y"
		}},
		{"absolute form", "GET http://h.test/p?q HTTP/1.1\r\nHost: h.test\r\n\r\n", 0, func(r *Request) bool {
			return r.Path == "/p" && r.RawQuery == "q"
		}},
		{"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, func(r *Request) bool { return r.Path == "/" }},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", 0, nil},
		{"HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n", 0, func(r *Request) bool { return !r.KeepAlive }},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, func(r *Request) bool { return r.KeepAlive }},
		{"HTTP/1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n", 0, func(r *Request) bool { return !r.KeepAlive }},
		{"content length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", 0, func(r *Request) bool { return r.ContentLength == 10 }},
		{"same lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\n", 0, nil},
		{"expect", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", 0, func(r *Request) bool { return r.Expect100 }},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, func(r *Request) bool { return r.Path == "*" }},

		{"no host", "GET / HTTP/1.1\r\n\r\n", 400, nil},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, nil},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, nil},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", 400, nil},
		{"control char", "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400, nil},
		{"bare CR", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, nil},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"no version", "GET /\r\n\r\n", 400, nil},
		{"lower version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"HTTP/2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, nil},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400, nil},
		{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"relative target", "GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"star not OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"encoded slash", "GET /a%2fb HTTP/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"encoded NUL", "GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"bad escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, nil},
		{"long target", "GET /" + strings.Repeat("a", 3000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, nil},
		{"negative length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, nil},
		{"plus length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 400, nil},
		{"two lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, nil},
		{"huge length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, nil},
		{"too large", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n", 413, nil},
		{"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501, nil},
		{"chunked and length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400, nil},
		{"bad expect", "GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417, nil},
		{"too many fields", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 101) + "\r\n", 431, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.head)
			e := HeadEnd(b)
			if e != len(b) {
				t.Fatalf("HeadEnd = %d of %d", e, len(b))
			}
			r, perr := ParseHead(b[:e], testLimits)
			if tc.status != 0 {
				if perr == nil || perr.Status != tc.status {
					t.Fatalf("got %v, want status %d", perr, tc.status)
				}
				return
			}
			if perr != nil {
				t.Fatalf("refused: %v", perr)
			}
			if tc.check != nil && !tc.check(r) {
				t.Fatalf("%+v", r)
			}
		})
	}
}

func TestHeadEnd(t *testing.T) {
	for in, want := range map[string]int{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody": 27,
		"GET / HTTP/1.1\r\nHost: a\r\n":         -1,
		"\r\n\r\n":                              -1, // empty lines only: no request yet
		"\r\nGET / HTTP/1.0\r\n\r\n":            20,
		"":                                      -1,
	} {
		if got := HeadEnd([]byte(in)); got != want {
			t.Errorf("HeadEnd(%q) = %d, want %d", in, got, want)
		}
	}
}

func FuzzHTTPRequestParse(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("POST /api/config HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nCookie: lwgo_session=00\r\n\r\n{}"))
	f.Add([]byte("GET http://x/%41?b HTTP/1.0\nConnection: keep-alive, close\n\n"))
	f.Add([]byte("\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		e := HeadEnd(in)
		if e < 0 {
			return
		}
		if e > len(in) {
			t.Fatalf("HeadEnd %d > %d", e, len(in))
		}
		r, perr := ParseHead(in[:e], testLimits)
		if perr != nil {
			if perr.Status < 400 || perr.Status > 599 {
				t.Fatalf("status %d", perr.Status)
			}
			return
		}
		// (An empty Host is valid: RFC 9112 §3.2 for an empty authority.)
		if !isToken(r.Method) || r.Path == "" || r.ContentLength > int64(testLimits.BodyMax) ||
			r.Minor != 0 && r.Minor != 1 || strings.ContainsAny(r.Host, "\r\n\x00") {
			t.Fatalf("%q accepted as %+v", in[:e], r)
		}
		if r.Path != "*" && r.Path[0] != '/' {
			t.Fatalf("path %q", r.Path)
		}
	})
}
