package wire_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// newRand returns a deterministic source so that failures reproduce.
func newRand(t testing.TB) *rand.Rand {
	return rand.New(rand.NewPCG(0x6c77676f, uint64(len(t.Name()))))
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// RFC 1071 §3 works an example: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to
// ddf2 (one's complement, folded), so the checksum is 220d.
func TestRFC1071_3_NumericalExample(t *testing.T) {
	b := unhex("00 01 f2 03 f4 f5 f6 f7")
	for _, f := range []struct {
		name string
		sum  func([]byte, uint32) uint32
	}{{"Checksum", wire.Checksum}, {"ChecksumSimple", wire.ChecksumSimple}} {
		t.Run(f.name, func(t *testing.T) {
			if got := f.sum(b, 0); got != 0xddf2 {
				t.Errorf("sum = %#04x, want 0xddf2", got)
			}
			if got := wire.Fold(f.sum(b, 0)); got != 0x220d {
				t.Errorf("checksum = %#04x, want 0x220d", got)
			}
			// §2(B): byte order independence. Swapping bytes in every word
			// swaps the bytes of the sum: f2dd.
			sw := unhex("01 00 03 f2 f5 f4 f7 f6")
			if got := f.sum(sw, 0); got != 0xf2dd {
				t.Errorf("byte-swapped sum = %#04x, want 0xf2dd", got)
			}
			// A message with its checksum appended sums to all ones.
			withCsum := cat(b, []byte{0x22, 0x0d})
			if got := wire.Fold(f.sum(withCsum, 0)); got != 0 {
				t.Errorf("message with checksum verifies to %#04x, want 0", got)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		in   uint32
		want uint16
	}{
		{0, 0xffff},
		{0xffff, 0},
		{0xddf2, 0x220d},
		{0x1_0000, 0xfffe},    // carry folds back as 1
		{0x1fffe, 0},          // 0xfffe + 1 = 0xffff
		{0xffff_ffff, 0},      // 0xffff + 0xffff = 0x1fffe -> 0xffff
		{0x1234_5678, 0x9753}, // ~(0x1234 + 0x5678) = ~0x68ac
		{0xffff_0001, 0xfffe}, // 0xffff + 1 = 0x10000 -> 1
	}
	for _, tt := range tests {
		if got := wire.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%#x) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}

// interestingInitials are running sums at the edges of the 16- and 32-bit
// ranges, where carries happen.
var interestingInitials = []uint32{0, 1, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0xffff0000, 0xfffffffe, 0xffffffff}

// Checksum agrees with the RFC 1071 reference for every length up to 300, on
// random, all-zero and all-ones data, every interesting initial sum, and at
// every alignment of the slice start.
func TestChecksumMatchesSimple(t *testing.T) {
	r := newRand(t)
	backing := randBytes(r, 300+8)
	ones := filledWith(0xff, 300+8)
	zeros := make([]byte, 300+8)
	for n := 0; n <= 300; n++ {
		for align := range 8 {
			for _, data := range [][]byte{backing, ones, zeros} {
				b := data[align : align+n]
				inits := append(interestingInitials, r.Uint32())
				for _, init := range inits {
					got, want := wire.Checksum(b, init), wire.ChecksumSimple(b, init)
					if got != want {
						t.Fatalf("len %d align %d initial %#x data % x...: Checksum %#04x, ChecksumSimple %#04x",
							n, align, init, b[:min(n, 16)], got, want)
					}
					if got > 0xffff {
						t.Fatalf("len %d: Checksum %#x is not folded", n, got)
					}
				}
			}
		}
	}
}

func filledWith(v byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = v
	}
	return b
}

// Both implementations agree with the independent reference on long random
// buffers (where the 64-bit accumulator of Checksum carries many times).
func TestChecksumMatchesReference(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{1499, 1500, 9000, 65535, 65536} {
		for _, b := range [][]byte{randBytes(r, n), filledWith(0xff, n), filledWith(0x80, n)} {
			want := refChecksum(b)
			if got := wire.Fold(wire.Checksum(b, 0)); got != want {
				t.Errorf("len %d: Checksum gives %#04x, reference %#04x", n, got, want)
			}
			if got := wire.Fold(wire.ChecksumSimple(b, 0)); got != want {
				t.Errorf("len %d: ChecksumSimple gives %#04x, reference %#04x", n, got, want)
			}
		}
	}
}

// A message checksummed in pieces, every piece but the last of even length,
// gives the same sum as in one go, whatever the total length.
func TestChecksumChaining(t *testing.T) {
	r := newRand(t)
	for n := 0; n <= 300; n++ {
		b := randBytes(r, n)
		whole := wire.Checksum(b, 0)
		// Every single even split point.
		for k := 0; k <= n; k += 2 {
			if got := wire.Checksum(b[k:], wire.Checksum(b[:k], 0)); got != whole {
				t.Fatalf("len %d split at %d: %#04x, want %#04x", n, k, got, whole)
			}
		}
		// Random multi-piece splits: even pieces, then a last piece of any
		// length.
		for range 10 {
			s, rest := uint32(0), b
			for len(rest) > 0 {
				k := min(2*r.IntN(40), len(rest))
				if r.IntN(4) == 0 {
					k = len(rest) // last piece, any parity
				}
				s = wire.Checksum(rest[:k], s)
				rest = rest[k:]
			}
			if s != whole {
				t.Fatalf("len %d: random even pieces give %#04x, want %#04x", n, s, whole)
			}
		}
	}
}

// ChecksumSimple must accept any running sum, not only folded ones.
func TestChecksumSimpleUnfoldedInitial(t *testing.T) {
	b := []byte{0xff, 0xff}
	// 0xffffffff is ≡ 0 (mod 0xffff), so the sum is 0xffff.
	if got := wire.ChecksumSimple(b, 0xffffffff); got != 0xffff {
		t.Errorf("ChecksumSimple(ff ff, 0xffffffff) = %#04x, want 0xffff", got)
	}
	// 0xfffffffe is ≡ 0xfffe, and 0xfffe + 2 = 0x10000 folds to 1.
	if got := wire.ChecksumSimple([]byte{0x00, 0x02}, 0xfffffffe); got != 0x0001 {
		t.Errorf("ChecksumSimple(00 02, 0xfffffffe) = %#04x, want 0x0001", got)
	}
}

// RFC 1624 §4 works an example where eqn. 2 gives 0xffff but the correct
// checksum, which eqn. 3 gives, is 0x0000: other header bytes sum to 0xcd7a,
// a field changes from 0x5555 to 0x3285.
func TestRFC1624_4_Example(t *testing.T) {
	hc := wire.Fold(0xcd7a + 0x5555) // 0x122cf folds to 0x22d0; HC = ~0x22d0
	if hc != 0xdd2f {
		t.Fatalf("test setup: HC = %#04x, want 0xdd2f", hc)
	}
	if got := wire.UpdateChecksum16(hc, 0x5555, 0x3285); got != 0x0000 {
		t.Errorf("UpdateChecksum16 = %#04x, want 0x0000", got)
	}
}

// RFC 1624 incremental updates agree with full recomputation.
func TestRFC1624_IncrementalUpdateMatchesRecompute(t *testing.T) {
	r := newRand(t)
	for i := range 20000 {
		n := 2 * (2 + r.IntN(40))
		b := randBytes(r, n)
		b[0] |= 1 // never all zero: the one case where 0 and 0xffff differ
		hc := wire.Fold(wire.Checksum(b, 0))
		off := 2 * r.IntN(n/2-1)
		if i%2 == 0 {
			old := be16(b, off)
			nw := uint16(r.Uint32())
			if i%10 == 0 {
				nw = old // no change
			}
			b[off], b[off+1] = byte(nw>>8), byte(nw)
			b[0] |= 1
			nw = be16(b, off)
			want := wire.Fold(wire.Checksum(b, 0))
			if got := wire.UpdateChecksum16(hc, old, nw); got != want {
				t.Fatalf("UpdateChecksum16(%#04x, %#04x, %#04x) = %#04x, recomputed %#04x", hc, old, nw, got, want)
			}
		} else {
			old := uint32(be16(b, off))<<16 | uint32(be16(b, off+2))
			nw := r.Uint32()
			b[off], b[off+1], b[off+2], b[off+3] = byte(nw>>24), byte(nw>>16), byte(nw>>8), byte(nw)
			b[0] |= 1
			nw = uint32(be16(b, off))<<16 | uint32(be16(b, off+2))
			want := wire.Fold(wire.Checksum(b, 0))
			if got := wire.UpdateChecksum32(hc, old, nw); got != want {
				t.Fatalf("UpdateChecksum32(%#04x, %#08x, %#08x) = %#04x, recomputed %#04x", hc, old, nw, got, want)
			}
		}
	}
}

// A NAT rewriting an IPv4 source address patches the IP checksum and the TCP
// checksum (whose pseudo-header holds the address) incrementally.
func TestRFC1624_NATRewrite(t *testing.T) {
	ip := wire.IPv4(cat(goldenIPv4TCP, goldenTCPSynEncoded))
	seg := wire.TCP(ip.Payload())
	seg.SetChecksum(0x383d)
	if !ip.IsChecksumValid() || !seg.IsChecksumValid(ipClient, ipServer) {
		t.Fatal("test setup: golden checksums do not verify")
	}
	nat := wire.IPv4Addr{203, 0, 113, 7}
	ip.SetChecksum(wire.UpdateChecksum32(ip.Checksum(), ipClient.Uint32(), nat.Uint32()))
	ip.SetSrc(nat)
	seg.SetChecksum(wire.UpdateChecksum32(seg.Checksum(), ipClient.Uint32(), nat.Uint32()))
	if !ip.IsChecksumValid() {
		t.Error("IPv4 checksum does not verify after the incremental update")
	}
	if !seg.IsChecksumValid(nat, ipServer) {
		t.Error("TCP checksum does not verify after the incremental update")
	}
}

func TestPseudoHeaderSum(t *testing.T) {
	tests := []struct {
		name     string
		src, dst wire.IPv4Addr
		proto    wire.IPProto
		length   int
		want     uint32
	}{
		// 0a00 + 020f + 0a00 + 0203 + 0011 + 0025 = 1848
		{"DNSQuery", ipGuest, ipDNS, wire.ProtoUDP, 37, 0x1848},
		// c0a8 + 010a + 5db8 + d822 + 0006 + 002c = 1_f7be -> f7bf
		{"TCPSyn", ipClient, ipServer, wire.ProtoTCP, 44, 0xf7bf},
		// 4*ffff + 00ff + ffff = 5_00fa -> 00ff
		{"AllOnes", wire.IPv4Broadcast, wire.IPv4Broadcast, 0xff, 0xffff, 0x00ff},
		{"Zero", wire.IPv4Any, wire.IPv4Any, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wire.PseudoHeaderSum(tt.src, tt.dst, tt.proto, tt.length)
			if got != tt.want {
				t.Errorf("PseudoHeaderSum = %#04x, want %#04x", got, tt.want)
			}
			ph := pseudoHeader(tt.src, tt.dst, uint8(tt.proto), tt.length)
			if ref := ^refChecksum(ph); got != uint32(ref) && !(got == 0 && ref == 0xffff) {
				t.Errorf("PseudoHeaderSum = %#04x, reference sum %#04x", got, ref)
			}
		})
	}
	r := newRand(t)
	for range 10000 {
		src, dst := wire.IPv4FromUint32(r.Uint32()), wire.IPv4FromUint32(r.Uint32())
		proto, length := wire.IPProto(r.Uint32()), r.IntN(65536)
		ph := pseudoHeader(src, dst, uint8(proto), length)
		if got, want := wire.PseudoHeaderSum(src, dst, proto, length), wire.ChecksumSimple(ph, 0); got != want {
			t.Fatalf("PseudoHeaderSum(%v, %v, %d, %d) = %#04x, sum of the bytes %#04x", src, dst, proto, length, got, want)
		}
	}
}

var checksumSizes = []int{64, 1500, 9000, 65535}

var sinkSum uint32

func benchmarkChecksum(b *testing.B, sum func([]byte, uint32) uint32) {
	for _, n := range checksumSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			data := randBytes(newRand(b), n)
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkSum = sum(data, 0)
			}
		})
	}
}

func BenchmarkChecksum(b *testing.B)       { benchmarkChecksum(b, wire.Checksum) }
func BenchmarkChecksumSimple(b *testing.B) { benchmarkChecksum(b, wire.ChecksumSimple) }
