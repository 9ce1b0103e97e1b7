package model

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestOwnerTallyMatchesMap counts owners — few, many, some whose pid does
// not pack — into a tally and into two plain maps with the same bound,
// one for all sockets and one for the live ones.
func TestOwnerTallyMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	names := []Name{NoName, Intern("java"), Intern("nginx"), Intern("php-fpm")}
	for _, owners := range []int{1, ownerFew - 1, ownerFew, ownerFew + 1, 300} {
		for _, bound := range []int{ownerFew + 2, 100, math.MaxInt} { // production bounds are far above ownerFew
			var tally OwnerTally
			want, wantLive := map[Owner]int{}, map[Owner]int{}
			for i := 0; i < 4000; i++ {
				j := r.IntN(owners)
				o := Owner{j, names[j%len(names)], j%3 == 0}
				if j%7 == 0 {
					o.PID = 1<<30 + j // does not pack
				}
				n := 1 + r.IntN(3)
				live := r.IntN(n + 1)
				if j%5 == 0 {
					live = 0 // an owner seen only in TIME_WAIT: never live
				}
				tally.Add(o, n, live, bound)
				if _, ok := want[o]; ok || len(want) < bound {
					want[o] += n
				}
				if _, ok := wantLive[o]; live > 0 && (ok || len(wantLive) < bound) {
					wantLive[o] += live
				}
			}
			got, gotLive := map[Owner]int{}, map[Owner]int{}
			tally.Each(func(o Owner, c LiveCount) {
				if c.N > 0 {
					got[o] += int(c.N)
				}
				if c.Live > 0 {
					gotLive[o] += int(c.Live)
				}
			})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%d owners, bound %d: tally %v, map %v", owners, bound, got, want)
			}
			if !reflect.DeepEqual(gotLive, wantLive) {
				t.Errorf("%d owners, bound %d: live tally %v, map %v", owners, bound, gotLive, wantLive)
			}
		}
	}
}
