package group

import "github.com/tcpsnap/tcpsnap/analyze/model"

// Counting or joining a million distinct keys (destinations, remote
// endpoints) in one hash table costs a cache and TLB miss a socket, which
// on a virtual machine is most of a second. Partitioned first, by the
// top bits of a hash of the key, each partition holds a few thousand
// keys, and a table of them stays in cache.

// partLog bounds the partitions: at most 1<<partLog.
const partLog = 12

// partSize is about how many keys a partition holds.
const partSize = 4096

// partitions orders the indices i with keys[i] != 0 by partition, each
// partition in index order; partition p is order[start[p]:start[p+1]].
// hash(keys[i]) picks the partition from its top bits.
func partitions(keys []uint64, n int, hash func(uint64) uint64) (order []uint32, start []int) {
	return partitionsOf(keys, ^uint64(0), n, hash)
}

// partitionsOf is partitions over the indices i with keys[i]&mask != 0.
func partitionsOf(keys []uint64, mask uint64, n int, hash func(uint64) uint64) (order []uint32, start []int) {
	bits := 0
	for bits < partLog && n>>bits > partSize {
		bits++
	}
	part := func(k uint64) uint64 {
		if bits == 0 {
			return 0
		}
		return hash(k) >> (64 - bits)
	}
	start = make([]int, 1<<bits+1)
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

// eachPartition runs fn over the partitions of start (see partitions) in
// two ranges on two goroutines, split where each holds about half the
// keys; half tells the call which it has (0 or 1).
func eachPartition(start []int, fn func(half, lo, hi int)) {
	parts := len(start) - 1
	if parts < 2 {
		fn(0, 0, parts)
		return
	}
	mid := 1
	for mid < parts-1 && start[mid] < start[parts]/2 {
		mid++
	}
	done := make(chan struct{})
	go func() { fn(0, 0, mid); close(done) }()
	fn(1, mid, parts)
	<-done
}

// endpointKey is a key in [1, 1<<62) for a socket's remote endpoint:
// exact for IPv4 (address and port) and for a host name a listing printed
// instead of an address (name and port); a digest for IPv6 (two of a
// million IPv6 endpoints share one with a chance of about 1e-6). It is 0
// when the socket has no remote endpoint to tell.
func endpointKey(s *model.Socket) uint64 {
	switch a := s.Remote; {
	case a.Is4():
		return 1<<48 | model.V4Key(a)
	case a.IsValid():
		return 1<<61 | model.PairDigest(a, model.AddrPort{})>>3
	case s.RemoteName != model.NoName:
		return 1<<60 | uint64(s.RemoteName)<<16 | uint64(a.Port())
	}
	return 0
}
