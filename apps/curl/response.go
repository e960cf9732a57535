package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// maxHead bounds a response's status line and header section together, as
// curl's CURL_MAX_HTTP_HEADER (100 KiB) does.
const maxHead = 100 << 10

// Framing is how a response body is delimited (RFC 9112 §6.3).
type Framing uint8

const (
	FramingNone    Framing = iota // no body: HEAD, 1xx, 204, 304
	FramingLength                 // Content-Length bytes
	FramingChunked                // Transfer-Encoding: chunked
	FramingClose                  // until the server closes
)

// Response is a parsed response head.
type Response struct {
	Proto       string // "HTTP/1.1"
	Minor       int    // 0 or 1
	Status      int
	Reason      string
	Header      []Field
	Length      int64 // Content-Length, or -1
	Chunked     bool
	ConnClose   bool // the connection closes after this response
	Location    string
	ContentType string
}

// Field is one header field as received.
type Field struct{ Name, Value string }

// Get returns the first value of the named field, or "".
func (r *Response) Get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Framing says how the body of r, a response to method, is delimited.
func (r *Response) Framing(method string) Framing {
	switch {
	case method == "HEAD", r.Status/100 == 1, r.Status == 204, r.Status == 304:
		return FramingNone
	case r.Chunked:
		return FramingChunked
	case r.Length >= 0:
		return FramingLength
	}
	return FramingClose
}

// Errors of malformed heads; curl exits 8 (or 1 for HTTP/0.9) for them.
var (
	errHTTP09     = errors.New("Received HTTP/0.9 when not allowed")
	errStatusLine = errors.New("Weird server reply")
	errVersion    = errors.New("Unsupported HTTP version in response")
	errField      = errors.New("Weird server reply: malformed header line")
	errLength     = errors.New("Invalid Content-Length: value")
	errTE         = errors.New("Weird server reply: unsupported Transfer-Encoding")
)

// headEnd returns the length of the head at the start of b, through the
// empty line that ends it (CRLF CRLF, or bare LFs as curl tolerates), or -1
// if b does not hold a whole head yet.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		line := b[i : i+j]
		i += j + 1
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return i
		}
	}
}

// parseHead parses a complete head (headEnd's bytes).
func parseHead(head []byte) (*Response, error) {
	lines := strings.Split(strings.TrimRight(string(head), "\r\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	r := &Response{Length: -1}
	// status-line = HTTP-version SP status-code SP [ reason-phrase ]
	sl := lines[0]
	if !strings.HasPrefix(sl, "HTTP/") {
		return nil, errHTTP09
	}
	proto, rest, _ := strings.Cut(sl, " ")
	switch proto {
	case "HTTP/1.1":
		r.Minor = 1
	case "HTTP/1.0":
	default:
		return nil, errVersion
	}
	r.Proto = proto
	code, reason, _ := strings.Cut(rest, " ")
	if len(code) != 3 || code[0] < '1' || code[0] > '5' {
		return nil, errStatusLine
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		return nil, errStatusLine
	}
	r.Status, r.Reason = n, reason
	r.ConnClose = r.Minor == 0
	var te []string
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			// obs-fold (RFC 9112 §5.2): replace with a space.
			if len(r.Header) == 0 {
				return nil, errField
			}
			r.Header[len(r.Header)-1].Value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || !isToken(name) {
			return nil, errField
		}
		r.Header = append(r.Header, Field{name, strings.TrimSpace(value)})
	}
	for _, f := range r.Header {
		switch strings.ToLower(f.Name) {
		case "content-length":
			// RFC 9110 §8.6: a list of identical values may be taken as one;
			// differing values are an unrecoverable error (RFC 9112 §6.3).
			for v := range strings.SplitSeq(f.Value, ",") {
				v = strings.TrimSpace(v)
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 || v[0] == '+' {
					return nil, errLength
				}
				if r.Length >= 0 && r.Length != n {
					return nil, errLength
				}
				r.Length = n
			}
		case "transfer-encoding":
			for v := range strings.SplitSeq(f.Value, ",") {
				if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
					te = append(te, v)
				}
			}
		case "connection":
			for v := range strings.SplitSeq(f.Value, ",") {
				switch strings.ToLower(strings.TrimSpace(v)) {
				case "close":
					r.ConnClose = true
				case "keep-alive":
					if r.Minor == 0 {
						r.ConnClose = false
					}
				}
			}
		case "location":
			r.Location = f.Value
		case "content-type":
			r.ContentType = f.Value
		}
	}
	if len(te) > 0 {
		// RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and a
		// response whose final coding is not chunked is read until close.
		// Both headers together may be smuggling: never reuse the connection.
		if r.Length >= 0 {
			r.ConnClose = true
		}
		r.Length = -1
		if te[len(te)-1] == "chunked" {
			if len(te) > 1 {
				return nil, errTE // other codings: curl without --compressed doesn't decode them either
			}
			r.Chunked = true
		} else {
			r.ConnClose = true
		}
	}
	return r, nil
}

// isToken reports whether s is an RFC 9110 §5.6.2 token.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
