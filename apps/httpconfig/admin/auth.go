package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
)

// Access control.
//
// Authentication is HTTP Basic (RFC 7617) against one user and password,
// compared in constant time (both sides hashed with SHA-256 first, so that
// neither the content nor the length of the secret shows in the timing).
//
// Cross-site request forgery (OWASP's "synchronizer token" and "verifying
// origin with standard headers"): a state-changing request (anything but
// GET, HEAD and OPTIONS) must
//   - carry the session cookie and the token derived from it: the form's
//     hidden "csrf" field, or for the JSON API the X-CSRF-Token header
//     (a header a cross-site form cannot send, and a cross-site script
//     cannot without a CORS preflight this server never approves);
//   - if it has an Origin field, come from this server's own origin; if it
//     has no Origin but a Referer, be referred from this server.
// The session is a random identifier in an HttpOnly, SameSite=Strict
// cookie; the token is HMAC-SHA256(key, id), so the server keeps no
// session table and a restart (a new key) invalidates every token.

const (
	sessionCookie = "lwgo_session"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
	sessionIDLen  = 32 // hex characters
)

// guard holds the secrets of access control.
type guard struct {
	user    string
	passSum [32]byte // SHA-256 of user ":" password
	noAuth  bool     // -insecure-no-auth
	key     [32]byte // HMAC key of CSRF tokens
}

func newGuard(user, password string, noAuth bool) *guard {
	g := &guard{user: user, noAuth: noAuth}
	g.setPassword(password)
	if _, err := rand.Read(g.key[:]); err != nil {
		panic("admin: no randomness: " + err.Error())
	}
	return g
}

func (g *guard) setPassword(p string) { g.passSum = sha256.Sum256([]byte(g.user + ":" + p)) }

// authorized reports whether the Authorization field carries the right
// credentials (or authentication is off).
func (g *guard) authorized(r *Request) bool {
	if g.noAuth {
		return true
	}
	h := r.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	got := sha256.Sum256(raw)
	return subtle.ConstantTimeCompare(got[:], g.passSum[:]) == 1
}

// session returns the request's session identifier, or "" if it has no
// well-formed one.
func session(r *Request) string {
	for _, f := range r.Header {
		if !strings.EqualFold(f.Name, "Cookie") {
			continue
		}
		for c := range strings.SplitSeq(f.Value, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(c), "=")
			if ok && name == sessionCookie && isSessionID(value) {
				return value
			}
		}
	}
	return ""
}

func isSessionID(s string) bool {
	if len(s) != sessionIDLen {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func newSessionID() string {
	var b [sessionIDLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// token is the CSRF token of session id.
func (g *guard) token(id string) string {
	m := hmac.New(sha256.New, g.key[:])
	m.Write([]byte("csrf\x00" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// validToken reports whether tok is id's token, in constant time.
func (g *guard) validToken(id, tok string) bool {
	if id == "" || tok == "" {
		return false
	}
	want := g.token(id)
	return subtle.ConstantTimeCompare([]byte(want), []byte(tok)) == 1
}

// sameOrigin checks Origin, else Referer, against the Host the request
// was sent to (RFC 6454; OWASP CSRF cheat sheet). A request with neither
// passes: it is not from a browser that would send them.
func sameOrigin(r *Request) bool {
	host := strings.ToLower(r.Host)
	if host == "" {
		return false
	}
	if o := r.Get("Origin"); o != "" {
		return strings.EqualFold(o, "http://"+host)
	}
	if ref := r.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && u.Scheme == "http" && strings.EqualFold(u.Host, host)
	}
	return true
}

// safeMethod: methods that change nothing (RFC 9110 §9.2.1).
func safeMethod(m string) bool { return m == "GET" || m == "HEAD" || m == "OPTIONS" }
