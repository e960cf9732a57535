package fault

import (
	"math/bits"

	"github.com/lwgo/lwgo/core/clock"
)

// splitMix64 is Steele, Lea and Flood's SplitMix64 generator ("Fast
// splittable pseudorandom number generators", OOPSLA 2014), the seeder of
// the xoshiro family: 64 bits of state, every seed valid, no allocation.
type splitMix64 struct{ s uint64 }

func (r *splitMix64) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// below returns a number in [0, n), n > 0, by Lemire's multiply-shift (the
// bias, below 2^-64·n, is irrelevant here).
func (r *splitMix64) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// threshold is a probability in units of 2^-53: an event happens when a
// 53-bit draw falls below it. 0 never happens and draws nothing; 1<<53
// always happens.
type threshold uint64

func newThreshold(p float64) threshold {
	if !(p >= 0 && p <= 1) { // also rejects NaN
		panic("fault: rate outside [0, 1]")
	}
	return threshold(p * (1 << 53))
}

// hit draws once (unless the probability is 0) and reports whether the
// event happens.
func (t threshold) hit(r *splitMix64) bool {
	return t != 0 && threshold(r.next()>>11) < t
}

// bucket is a token bucket counting bytes, refilled from the clock with
// exact integer arithmetic (frac carries the sub-byte remainder, in
// byte-nanoseconds, so no rate is lost to rounding).
type bucket struct {
	rate   uint64 // bytes per second
	burst  uint64 // capacity in bytes
	tokens uint64 // bytes available
	frac   uint64 // remainder of rate·elapsed not yet a whole byte, < 1e9
	last   clock.Time
}

const nsPerSecond = uint64(clock.Second)

// admit refills the bucket up to now and takes n bytes from it if it holds
// them.
func (b *bucket) admit(n int, now clock.Time) bool {
	if now.After(b.last) {
		hi, lo := bits.Mul64(uint64(now.Sub(b.last)), b.rate)
		var c uint64
		lo, c = bits.Add64(lo, b.frac, 0)
		hi += c
		if hi >= nsPerSecond { // more than 2^64 bytes: certainly full
			b.tokens, b.frac = b.burst, 0
		} else {
			q, r := bits.Div64(hi, lo, nsPerSecond)
			if q >= b.burst-b.tokens {
				b.tokens, b.frac = b.burst, 0
			} else {
				b.tokens += q
				b.frac = r
			}
		}
		b.last = now
	}
	if uint64(n) > b.tokens {
		return false
	}
	b.tokens -= uint64(n)
	return true
}
