package tftp

import (
	"strings"
	"testing"
)

// FuzzParseRequest: any datagram on the request port parses or is refused
// with a TFTP error code; accepted names never escape the root.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"\x00\x01foobar\x00octet\x00blksize\x001432\x00",
		"\x00\x02a/b\x00NETASCII\x00tsize\x000\x00timeout\x003\x00",
		"\x00\x01../x\x00octet\x00",
		"\x00\x01f\x00octet\x00x\x00",
		"\x00\x05\x00\x01",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseRequest(in)
		if err != nil {
			if err.code < errUndef || err.code > errOptions {
				t.Fatalf("error code %d", err.code)
			}
			return
		}
		if r.blksize != -1 && (r.blksize < minBlockSize || r.blksize > maxBlockSize) {
			t.Fatalf("blksize %d", r.blksize)
		}
		if r.timeout != -1 && (r.timeout < 1 || r.timeout > 255) {
			t.Fatalf("timeout %d", r.timeout)
		}
		if name, ok := cleanName(r.name); ok {
			if strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
				t.Fatalf("cleanName(%q) = %q escapes", r.name, name)
			}
		}
	})
}
