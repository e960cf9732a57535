package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	fs := newFlagSet()
	o, fwd, err := parseArgs([]string{"-sSfL", "-ofile", "http://a/", "-tap", "tap0", "--ip=10.0.0.2/24",
		"-H", "X: y", "--max-redirs", "7", "-dhcp", "-m", "2.5", "--connect-timeout", "1", "-w%{http_code}",
		"--", "-notaflag"}, fs)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Silent || !o.ShowError || !o.Fail || !o.Location || o.MaxRedirs != 7 || o.MaxTime != 2500*time.Millisecond ||
		o.ConnTimeout != time.Second || o.WriteOut != "%{http_code}" || len(o.Headers) != 1 {
		t.Errorf("options %+v", o)
	}
	if strings.Join(o.URLs, " ") != "http://a/ -notaflag" || strings.Join(o.Outputs, " ") != "file" {
		t.Errorf("URLs %q outputs %q", o.URLs, o.Outputs)
	}
	if strings.Join(fwd, " ") != "-tap tap0 -ip=10.0.0.2/24 -dhcp" {
		t.Errorf("forwarded %q", fwd)
	}
	if err := fs.Parse(fwd); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{}, {"--nope", "u"}, {"-Z", "u"}, {"u", "-o"}, {"-m", "x", "u"}, {"--max-redirs", "-2", "u"},
		{"-H", "a\r\nb: c", "u"}, {"--resolve", "h:80", "u"}, {"-X", "BAD METHOD", "u"},
	} {
		if _, _, err := parseArgs(bad, newFlagSet()); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("parseArgs(%q): %T", bad, err)
		}
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, target, host string
		port             uint16
		effective        string
	}{
		{"http://example.test", "/", "example.test:80", 80, "http://example.test/"},
		{"example.test:8080/a/b?c=d#e", "/a/b?c=d", "example.test:8080", 8080, "http://example.test:8080/a/b?c=d"},
		{"HTTP://EXAMPLE.test/%7Efoo", "/%7Efoo", "example.test:80", 80, "http://EXAMPLE.test/%7Efoo"},
		{"http://10.0.0.1:80/?", "/?", "10.0.0.1:80", 80, "http://10.0.0.1:80/?"},
		{"http://u:p@h/", "/", "h:80", 80, "http://u:p@h/"},
	} {
		tg, f := parseURL(tc.in)
		if f != nil {
			t.Errorf("%s: %v", tc.in, f)
			continue
		}
		if tg.requestTarget() != tc.target || tg.key() != tc.host || tg.port != tc.port || tg.String() != tc.effective {
			t.Errorf("%s: target %q key %q port %d effective %q", tc.in, tg.requestTarget(), tg.key(), tg.port, tg.String())
		}
	}
	if tg, _ := parseURL("http://h:8080/"); tg.hostHeader() != "h:8080" {
		t.Errorf("Host %q", tg.hostHeader())
	}
}

func TestResolveRedirect(t *testing.T) {
	b, _ := parseURL("http://h.test/a/b/c?q=1")
	for loc, want := range map[string]string{
		"/x":                  "http://h.test/x",
		"x":                   "http://h.test/a/b/x",
		"../x?y":              "http://h.test/a/x?y",
		"//other.test:81/p":   "http://other.test:81/p",
		"http://third.test":   "http://third.test/",
		"?only":               "http://h.test/a/b/c?only",
		" http://spaced.test": "http://spaced.test/",
	} {
		tg, f := resolveRedirect(b, loc)
		if f != nil || tg.String() != want {
			t.Errorf("%q: %v %v, want %s", loc, tg.String(), f, want)
		}
	}
	if _, f := resolveRedirect(b, "https://secure.test/"); f == nil || f.Code != ExitUnsupportedProtocol {
		t.Errorf("https redirect: %v", f)
	}
}

