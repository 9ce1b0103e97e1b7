package model

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// Partitions keeps every marked index once, each partition in index
// order, and sends equal keys to the same partition.
func TestPartitions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 100, 5000, 40000} {
		keys := make([]uint64, n)
		marked := 0
		for i := range keys {
			if r.IntN(4) != 0 {
				keys[i] = 1 + uint64(r.IntN(n/3+1))
				marked++
			}
		}
		order, start := Partitions(keys, marked, Mix64)
		if len(order) != marked || start[len(start)-1] != marked {
			t.Fatalf("n=%d: %d indices in order, %d marked", n, len(order), marked)
		}
		where := map[uint64]int{}
		seen := map[uint32]bool{}
		for p := 0; p+1 < len(start); p++ {
			part := order[start[p]:start[p+1]]
			for j, i := range part {
				if seen[i] || keys[i] == 0 {
					t.Fatalf("n=%d: index %d twice or unmarked", n, i)
				}
				seen[i] = true
				if j > 0 && part[j-1] >= i {
					t.Fatalf("n=%d: partition %d out of index order", n, p)
				}
				if q, ok := where[keys[i]]; ok && q != p {
					t.Fatalf("n=%d: key %d in partitions %d and %d", n, keys[i], q, p)
				}
				where[keys[i]] = p
			}
		}
		if n > 2*partSize && len(start) < 3 {
			t.Errorf("n=%d: %d partitions", n, len(start)-1)
		}
	}
}

// TestWeighed: the two ranges cover every item once, split near half the
// weight; little weight or one item is one call.
func TestWeighed(t *testing.T) {
	for _, tc := range []struct {
		w     []int
		least int
		calls [][2]int
	}{
		{[]int{5, 5, 5, 5}, 0, [][2]int{{0, 2}, {2, 4}}},
		{[]int{9, 1, 1, 1}, 0, [][2]int{{0, 1}, {1, 4}}},
		{[]int{1, 1, 1, 9}, 0, [][2]int{{0, 3}, {3, 4}}},
		{[]int{5, 5}, 11, [][2]int{{0, 2}}},
		{[]int{7}, 0, [][2]int{{0, 1}}},
		{nil, 0, [][2]int{{0, 0}}},
	} {
		var mu sync.Mutex
		var got [][2]int
		Weighed(len(tc.w), func(i int) int { return tc.w[i] }, tc.least, func(_, lo, hi int) {
			mu.Lock()
			got = append(got, [2]int{lo, hi})
			mu.Unlock()
		})
		slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
		if !slices.Equal(got, tc.calls) {
			t.Errorf("weights %v least %d: calls %v, want %v", tc.w, tc.least, got, tc.calls)
		}
	}
}
