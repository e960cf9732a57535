package main

import (
	"crypto/sha256"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/internal/apptest"
)

var base = "http://" + apptest.AddrB.String()

// want checks a run's exit code and output.
func (res result) want(t *testing.T, code int, stdout string) {
	t.Helper()
	if res.code != code || res.stdout != stdout {
		t.Fatalf("exit %d, stdout %q; want %d, %q\nstderr: %s", res.code, res.stdout, code, stdout, res.stderr)
	}
}

func TestGetContentLength(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		if q.method != "GET" || q.target != "/a?b=c" || q.header["host"] != apptest.AddrB.String() ||
			q.header["accept"] != "*/*" || !strings.HasPrefix(q.header["user-agent"], "curl/") {
			return status(400)
		}
		return ok("hello\n", "Content-Type: text/plain")
	})
	res := r.curl("-s", "-w", "%{http_code} %{size_download} %{content_type} %{num_connects}\\n", base+"/a?b=c#frag")
	res.want(t, 0, "hello\n200 6 text/plain 1\n")
	r.settle()
}

func TestChunkedWithExtensionsAndTrailers(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		return testResp{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"}
	})
	res := r.curl("-s", "-w", " %{size_download}", base+"/", base+"/")
	res.want(t, 0, "hello 0123456789 16hello 0123456789 16")
	if r.srv.conns != 1 {
		t.Errorf("%d connections for two chunked responses; want 1 (kept alive)", r.srv.conns)
	}
	r.settle()
}

func TestCloseDelimitedHTTP10(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		return testResp{raw: "HTTP/1.0 200 OK\r\n\r\nuntil close", close: true}
	})
	r.curl("-s", base+"/", base+"/x").want(t, 0, "until closeuntil close")
	if r.srv.conns != 2 {
		t.Errorf("%d connections; an HTTP/1.0 response without keep-alive closes", r.srv.conns)
	}
	r.settle()
}

func TestRedirectChainReusesTheConnection(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		switch q.target {
		case "/start":
			return testResp{raw: "HTTP/1.1 301 Moved\r\nLocation: " + base + "/two\r\nContent-Length: 5\r\n\r\nmoved"}
		case "/two":
			return status(302, "Location: ../three?x=1") // relative
		case "/three?x=1":
			return ok("arrived")
		}
		return status(404)
	})
	res := r.curl("-sL", "-w", " %{http_code} %{num_redirects} %{url_effective}", base+"/start")
	res.want(t, 0, "arrived 200 2 "+base+"/three?x=1")
	if r.srv.conns != 1 || len(r.srv.reqs) != 3 {
		t.Errorf("%d connections, %d requests; want 1 and 3", r.srv.conns, len(r.srv.reqs))
	}
	// Without -L the redirect is the result, and redirect_url says where.
	res = r.curl("-s", "-w", "%{http_code} %{redirect_url}", base+"/two")
	res.want(t, 0, "302 "+base+"/three?x=1")
	r.settle()
}

func TestRedirectLimit(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp { return status(302, "Location: /loop") })
	res := r.curl("-sSL", "--max-redirs", "3", base+"/loop")
	if res.code != ExitTooManyRedirects || !strings.Contains(res.stderr, "curl: (47) Maximum (3) redirects followed") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if len(r.srv.reqs) != 4 {
		t.Errorf("%d requests; want the first and three redirects", len(r.srv.reqs))
	}
	// --max-redirs 0 refuses the first.
	if res := r.curl("-sL", "--max-redirs", "0", base+"/loop"); res.code != ExitTooManyRedirects {
		t.Fatalf("--max-redirs 0: exit %d", res.code)
	}
	r.settle()
}