func TestParseHead(t *testing.T) {
	for _, tc := range []struct {
		head    string
		status  int
		length  int64
		chunked bool
		close   bool
		err     error
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, 5, false, false, nil},
		{"HTTP/1.0 200 OK\r\n\r\n", 200, -1, false, true, nil},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 200, 0, false, false, nil},
		{"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\n\r\n", 200, -1, false, true, nil},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 200, -1, true, true, nil},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\n", 200, -1, false, true, nil},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, 0, false, false, errTE},
		{"HTTP/1.1 204 No Content\n\n", 204, -1, false, false, nil},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", 200, 5, false, false, nil},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, 0, false, false, errLength},
		{"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, false, false, errLength},
		{"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", 0, 0, false, false, errLength},
		{"HTTP/1.1 200 OK\r\nbad line\r\n\r\n", 0, 0, false, false, errField},
		{"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", 0, 0, false, false, errField},
		{"HTTP/2 200\r\n\r\n", 0, 0, false, false, errVersion},
		{"HTTP/1.1 20 OK\r\n\r\n", 0, 0, false, false, errStatusLine},
		{"HTTP/1.1 999 OK\r\n\r\n", 0, 0, false, false, errStatusLine},
		{"ICY 200 OK\r\n\r\n", 0, 0, false, false, errHTTP09},
	} {
		r, err := parseHead([]byte(tc.head))
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: error %v, want %v", tc.head, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if r.Status != tc.status || r.Length != tc.length || r.Chunked != tc.chunked || r.ConnClose != tc.close {
			t.Errorf("%q: %+v", tc.head, r)
		}
	}
	r, _ := parseHead([]byte("HTTP/1.1 301 Moved\r\nLocation: /x\r\nX-Folded: a\r\n b\r\n\r\n"))
	if r.Location != "/x" || r.Get("x-folded") != "a b" {
		t.Errorf("%+v", r)
	}
	for _, m := range []struct {
		method string
		status int
		want   Framing
	}{{"HEAD", 200, FramingNone}, {"GET", 304, FramingNone}, {"GET", 204, FramingNone}, {"GET", 200, FramingClose}} {
		if got := (&Response{Status: m.status, Length: -1}).Framing(m.method); got != m.want {
			t.Errorf("%s %d: framing %d", m.method, m.status, got)
		}
	}
}

func TestHeadEnd(t *testing.T) {
	for in, want := range map[string]int{
		"HTTP/1.1 200 OK\r\n\r\nbody": 19,
		"HTTP/1.1 200 OK\n\nbody":     17,
		"HTTP/1.1 200 OK\r\nA: b\r\n": -1,
		"\r\n":                        2,
		"":                            -1,
	} {
		if got := headEnd([]byte(in)); got != want {
			t.Errorf("headEnd(%q) = %d, want %d", in, got, want)
		}
	}
}

// decodeAll decodes in pieces of size step.
func decodeAll(in []byte, step int) (out []byte, used int, done bool, err error) {
	var d chunkDecoder
	for used < len(in) && !d.Done() {
		end := min(used+step, len(in))
		n, err := d.Decode(in[used:end], func(b []byte) error { out = append(out, b...); return nil })
		used += n
		if err != nil {
			return out, used, false, err
		}
		if n < end-used+n && !d.Done() {
			return out, used, false, errors.New("stopped early")
		}
	}
	return out, used, d.Done(), nil
}

func TestChunkedDecode(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		rest    string
		err     error
	}{
		{"5\r\nhello\r\n0\r\n\r\n", "hello", "", nil},
		{"5;a=b;c=\"d\"\r\nhello\r\n6 \r\n world\r\n0\r\nTrailer: x\r\nOther: y\r\n\r\nNEXT", "hello world", "NEXT", nil},
		{"A\nabcdefghij\n0\n\n", "abcdefghij", "", nil},
		{"00000\r\n\r\n", "", "", nil},
		{"x\r\n", "", "", errChunkSize},
		{"\r\n", "", "", errChunkSize},
		{"5\r\nhelloX\r\n", "hello", "", errChunkCRLF},
		{"5\r\nhello\rX", "hello", "", errChunkCRLF},
		{"1000000000000000\r\n", "", "", errChunkSize},
		{"1;" + strings.Repeat("e", maxChunkLine+1) + "\r\n", "", "", errChunkLine},
	} {
		for _, step := range []int{1, 3, 1 << 20} {
			out, used, done, err := decodeAll([]byte(tc.in), step)
			if !errors.Is(err, tc.err) || string(out) != tc.out {
				t.Errorf("%q step %d: out %q err %v; want %q %v", tc.in, step, out, err, tc.out, tc.err)
			}
			if err == nil && (!done || tc.in[used:] != tc.rest) {
				t.Errorf("%q step %d: done %v, rest %q", tc.in, step, done, tc.in[used:])
			}
		}
	}
	// An error from the data function stops decoding.
	var d chunkDecoder
	stop := errors.New("stop")
	if _, err := d.Decode([]byte("3\r\nabc\r\n"), func([]byte) error { return stop }); err != stop {
		t.Errorf("data error: %v", err)
	}
}

