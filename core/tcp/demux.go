package tcp

import "github.com/lwgo/lwgo/core/wire"

// tuple identifies a connection: local and remote address and port.
type tuple struct {
	local, remote wire.IPv4Addr
	lport, rport  uint16
}

func (t tuple) hash(seed uint64) uint64 {
	h := uint64(t.local.Uint32())<<32 | uint64(t.remote.Uint32())
	h ^= seed
	h *= 0x9e3779b97f4a7c15
	h ^= uint64(t.lport)<<16 | uint64(t.rport)
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>29
}

// tupleTable maps tuples to slot indices: open addressing with linear
// probing and backward-shift deletion, sized once to twice its capacity so
// probes stay short. It never allocates after newTupleTable.
type tupleTable struct {
	keys []tuple
	vals []int32 // slot index; -1 empty
	mask uint64
	seed uint64
}

func newTupleTable(capacity int, seed uint64) tupleTable {
	n := 16
	for n < 2*capacity {
		n *= 2
	}
	t := tupleTable{keys: make([]tuple, n), vals: make([]int32, n), mask: uint64(n - 1), seed: seed}
	for i := range t.vals {
		t.vals[i] = -1
	}
	return t
}

func (t *tupleTable) get(k tuple) int32 {
	for i := k.hash(t.seed) & t.mask; ; i = (i + 1) & t.mask {
		v := t.vals[i]
		if v < 0 {
			return -1
		}
		if t.keys[i] == k {
			return v
		}
	}
}

// put inserts or replaces k. The table never fills: its users bound entries
// to half its size.
func (t *tupleTable) put(k tuple, v int32) {
	for i := k.hash(t.seed) & t.mask; ; i = (i + 1) & t.mask {
		if t.vals[i] < 0 || t.keys[i] == k {
			t.keys[i], t.vals[i] = k, v
			return
		}
	}
}

func (t *tupleTable) del(k tuple) {
	i := k.hash(t.seed) & t.mask
	for ; ; i = (i + 1) & t.mask {
		if t.vals[i] < 0 {
			return
		}
		if t.keys[i] == k {
			break
		}
	}
	// Backward-shift: move later entries of the probe run into the hole.
	for j := (i + 1) & t.mask; t.vals[j] >= 0; j = (j + 1) & t.mask {
		home := t.keys[j].hash(t.seed) & t.mask
		// Move j into i if its home is not in (i, j] cyclically.
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.keys[i], t.vals[i] = t.keys[j], t.vals[j]
			i = j
		}
	}
	t.keys[i], t.vals[i] = tuple{}, -1
}
