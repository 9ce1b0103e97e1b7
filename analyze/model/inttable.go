package model

import (
	"hash/maphash"
	"sync/atomic"
)

// IntTable is a hash table keyed by integers below 1<<63, with open
// addressing and linear probing. Aggregation counts a million sockets
// into tables keyed by packed addresses and ports; this does one probe
// where a Go map hashes, then matches a control group, several times
// over. The hash is seeded per process, so crafted keys cannot make
// every probe collide. Each table has a seed of its own: copying one
// table into another in slot order (merging two halves' tallies) would
// otherwise fill the target's slots in probe order, a cluster that makes
// every later probe walk it (seconds at a million keys). The zero value
// is an empty table.
type IntTable[V any] struct {
	keys []uint64 // key|intUsed, or 0 for an empty slot
	vals []V
	n    int
	seed uint64
}

const intUsed = 1 << 63

var intSeed = maphash.Comparable(maphash.MakeSeed(), uint64(0))

// intTables numbers the tables made, for their seeds.
var intTables atomic.Uint64

// intHash mixes a key with a table's seed (murmur3's finalizer).
func intHash(k, seed uint64) uint64 { return mix64(k ^ seed) }

// mix64 is murmur3's 64-bit finalizer: every input bit moves every
// output bit.
func mix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

func (t *IntTable[V]) Len() int { return t.n }

// find returns the slot of k, or of the empty slot where k would go.
func (t *IntTable[V]) find(k uint64) (int, bool) {
	mask := len(t.keys) - 1
	want := k | intUsed
	for i := int(intHash(k, t.seed)) & mask; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case want:
			return i, true
		case 0:
			return i, false
		}
	}
}

// get returns the value of k and whether k is present.
func (t *IntTable[V]) get(k uint64) (V, bool) {
	if t.n == 0 {
		var zero V
		return zero, false
	}
	i, ok := t.find(k)
	if !ok {
		var zero V
		return zero, false
	}
	return t.vals[i], true
}

// At returns a pointer to the value of k, adding k with the zero value
// when it is absent. The pointer is valid until the next at.
func (t *IntTable[V]) At(k uint64) *V { return &t.vals[t.slot(k)] }

// atBounded is at, except that it adds nothing to a table of bound or
// more entries and returns nil for k then.
func (t *IntTable[V]) atBounded(k uint64, bound int) *V {
	if t.n < bound {
		return t.At(k)
	}
	if t.n == 0 {
		return nil
	}
	if i, ok := t.find(k); ok {
		return &t.vals[i]
	}
	return nil
}

// slot returns the slot of k, adding it when absent.
func (t *IntTable[V]) slot(k uint64) int {
	if k&intUsed != 0 {
		panic("intTable: key out of range")
	}
	if 4*(t.n+1) > 3*len(t.keys) { // at most 3/4 full
		t.grow()
	}
	i, ok := t.find(k)
	if !ok {
		t.keys[i] = k | intUsed
		t.n++
	}
	return i
}

func (t *IntTable[V]) grow() {
	keys, vals := t.keys, t.vals
	if keys == nil {
		t.seed = intHash(intTables.Add(1), intSeed)
	}
	size := max(16, 2*len(keys))
	t.keys, t.vals = make([]uint64, size), make([]V, size)
	for i, k := range keys {
		if k != 0 {
			j, _ := t.find(k &^ intUsed)
			t.keys[j], t.vals[j] = k, vals[i]
		}
	}
}

// Each calls fn for every entry, in no particular order.
func (t *IntTable[V]) Each(fn func(uint64, V)) {
	for i, k := range t.keys {
		if k != 0 {
			fn(k&^intUsed, t.vals[i])
		}
	}
}
