package wire

import (
	"math/rand/v2"
	"testing"
)

// TestHeaderSum20MatchesChecksum checks the 20-byte fast path against the
// general sum on random headers.
func TestHeaderSum20MatchesChecksum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := make([]byte, 20)
	for range 100000 {
		for i := range h {
			h[i] = byte(r.Uint32())
		}
		if got, want := headerSum20(h), Checksum(h, 0); fold16(got) != fold16(want) && !(fold16(got) == 0xffff && want == 0) && !(got == 0 && fold16(want) == 0xffff) {
			t.Fatalf("%x: headerSum20 %#x, Checksum %#x", h, got, want)
		}
	}
}