func TestRedirectMethodRules(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		switch q.target {
		case "/303", "/302", "/301":
			return status(atoi(q.target[1:]), "Location: /echo")
		case "/307", "/308":
			return status(atoi(q.target[1:]), "Location: /echo")
		case "/echo":
			return ok(q.method + " " + string(q.body))
		}
		return status(404)
	})
	for _, tc := range []struct{ path, want string }{
		{"/301", "GET "}, {"/302", "GET "}, {"/303", "GET "}, {"/307", "POST a=1&b=2"}, {"/308", "POST a=1&b=2"},
	} {
		r.curl("-sL", "-d", "a=1", "-d", "b=2", base+tc.path).want(t, 0, tc.want)
	}
	// -X keeps the method through every redirect.
	r.curl("-sL", "-X", "PUT", "-d", "z", base+"/303").want(t, 0, "PUT z")
	r.settle()
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func TestCrossHostRedirectDropsCredentials(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		switch q.target {
		case "/here":
			return status(302, "Location: http://other.test/there")
		case "/there":
			return ok("auth=" + q.header["authorization"] + " cookie=" + q.header["cookie"] + " x=" + q.header["x-keep"])
		}
		return status(404)
	}).withDNS(map[string]netip.Addr{"other.test": apptest.AddrB})
	res := r.curl("-sL", "-u", "u:p", "-H", "Cookie: c=1", "-H", "X-Keep: k", base+"/here")
	res.want(t, 0, "auth= cookie= x=k")
	if h := r.srv.reqs[0].header["authorization"]; h != "Basic dTpw" {
		t.Errorf("first request's Authorization %q", h)
	}
	r.settle()
}

func TestFailOnHTTPError(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		return testResp{raw: "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"}
	})
	res := r.curl("-sSf", "-o", "out", base+"/missing")
	if res.code != ExitHTTPReturnedError || res.stderr != "curl: (22) The requested URL returned error: 404\n" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if _, made := res.files["out"]; made {
		t.Error("-f made the output file")
	}
	// Without -f the error page is the output, exit 0.
	r.curl("-s", "-w", " %{http_code}", base+"/missing").want(t, 0, "not found 404")
	r.settle()
}

func TestMaxTimeOnAStalledServer(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp { return testResp{stall: true} })
	res := r.curl("-sS", "-m", "1.5", "-w", "%{http_code}", base+"/")
	if res.code != ExitOperationTimedout || res.stdout != "000" ||
		!strings.Contains(res.stderr, "curl: (28) Operation timed out after 1500 milliseconds with 0 bytes received") {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	r.settle()
}

func TestMaxTimeMidBody(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		return testResp{raw: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789"}
	})
	res := r.curl("-sS", "-m", "1", base+"/")
	if res.code != ExitOperationTimedout || !strings.Contains(res.stderr, "with 10 out of 1000 bytes received") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	r.settle()
}

func TestConnectTimeout(t *testing.T) {
	r := newCurlRig(t, nil)
	// Nobody at .99: ARP is never answered.
	res := r.curl("-sS", "--connect-timeout", "2", "http://192.0.2.99/")
	if res.code != ExitOperationTimedout || !strings.Contains(res.stderr, "Connection timed out after 2000 milliseconds") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	r.settle()
}

func TestConnectionRefused(t *testing.T) {
	r := newCurlRig(t, nil)
	res := r.curl("-sS", base+":81/")
	if res.code != ExitCouldntConnect || !strings.HasPrefix(res.stderr, "curl: (7) Failed to connect to 192.0.2.2 port 81 after ") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	r.settle()
}

func TestBodyEndsEarly(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		switch q.target {
		case "/length":
			return testResp{raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", close: true}
		case "/chunked":
			return testResp{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", close: true}
		case "/empty":
			return testResp{close: true}
		case "/reset":
			return testResp{raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", reset: true}
		case "/badchunk":
			return testResp{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", close: true}
		case "/weird":
			return testResp{raw: "HTTP/1.1 abc\r\n\r\n", close: true}
		case "/http09":
			return testResp{raw: "hello\r\n\r\n", close: true}
		case "/twolengths":
			return testResp{raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", close: true}
		}
		return status(404)
	})
	for _, tc := range []struct {
		path string
		code int
		msg  string
	}{
		{"/length", 18, "transfer closed with 97 bytes remaining to read"},
		{"/chunked", 18, "transfer closed with outstanding read data remaining"},
		{"/empty", 52, "Empty reply from server"},
		{"/reset", 56, "Recv failure: Connection reset by peer"},
		{"/badchunk", 56, "Illegal or missing hexadecimal sequence in chunked-encoding"},
		{"/weird", 8, "Weird server reply"},
		{"/http09", 1, "Received HTTP/0.9 when not allowed"},
		{"/twolengths", 8, "Invalid Content-Length"},
	} {
		res := r.curl("-sS", "-o", "x", base+tc.path)
		if res.code != tc.code || !strings.Contains(res.stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tc.path, res.code, res.stderr, tc.code, tc.msg)
		}
	}
	r.settle()
}

func TestResolveNames(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp { return ok(q.header["host"]) }).
		withDNS(map[string]netip.Addr{"www.lwgo.test": apptest.AddrB})
	r.curl("-s", "http://www.lwgo.test/").want(t, 0, "www.lwgo.test")
	r.curl("-s", "--resolve", "pinned.test:80:"+apptest.AddrB.String(), "http://pinned.test/").want(t, 0, "pinned.test")
	res := r.curl("-sS", "http://nxdomain.test/")
	if res.code != ExitCouldntResolveHost || res.stderr != "curl: (6) Could not resolve host: nxdomain.test\n" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	r.settle()
}

func TestNoResolverMeansExit6(t *testing.T) {
	r := newCurlRig(t, nil)
	if res := r.curl("-s", "http://name.test/"); res.code != ExitCouldntResolveHost {
		t.Fatalf("exit %d", res.code)
	}
}

func TestURLErrors(t *testing.T) {
	r := newCurlRig(t, nil)
	for _, tc := range []struct {
		url  string
		code int
	}{
		{"https://" + apptest.AddrB.String() + "/", 1},
		{"ftp://x/", 1},
		{"http://", 3},
		{"http://a b/", 3},
		{"http://[::1]/", 3},
		{"http://x:99999/", 3},
	} {
		if res := r.curl("-s", tc.url); res.code != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.url, res.code, tc.code)
		}
	}
}

