package wire

// Seq is a TCP sequence number. Comparisons are modulo 2^32 (RFC 9293 §3.4);
// never compare two Seq values with < or >.
type Seq uint32

// Size is a length in sequence space.
type Size uint32

// LessThan reports whether a precedes b.
func (a Seq) LessThan(b Seq) bool { return int32(a-b) < 0 }

// LessThanEq reports whether a precedes or equals b.
func (a Seq) LessThanEq(b Seq) bool { return int32(a-b) <= 0 }

// InRange reports whether lo <= a < hi.
func (a Seq) InRange(lo, hi Seq) bool { return a-lo < hi-lo }

// InWindow reports whether lo <= a < lo+size.
func (a Seq) InWindow(lo Seq, size Size) bool { return a.InRange(lo, lo.Add(size)) }

// Add returns a+n.
func (a Seq) Add(n Size) Seq { return a + Seq(n) }

// Sub returns the distance from b to a, a-b.
func (a Seq) Sub(b Seq) Size { return Size(a - b) }
