package model

import "math/bits"

// Counting or joining a million distinct keys (destinations, remote
// endpoints) in one hash table costs a cache and TLB miss a socket, which
// on a virtual machine is most of a second. Partitioned first, by the
// top bits of a hash of the key, each partition holds a few thousand
// keys, and a table of them stays in cache.

// partLog bounds the partitions: at most 1<<partLog.
const partLog = 12

// partSize is about how many keys a partition holds.
const partSize = 4096

// Partitions orders the indices i with keys[i] != 0 by partition, each
// partition in index order; partition p is order[start[p]:start[p+1]].
// hash(keys[i]) picks the partition from its top bits.
func Partitions(keys []uint64, n int, hash func(uint64) uint64) (order []uint32, start []int) {
	return PartitionsOf(keys, ^uint64(0), n, hash)
}

// PartitionsOf is Partitions over the indices i with keys[i]&mask != 0.
func PartitionsOf(keys []uint64, mask uint64, n int, hash func(uint64) uint64) (order []uint32, start []int) {
	nbits := 0
	for nbits < partLog && n>>nbits > partSize {
		nbits++
	}
	part := func(k uint64) uint64 {
		if nbits == 0 {
			return 0
		}
		return hash(k) >> (64 - nbits)
	}
	start = make([]int, 1<<nbits+1)
	for _, k := range keys {
		if k&mask != 0 {
			start[part(k)+1]++
		}
	}
	for p := 1; p < len(start); p++ {
		start[p] += start[p-1]
	}
	order = make([]uint32, start[len(start)-1])
	fill := append([]int(nil), start[:len(start)-1]...)
	for i, k := range keys {
		if k&mask != 0 {
			p := part(k)
			order[fill[p]] = uint32(i)
			fill[p]++
		}
	}
	return order, start
}

// EachPartition runs fn over the partitions of start (see Partitions) in
// two ranges on two goroutines, split where each holds about half the
// keys; half tells the call which it has (0 or 1).
func EachPartition(start []int, fn func(half, lo, hi int)) {
	Weighed(len(start)-1, func(p int) int { return start[p+1] - start[p] }, 0, fn)
}

// Parallel runs fn over [0,n) in two halves on two goroutines (one when n
// is small), telling each call which half it has (0 or 1) so that it can
// keep what it gathers apart from the other's.
func Parallel(n int, fn func(half, lo, hi int)) {
	if n < 1<<14 {
		fn(0, 0, n)
		return
	}
	done := make(chan struct{})
	go func() { fn(0, 0, n/2); close(done) }()
	fn(1, n/2, n)
	<-done
}

// Popcount counts the bits set in a bitmap.
func Popcount(words []uint64) int {
	n := 0
	for _, w := range words {
		n += bits.OnesCount64(w)
	}
	return n
}

// Weighed runs fn over the n items in two ranges, [0,mid) (half 0) and
// [mid,n) (half 1), on two goroutines, mid putting about half the weight
// in each (weight(i) is item i's); in one call over [0,n) (half 0) when
// there are fewer than two items or less weight than least in all.
func Weighed(n int, weight func(i int) int, least int, fn func(half, lo, hi int)) {
	total := 0
	for i := range n {
		total += weight(i)
	}
	if n < 2 || total < least {
		fn(0, 0, n)
		return
	}
	mid, w := 0, 0
	for mid < n-1 && w < total/2 {
		w += weight(mid)
		mid++
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(0, 0, mid)
	}()
	fn(1, mid, n)
	<-done
}