func TestPostData(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		return ok(q.method + " " + q.header["content-type"] + " " + q.header["content-length"] + " " + string(q.body))
	})
	r.curl("-s", "-d", "a=1", "--data-raw", "@b", base+"/").want(t, 0, "POST application/x-www-form-urlencoded 6 a=1&@b")
	r.curl("-s", "-H", "Content-Type: application/json", "--data-binary", `{"x":1}`, base+"/").
		want(t, 0, `POST application/json 7 {"x":1}`)
	r.settle()
}

func TestPostFileStreamed(t *testing.T) {
	data := make([]byte, 3<<20+17)
	rand.NewChaCha8([32]byte{1}).Read(data)
	file := filepath.Join(t.TempDir(), "up.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	r := newCurlRig(t, func(q *testReq) testResp {
		got := sha256.Sum256(q.body)
		return ok(strconv.Itoa(len(q.body)) + " " + strconv.FormatBool(got == sum))
	})
	res := r.curl("-s", "--data-binary", "@"+file, "-w", " %{size_upload}", base+"/up")
	res.want(t, 0, strconv.Itoa(len(data))+" true "+strconv.Itoa(len(data)))
	// A 307 sends it again, from the start.
	r.srv.handler = func(q *testReq) testResp {
		if q.target == "/moved" {
			return status(307, "Location: /up")
		}
		got := sha256.Sum256(q.body)
		return ok(strconv.FormatBool(got == sum))
	}
	r.curl("-sL", "--data-binary", "@"+file, base+"/moved").want(t, 0, "true")
	r.settle()
}

func TestBigDownloadToFile(t *testing.T) {
	data := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{2}).Read(data)
	r := newCurlRig(t, func(q *testReq) testResp { return ok(string(data)) })
	res := r.curl("-s", "-o", "big.bin", "-w", "%{size_download}", base+"/big")
	res.want(t, 0, strconv.Itoa(len(data)))
	if got := sha256.Sum256(res.files["big.bin"].Bytes()); got != sha256.Sum256(data) {
		t.Fatal("SHA-256 differs")
	}
	r.settle()
}

func TestSeveralURLsKeepAliveAndOutputs(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp { return ok("body of " + q.target) })
	// As curl pairs them: the nth -o or -O goes with the nth URL, wherever
	// it stands; URLs beyond go to standard output.
	res := r.curl("-s", "-o", "one", base+"/1", base+"/2", "-o", "two", base+"/dir/3", "-O", base+"/4")
	res.want(t, 0, "body of /4")
	for name, want := range map[string]string{"one": "body of /1", "two": "body of /2", "3": "body of /dir/3"} {
		if b := res.files[name]; b == nil || b.String() != want {
			t.Errorf("file %s: %v", name, b)
		}
	}
	if r.srv.conns != 1 {
		t.Errorf("%d connections for four URLs on one host", r.srv.conns)
	}
	r.settle()
}

