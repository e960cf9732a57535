package core

// rng is a small deterministic generator (xorshift64*); the stack seeds it
// from Config.Seed. It is not a cryptographic generator: it picks ephemeral
// ports, IP identifications and echo identifiers, which RFC 6056 and RFC 7739
// want unpredictable to off-path attackers, so production code seeds it from
// real entropy.
type rng struct{ s uint64 }

func newRNG(seed uint64) rng {
	// splitmix64 once, so that nearby seeds give unrelated streams.
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	return rng{z}
}

func (r *rng) next() uint64 {
	r.s ^= r.s >> 12
	r.s ^= r.s << 25
	r.s ^= r.s >> 27
	return r.s * 0x2545f4914f6cdd1d
}

// intn returns a value in [0, n) for n > 0.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }
