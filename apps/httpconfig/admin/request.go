package admin

import (
	"bytes"
	"strconv"
	"strings"
)

// Request is a parsed HTTP/1.x request (RFC 9112).
type Request struct {
	Method   string
	Target   string // as sent
	Path     string // decoded path of the origin-form target
	RawQuery string
	Proto    string // "HTTP/1.1"
	Minor    int    // 0 or 1
	Header   []Field
	Host     string
	// ContentLength is the body's length, -1 without Content-Length.
	ContentLength int64
	Body          []byte
	// KeepAlive: the connection may carry another request after this one.
	KeepAlive bool
	// Expect100 asks for a 100 Continue before the body.
	Expect100 bool
}

// Field is one header field.
type Field struct{ Name, Value string }

// Get returns the first value of the named field, or "".
func (r *Request) Get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Limits bound what the parser accepts.
type Limits struct {
	HeaderMax int // request line and header section
	BodyMax   int
	TargetMax int // request-target length (414 beyond)
	FieldsMax int // header fields
}

// ParseError is a request the server refuses: the status to answer with
// and why. The connection closes after it.
type ParseError struct {
	Status int
	Msg    string
}

func (e *ParseError) Error() string { return strconv.Itoa(e.Status) + " " + e.Msg }

func perr(status int, msg string) *ParseError { return &ParseError{status, msg} }

// HeadEnd returns the length of the request head at the start of b, through
// the empty line that ends it (CRLF CRLF; bare LF is tolerated as RFC 9112
// §2.2 allows), or -1 if it has not all arrived. Empty lines before the
// request line are part of the head (RFC 9112 §2.2: ignore at least one).
func HeadEnd(b []byte) int {
	i := 0
	// Leading empty lines.
	for {
		switch {
		case bytes.HasPrefix(b[i:], []byte("\r\n")):
			i += 2
			continue
		case bytes.HasPrefix(b[i:], []byte("\n")):
			i++
			continue
		}
		break
	}
	start := i
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		line := b[i : i+j]
		i += j + 1
		if i-j-1 > start && (len(line) == 0 || len(line) == 1 && line[0] == '\r') {
			return i
		}
	}
}

// ParseHead parses a request head (HeadEnd's bytes): the request line and
// the header fields, strictly (RFC 9112 §3, §5; RFC 9110 §5.5): whitespace
// before a colon, obs-fold, control characters, bad Content-Length or more
// than one Host are 400; HTTP/2 and later are 505; Transfer-Encoding is
// 501 (request bodies must come with Content-Length); a Content-Length over
// lim.BodyMax is 413. The body is not read here.
func ParseHead(head []byte, lim Limits) (*Request, *ParseError) {
	s := string(head)
	s = strings.TrimLeft(s, "\r\n")
	s = strings.TrimRight(s, "\r\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if strings.IndexByte(l, '\r') >= 0 {
			return nil, perr(400, "bare CR in the request head")
		}
		lines[i] = l
	}
	r := &Request{ContentLength: -1}
	// request-line = method SP request-target SP HTTP-version
	parts := strings.Split(lines[0], " ")
	if len(parts) != 3 {
		return nil, perr(400, "malformed request line")
	}
	r.Method, r.Target, r.Proto = parts[0], parts[1], parts[2]
	if !isToken(r.Method) {
		return nil, perr(400, "malformed method")
	}
	switch r.Proto {
	case "HTTP/1.1":
		r.Minor = 1
	case "HTTP/1.0":
	default:
		if len(r.Proto) == 8 && strings.HasPrefix(r.Proto, "HTTP/") && r.Proto[5] >= '2' && r.Proto[5] <= '9' && r.Proto[6] == '.' {
			return nil, perr(505, "HTTP version not supported")
		}
		return nil, perr(400, "malformed HTTP version")
	}
	if len(r.Target) > lim.TargetMax {
		return nil, perr(414, "request target too long")
	}
	if f := parseTarget(r); f != nil {
		return nil, f
	}
	if len(lines)-1 > lim.FieldsMax {
		return nil, perr(431, "too many header fields")
	}
	hosts := 0
	var te, connClose, connKeep bool
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			return nil, perr(400, "obsolete line folding in the header")
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || !isToken(name) {
			return nil, perr(400, "malformed header field")
		}
		value = strings.Trim(value, " \t")
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
				return nil, perr(400, "control character in a header field")
			}
		}
		r.Header = append(r.Header, Field{name, value})
		switch strings.ToLower(name) {
		case "host":
			hosts++
			r.Host = value
		case "content-length":
			for v := range strings.SplitSeq(value, ",") {
				v = strings.Trim(v, " \t")
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 || v == "" || v[0] < '0' || v[0] > '9' {
					return nil, perr(400, "malformed Content-Length")
				}
				if r.ContentLength >= 0 && r.ContentLength != n {
					return nil, perr(400, "conflicting Content-Length values")
				}
				r.ContentLength = n
			}
		case "transfer-encoding":
			te = true
		case "connection":
			connClose = connClose || hasToken(value, "close")
			connKeep = connKeep || hasToken(value, "keep-alive")
		case "expect":
			if !strings.EqualFold(value, "100-continue") {
				return nil, perr(417, "unsupported expectation")
			}
			r.Expect100 = true
		}
	}
	// RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with
	// "keep-alive".
	r.KeepAlive = !connClose && (r.Minor == 1 || connKeep)
	if r.Minor == 1 {
		if hosts != 1 {
			return nil, perr(400, "an HTTP/1.1 request needs exactly one Host field")
		}
	} else if hosts > 1 {
		return nil, perr(400, "more than one Host field")
	}
	if te {
		if r.ContentLength >= 0 {
			return nil, perr(400, "both Transfer-Encoding and Content-Length")
		}
		return nil, perr(501, "Transfer-Encoding is not supported: send Content-Length")
	}
	if r.ContentLength > int64(lim.BodyMax) {
		return nil, perr(413, "request body too large (at most "+strconv.Itoa(lim.BodyMax)+" bytes)")
	}
	return r, nil
}

// parseTarget fills Path and RawQuery from the request target: origin-form,
// absolute-form for http (RFC 9112 §3.2.2), or "*" for OPTIONS.
func parseTarget(r *Request) *ParseError {
	t := r.Target
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f {
			return perr(400, "malformed request target")
		}
	}
	if t == "*" {
		if r.Method != "OPTIONS" {
			return perr(400, "malformed request target")
		}
		r.Path = "*"
		return nil
	}
	if rest, ok := cutPrefixFold(t, "http://"); ok {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			t = "/"
		} else {
			t = rest[i:]
		}
	}
	if !strings.HasPrefix(t, "/") {
		return perr(400, "malformed request target")
	}
	p, q, _ := strings.Cut(t, "?")
	dec, ok := unescapePath(p)
	if !ok {
		return perr(400, "malformed percent-encoding in the path")
	}
	r.Path, r.RawQuery = dec, q
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// unescapePath decodes %XX escapes; a decoded NUL or "/" would change the
// path's meaning and is refused.
func unescapePath(p string) (string, bool) {
	if strings.IndexByte(p, '%') < 0 {
		return p, true
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) {
			return "", false
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		c := hi<<4 | lo
		if !ok1 || !ok2 || c == 0 || c == '/' {
			return "", false
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isToken reports whether s is a non-empty RFC 9110 §5.6.2 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds tok (case
// insensitive).
func hasToken(v, tok string) bool {
	for f := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.Trim(f, " \t"), tok) {
			return true
		}
	}
	return false
}
