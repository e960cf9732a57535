package httpserver

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary request bytes to the parser: it never panics,
// never reads past the buffer, always consumes what it answers and answers
// with a known status.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /big?size=100 HTTP/1.0\r\n\r\nHEAD / HTTP/1.1\r\nConnection: close\r\n\r\n",
		"\r\n\r\nGET / HTTP/1.1\nA: b\n\n",
		"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
		"garbage\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &Server{cfg: Config{}.withDefaults(), chunk: bigChunk(4096)}
		s.Stats.Status = map[int]uint64{}
		cl := &client{hdr: make([]byte, 0, s.cfg.HeaderMax), head: make([]byte, 0, 512)}
		cl.hdr = append(cl.hdr, in[:min(len(in), cap(cl.hdr))]...)
		for i := 0; len(cl.hdr) > 0 && i < 100; i++ {
			before := len(cl.hdr)
			if !s.parse(cl) {
				break
			}
			if len(cl.hdr) >= before && len(cl.hdr) != 0 {
				t.Fatalf("parse answered without consuming: %d → %d bytes", before, len(cl.hdr))
			}
			if !bytes.HasPrefix(cl.head, []byte("HTTP/1.1 ")) || reason(int(cl.head[9]-'0')*100+int(cl.head[10]-'0')*10+int(cl.head[11]-'0')) == "Error" {
				t.Fatalf("response head %q", cl.head)
			}
		}
	})
}