// TestRetryWhenTheKeptConnectionWasClosed: the server closes the kept
// connection instead of answering the next request on it (as servers do
// when their idle timeout races the request); the request is retried on a
// fresh connection. A server that closes a kept connection earlier is seen
// to do so, and the next URL opens a new one.
func TestRetryWhenTheKeptConnectionWasClosed(t *testing.T) {
	n := 0
	r := newCurlRig(t, func(q *testReq) testResp {
		n++
		switch {
		case q.conn == 1 && n == 1:
			return ok("ok")
		case q.conn == 1:
			return testResp{close: true} // no answer: FIN
		}
		return ok("fresh")
	})
	res := r.curl("-sv", base+"/1", base+"/2")
	res.want(t, 0, "okfresh")
	if r.srv.conns != 2 || len(r.srv.reqs) != 3 || !strings.Contains(res.stderr, "Connection died, retrying a fresh connect") {
		t.Errorf("%d connections, %d requests\n%s", r.srv.conns, len(r.srv.reqs), res.stderr)
	}
	r.srv.handler = func(q *testReq) testResp {
		return testResp{raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close: true}
	}
	r.curl("-s", base+"/1", base+"/2").want(t, 0, "okok")
	r.settle()
}

func TestWriteErrors(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp { return ok("data") })
	if res := r.curl("-sS", "-o", "/nonexistent/x", base+"/"); res.code != ExitWriteError ||
		res.stderr != "curl: (23) Failure writing output to destination\n" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	r.files.fail = true
	if res := r.curl("-s", "-o", "f", base+"/"); res.code != ExitWriteError {
		t.Fatalf("failing writer: exit %d", res.code)
	}
	r.settle()
}

func TestHeadAndInclude(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp { return ok("0123456789", "X-A: b") })
	head := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-A: b\r\n\r\n"
	r.curl("-sI", base+"/").want(t, 0, head)
	r.curl("-si", base+"/").want(t, 0, head+"0123456789")
	if r.srv.reqs[0].method != "HEAD" {
		t.Errorf("-I sent %s", r.srv.reqs[0].method)
	}
	r.settle()
}

func TestInterimResponses(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		return testResp{raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"}
	})
	r.curl("-s", "-w", " %{http_code}", base+"/").want(t, 0, "done 200")
	r.settle()
}

func TestHeaderTooLarge(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		return testResp{raw: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", maxHead) + "\r\n\r\n"}
	})
	if res := r.curl("-s", base+"/"); res.code != ExitRecvError {
		t.Fatalf("exit %d", res.code)
	}
	r.settle()
}

func TestCustomHeaders(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp {
		_, hasUA := q.header["user-agent"]
		return ok(q.header["accept"] + "|" + q.header["x-empty"] + "|" + strconv.FormatBool(hasUA) + "|" + q.header["referer"])
	})
	r.curl("-s", "-H", "Accept: text/html", "-H", "X-Empty;", "-H", "User-Agent:", "-e", "http://ref/", base+"/").
		want(t, 0, "text/html||false|http://ref/")
	r.settle()
}

func TestFailEarly(t *testing.T) {
	r := newCurlRig(t, func(q *testReq) testResp { return ok("x") })
	// The last URL's result decides without --fail-early.
	if res := r.curl("-s", base+":81/", base+"/"); res.code != 0 || res.stdout != "x" {
		t.Fatalf("exit %d %q", res.code, res.stdout)
	}
	if res := r.curl("-s", "--fail-early", base+":81/", base+"/"); res.code != ExitCouldntConnect || res.stdout != "" {
		t.Fatalf("--fail-early: exit %d %q", res.code, res.stdout)
	}
	r.settle()
}

// TestProgressMeter: the meter's header, a line per second and the final
// line, as curl prints them.
func TestProgressMeter(t *testing.T) {
	data := strings.Repeat("x", 300000)
	r := newCurlRig(t, func(q *testReq) testResp { return ok(data) })
	res := r.curl("-o", "f", base+"/")
	if res.code != 0 {
		t.Fatal(res.stderr)
	}
	lines := strings.Split(res.stderr, "\r")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n") {
		t.Fatalf("meter: %q", res.stderr)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "100  292k  100  292k    0     0 ") || !strings.HasSuffix(last, "\n") {
		t.Fatalf("final line %q", last)
	}
	r.settle()
}
