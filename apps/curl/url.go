package main

import (
	"net/url"
	"strconv"
	"strings"
)

// target is a parsed http URL: what a request needs.
type target struct {
	u    *url.URL
	host string // name or IPv4 literal, without brackets or port
	port uint16
}

// parseURL parses a URL as curl does: a missing scheme means http, only
// http is supported (exit 1 for others, like a curl built without them),
// and anything without a usable host or port is exit 3.
func parseURL(raw string) (target, *Failure) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return target{}, fail(ExitURLMalformat, "URL using bad/illegal format or missing URL")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	scheme, _, _ := strings.Cut(s, "://")
	if !strings.EqualFold(scheme, "http") {
		return target{}, fail(ExitUnsupportedProtocol, `Protocol "`+scheme+`" not supported or disabled in libcurl`)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" || strings.ContainsAny(s, " \t\r\n") {
		return target{}, fail(ExitURLMalformat, "URL using bad/illegal format or missing URL")
	}
	return fromURL(u)
}

// fromURL checks a parsed URL (a redirect's target, say) and fills a target.
func fromURL(u *url.URL) (target, *Failure) {
	if !strings.EqualFold(u.Scheme, "http") {
		return target{}, fail(ExitUnsupportedProtocol, `Protocol "`+u.Scheme+`" not supported or disabled in libcurl`)
	}
	u.Scheme = "http"
	host := u.Hostname()
	if host == "" || strings.Contains(host, ":") || u.User != nil && u.User.String() == "" {
		// IPv6 literals: this stack speaks IPv4 only.
		return target{}, fail(ExitURLMalformat, "URL using bad/illegal format or missing URL")
	}
	t := target{u: u, host: strings.ToLower(host), port: 80}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return target{}, fail(ExitURLMalformat, "Port number was not a decimal number between 0 and 65535")
		}
		t.port = uint16(n)
	} else if strings.HasSuffix(u.Host, ":") {
		u.Host = strings.TrimSuffix(u.Host, ":")
	}
	return t, nil
}

// requestTarget is the origin-form of the request line (RFC 9112 §3.2.1):
// the path, "/" when empty, and the query. The fragment is never sent.
func (t target) requestTarget() string {
	p := t.u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if t.u.RawQuery != "" || t.u.ForceQuery {
		p += "?" + t.u.RawQuery
	}
	return p
}

// hostHeader is the Host field: the host, and the port unless it is 80.
func (t target) hostHeader() string {
	if t.port == 80 {
		return t.host
	}
	return t.host + ":" + strconv.Itoa(int(t.port))
}

// key identifies the origin a connection can be reused for.
func (t target) key() string { return t.host + ":" + strconv.Itoa(int(t.port)) }

// String is the URL as curl reports it (%{url_effective}): no fragment.
func (t target) String() string {
	u := *t.u
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// resolveRedirect resolves a Location field against the URL it came from
// (RFC 9110 §10.2.2, RFC 3986 §5); a fragment-less Location inherits the
// fragment of base (RFC 9110 §10.2.2), which is never sent anyway.
func resolveRedirect(base target, location string) (target, *Failure) {
	loc := strings.TrimSpace(location)
	ref, err := url.Parse(loc)
	if err != nil || loc == "" {
		return target{}, fail(ExitURLMalformat, "URL using bad/illegal format or missing URL")
	}
	return fromURL(base.u.ResolveReference(ref))
}

// remoteName is -O's file name: the last segment of the URL's path.
func remoteName(t target) string {
	p := t.u.Path
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return p
}
