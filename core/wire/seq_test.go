package wire_test

import (
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// Sequence-number comparisons are modulo 2^32 (RFC 9293 §3.4, RFC 1982).

func TestSeqLessThan(t *testing.T) {
	tests := []struct {
		name     string
		a, b     wire.Seq
		lt, lteq bool
	}{
		{"Equal", 100, 100, false, true},
		{"EqualAtMax", 0xffffffff, 0xffffffff, false, true},
		{"Before", 100, 101, true, true},
		{"After", 101, 100, false, false},
		{"MaxBeforeZero", 0xffffffff, 0, true, true},
		{"ZeroAfterMax", 0, 0xffffffff, false, false},
		{"AcrossWrap", 0xfffffff0, 0x10, true, true},
		{"AcrossWrapReversed", 0x10, 0xfffffff0, false, false},
		{"SignBoundary", 0x7fffffff, 0x80000000, true, true},
		{"SignBoundaryReversed", 0x80000000, 0x7fffffff, false, false},
		{"FarthestAhead", 0, 0x7fffffff, true, true},
		{"FarthestAheadReversed", 0x7fffffff, 0, false, false},
		{"FarthestAheadAcrossWrap", 0x80000001, 0, true, true},
		// At a distance of exactly 2^31 the order is undefined (RFC 1982
		// §3.2); lwgo's int32 test calls each one less than the other.
		{"HalfwayForward", 0, 0x80000000, true, true},
		{"HalfwayBackward", 0x80000000, 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.LessThan(tt.b); got != tt.lt {
				t.Errorf("%#08x.LessThan(%#08x) = %v, want %v", uint32(tt.a), uint32(tt.b), got, tt.lt)
			}
			if got := tt.a.LessThanEq(tt.b); got != tt.lteq {
				t.Errorf("%#08x.LessThanEq(%#08x) = %v, want %v", uint32(tt.a), uint32(tt.b), got, tt.lteq)
			}
		})
	}
}

func TestSeqInRange(t *testing.T) {
	tests := []struct {
		name      string
		a, lo, hi wire.Seq
		want      bool
	}{
		{"AtLo", 5, 5, 10, true},
		{"Inside", 7, 5, 10, true},
		{"LastInside", 9, 5, 10, true},
		{"AtHi", 10, 5, 10, false},
		{"BelowLo", 4, 5, 10, false},
		{"Empty", 5, 5, 5, false},
		{"WrapAtLo", 0xfffffff0, 0xfffffff0, 0x10, true},
		{"WrapAtMax", 0xffffffff, 0xfffffff0, 0x10, true},
		{"WrapAtZero", 0, 0xfffffff0, 0x10, true},
		{"WrapLastInside", 0x0f, 0xfffffff0, 0x10, true},
		{"WrapAtHi", 0x10, 0xfffffff0, 0x10, false},
		{"WrapBelowLo", 0xffffffef, 0xfffffff0, 0x10, false},
		{"WrapFarOutside", 0x80000000, 0xfffffff0, 0x10, false},
		{"HiAtZero", 0xffffffff, 0xfffffff0, 0, true},
		{"HiAtZeroExcludesZero", 0, 0xfffffff0, 0, false},
		{"AlmostEverything", 0x7fffffff, 1, 0, true},
		{"AlmostEverythingButHi", 0, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.InRange(tt.lo, tt.hi); got != tt.want {
				t.Errorf("%#08x.InRange(%#08x, %#08x) = %v, want %v", uint32(tt.a), uint32(tt.lo), uint32(tt.hi), got, tt.want)
			}
		})
	}
}

