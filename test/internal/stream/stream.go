// Package stream is the deterministic byte stream that both ends of the
// transfer tests (test/netsim, test/xcheck, the QEMU tier's TCP case)
// generate and check: xorshift64* words, little-endian, so either end can
// produce or verify any length in any pieces without holding the data.
package stream

import "encoding/binary"

// Gen generates one stream.
type Gen struct {
	x    uint64
	w    uint64 // unused bytes of the last word, low byte first
	left int
}

// New returns the stream for seed.
func New(seed uint64) *Gen { return &Gen{x: seed*0x9e3779b97f4a7c15 | 1} }

func (g *Gen) word() uint64 {
	g.x ^= g.x >> 12
	g.x ^= g.x << 25
	g.x ^= g.x >> 27
	return g.x * 0x2545f4914f6cdd1d
}

// Fill writes the next len(p) bytes of the stream into p.
func (g *Gen) Fill(p []byte) {
	i := 0
	for ; i < len(p) && g.left > 0; i++ {
		p[i] = byte(g.w)
		g.w >>= 8
		g.left--
	}
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], g.word())
	}
	if i < len(p) {
		g.w, g.left = g.word(), 8
		for ; i < len(p); i++ {
			p[i] = byte(g.w)
			g.w >>= 8
			g.left--
		}
	}
}

// Seeds of the two directions of the TCP case.
const (
	GuestToHost = 0x6775657374 // "guest"
	HostToGuest = 0x686f7374   // "host"
)