// encodeChunked encodes data in chunks of the given sizes (repeated).
func encodeChunked(data []byte, sizes []int) []byte {
	var b bytes.Buffer
	for i := 0; len(data) > 0; i++ {
		n := min(max(sizes[i%len(sizes)], 1), len(data))
		b.WriteString(strconv.FormatInt(int64(n), 16) + "\r\n")
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

func FuzzChunkedDecode(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint8(1))
	f.Add([]byte("5;ext\r\nhello\r\n0\r\nT: v\r\n\r\nrest"), uint8(2))
	f.Add([]byte("fffffffffffffff\r\n"), uint8(7))
	f.Add([]byte("hello world, some data"), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		// Whole and piecewise decoding agree, never panic, never consume
		// past the end of the body.
		whole, wUsed, wDone, wErr := decodeAll(in, len(in)+1)
		parts, pUsed, pDone, pErr := decodeAll(in, int(step%16)+1)
		if (wErr == nil) != (pErr == nil) || wDone != pDone || !bytes.Equal(whole, parts) {
			t.Fatalf("whole %q %d %v %v, pieces %q %d %v %v", whole, wUsed, wDone, wErr, parts, pUsed, pDone, pErr)
		}
		if wErr == nil && wDone && wUsed != pUsed {
			t.Fatalf("consumed %d whole, %d in pieces", wUsed, pUsed)
		}
		// Round trip: the input as data, encoded, decodes to itself.
		enc := encodeChunked(in, []int{int(step) + 1, 3, 1000})
		out, used, done, err := decodeAll(append(enc, "tail"...), int(step%7)+1)
		if err != nil || !done || !bytes.Equal(out, in) || used != len(enc) {
			t.Fatalf("round trip of %q: %q used %d/%d done %v err %v", in, out, used, len(enc), done, err)
		}
	})
}

func FuzzHTTPResponseParse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 302 Found\nLocation: /x\n\n"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nA: b\r\n c\r\nContent-Length: 1, 1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		e := headEnd(in)
		if e < 0 {
			return
		}
		if e > len(in) {
			t.Fatalf("headEnd %d beyond %d", e, len(in))
		}
		r, err := parseHead(in[:e])
		if err != nil {
			return
		}
		if r.Status < 100 || r.Status > 599 || r.Chunked && r.Length != -1 || r.Length < -1 {
			t.Fatalf("%q: %+v", in[:e], r)
		}
		_ = r.Framing("GET")
	})
}

func TestMeterFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "    0", 99999: "99999", 100000: "  97k", 10239999: "9999k", 10240000: " 9.7M",
		100 << 20: " 100M", 10000 << 20: " 9.7G", 1 << 40: "1024G",
	} {
		if got := max5(n); got != want {
			t.Errorf("max5(%d) = %q, want %q", n, got, want)
		}
	}
	for s, want := range map[int64]string{0: "--:--:--", 1: " 0:00:01", 3661: " 1:01:01", 360000: "  4d 04h"} {
		if got := timeStr(s); got != want {
			t.Errorf("timeStr(%d) = %q, want %q", s, got, want)
		}
	}
	var b bytes.Buffer
	t0 := time.Unix(0, 0)
	m := newMeter(&b, t0)
	m.update(t0, 0, -1, 0, -1, false)
	m.update(t0.Add(2*time.Second), 50<<20, 100<<20, 0, -1, false)
	m.update(t0.Add(4*time.Second), 100<<20, 100<<20, 0, -1, true)
	want := "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n" +
		"                                 Dload  Upload   Total   Spent    Left  Speed\n" +
		"\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0" +
		"\r 50  100M   50 50.0M    0     0  25.0M      0  0:00:04  0:00:02  0:00:02 25.0M" +
		"\r100  100M  100  100M    0     0  25.0M      0  0:00:04  0:00:04 --:--:-- 25.0M\n"
	if b.String() != want {
		t.Errorf("meter:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWriteOut(t *testing.T) {
	in := &Info{HTTPCode: 200, SizeDownload: 10, TimeTotal: 2 * time.Second, NumRedirects: 1, URLEffective: "http://x/"}
	var warned []string
	got := writeOut(`%{http_code} %{size_download} %{speed_download} %{time_total} %{num_redirects} %{url_effective}%% %{nope}\n\t%{exitcode}`,
		in, func(s string) { warned = append(warned, s) })
	if got != "200 10 5 2.000000 1 http://x/% \n\t0" || len(warned) != 1 {
		t.Errorf("%q %q", got, warned)
	}
	if got := writeOut("%{http_code}", &Info{}, nil); got != "000" {
		t.Errorf("no response: %q", got)
	}
}
