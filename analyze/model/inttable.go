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
	slots []intSlot[V] // key and value side by side: one cache miss a probe
	n     int
	seed  uint64
}

// An intSlot is a key|intUsed, or 0 for an empty slot, and its value.
type intSlot[V any] struct {
	key uint64
	val V
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
	mask := len(t.slots) - 1
	want := k | intUsed
	for i := int(intHash(k, t.seed)) & mask; ; i = (i + 1) & mask {
		switch t.slots[i].key {
		case want:
			return i, true
		case 0:
			return i, false
		}
	}
}

// Get returns the value of k and whether k is present.
func (t *IntTable[V]) Get(k uint64) (V, bool) { return t.get(k) }

// Mix64 scrambles a key so that each of its bits moves every bit of the
// result (murmur3's finalizer, unseeded): for picking a partition by the
// top bits of keys that are not hashes themselves.
func Mix64(k uint64) uint64 { return mix64(k) }

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
	return t.slots[i].val, true
}

// At returns a pointer to the value of k, adding k with the zero value
// when it is absent. The pointer is valid until the next at.
func (t *IntTable[V]) At(k uint64) *V { return &t.slots[t.slot(k)].val }

// AtBounded is At, except that it adds nothing to a table of bound or
// more entries and returns nil for an absent k then.
func (t *IntTable[V]) AtBounded(k uint64, bound int) *V { return t.atBounded(k, bound) }

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
		return &t.slots[i].val
	}
	return nil
}

// slot returns the slot of k, adding it when absent.
func (t *IntTable[V]) slot(k uint64) int {
	if k&intUsed != 0 {
		panic("intTable: key out of range")
	}
	if 4*(t.n+1) > 3*len(t.slots) { // at most 3/4 full
		t.grow(max(16, 2*len(t.slots)))
	}
	i, ok := t.find(k)
	if !ok {
		t.slots[i].key = k | intUsed
		t.n++
	}
	return i
}

// Clear empties the table and keeps its memory, for the next use.
func (t *IntTable[V]) Clear() {
	clear(t.slots)
	t.n = 0
}

// Reserve makes room for n entries in all, so that adding them grows the
// table at most once (now): a table counting a million sockets' keys
// skips the copies from 16 slots up, and the memory of those.
func (t *IntTable[V]) Reserve(n int) {
	size := 16
	for 3*size < 4*n {
		size *= 2
	}
	if size > len(t.slots) {
		t.grow(size)
	}
}

// grow moves the entries to a table of size slots (a power of two). A
// big table is advised onto huge pages before it is touched: its probes
// land anywhere in it, and on 4 KiB pages every one misses the TLB (and,
// on a virtual machine, pays a nested page walk) besides the fault that
// first touches each page.
func (t *IntTable[V]) grow(size int) {
	old := t.slots
	if old == nil {
		t.seed = intHash(intTables.Add(1), intSeed)
	}
	t.slots = make([]intSlot[V], size)
	AdviseHugePages(t.slots)
	for _, e := range old {
		if e.key != 0 {
			j, _ := t.find(e.key &^ intUsed)
			t.slots[j] = e
		}
	}
}

// Each calls fn for every entry, in no particular order.
func (t *IntTable[V]) Each(fn func(uint64, V)) {
	for _, e := range t.slots {
		if e.key != 0 {
			fn(e.key&^intUsed, e.val)
		}
	}
}