func TestSeqInWindow(t *testing.T) {
	tests := []struct {
		name  string
		a, lo wire.Seq
		size  wire.Size
		want  bool
	}{
		{"ZeroWindow", 100, 100, 0, false},
		{"OneByteWindow", 100, 100, 1, true},
		{"OneByteWindowNext", 101, 100, 1, false},
		{"Inside", 150, 100, 100, true},
		{"AtEnd", 200, 100, 100, false},
		{"Before", 99, 100, 100, false},
		{"WrapInsideHigh", 0xffffffff, 0xffffff00, 0x200, true},
		{"WrapInsideLow", 0xff, 0xffffff00, 0x200, true},
		{"WrapAtEnd", 0x100, 0xffffff00, 0x200, false},
		{"WrapBefore", 0xfffffeff, 0xffffff00, 0x200, false},
		{"MaxWindowIncludesWrap", 0, 0xffffffff, 0xffffffff, true},
		{"MaxWindowExcludesLoMinusOne", 0xfffffffe, 0xffffffff, 0xffffffff, false},
		// The largest scaled window (65535 << 14 = 0x3fffc000) across the
		// wrap: it ends at 0xfffc0000 + 0x3fffc000 = 0x3ffbc000.
		{"ScaledWindowWrapLast", 0x3ffbbfff, 0xfffc0000, 0xffff << 14, true},
		{"ScaledWindowWrapEnd", 0x3ffbc000, 0xfffc0000, 0xffff << 14, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.InWindow(tt.lo, tt.size); got != tt.want {
				t.Errorf("%#08x.InWindow(%#08x, %#x) = %v, want %v", uint32(tt.a), uint32(tt.lo), uint32(tt.size), got, tt.want)
			}
		})
	}
}

func TestSeqAddSub(t *testing.T) {
	tests := []struct {
		name string
		a    wire.Seq
		n    wire.Size
		sum  wire.Seq
	}{
		{"Zero", 1234, 0, 1234},
		{"Plain", 1000, 460, 1460},
		{"MaxPlusOne", 0xffffffff, 1, 0},
		{"AcrossWrap", 0xfffffff0, 0x20, 0x10},
		{"FullCircleMinusOne", 5, 0xffffffff, 4},
		{"Half", 0x80000000, 0x80000000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Add(tt.n); got != tt.sum {
				t.Errorf("%#08x.Add(%#x) = %#08x, want %#08x", uint32(tt.a), uint32(tt.n), uint32(got), uint32(tt.sum))
			}
			if got := tt.sum.Sub(tt.a); got != tt.n {
				t.Errorf("%#08x.Sub(%#08x) = %#x, want %#x", uint32(tt.sum), uint32(tt.a), uint32(got), uint32(tt.n))
			}
		})
	}
}

// Properties over random points on the circle, concentrated near the wrap.
func TestSeqProperties(t *testing.T) {
	r := newRand(t)
	pick := func() wire.Seq {
		switch r.IntN(3) {
		case 0:
			return wire.Seq(0xffffffff - r.IntN(1000)) // just below the wrap
		case 1:
			return wire.Seq(r.IntN(1000)) // just above it
		}
		return wire.Seq(r.Uint32())
	}
	for range 100000 {
		a, b := pick(), pick()
		n := wire.Size(r.Uint32() >> 1) // below 2^31
		if a.Add(n).Sub(a) != n {
			t.Fatalf("%#x.Add(%#x).Sub(%#x) != %#x", a, n, a, n)
		}
		if n > 0 && !a.LessThan(a.Add(n)) {
			t.Fatalf("%#x not LessThan %#x + %#x", a, a, n)
		}
		if n > 0 && a.Add(n).LessThanEq(a) {
			t.Fatalf("%#x + %#x LessThanEq %#x", a, n, a)
		}
		if a.Sub(b) != 0x80000000 {
			if a.LessThan(b) == b.LessThan(a) && a != b {
				t.Fatalf("LessThan not antisymmetric for %#x, %#x", a, b)
			}
			if a.LessThanEq(b) != !b.LessThan(a) {
				t.Fatalf("LessThanEq(%#x, %#x) != !LessThan(%#x, %#x)", a, b, b, a)
			}
		}
		if got, want := a.InWindow(b, n), a.Sub(b) < n; got != want {
			t.Fatalf("%#x.InWindow(%#x, %#x) = %v, want %v", a, b, n, got, want)
		}
		if got, want := a.InRange(b, b.Add(n)), a.InWindow(b, n); got != want {
			t.Fatalf("%#x.InRange(%#x, %#x) = %v, InWindow says %v", a, b, b.Add(n), got, want)
		}
		if a.InWindow(b, n) && n > 0 && (a.LessThan(b) || !a.LessThan(b.Add(n))) {
			t.Fatalf("%#x in window [%#x, +%#x) but comparisons disagree", a, b, n)
		}
	}
}
