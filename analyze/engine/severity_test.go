package engine

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/group"
)

// TestBySeverityIsStableSort: bySeverity orders hits as a stable sort by
// severity rank does, including severities it does not know.
func TestBySeverityIsStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	sevs := []string{Critical, Warning, Info, "", "bogus"}
	for _, n := range []int{0, 1, 2, 17, 1000} {
		for round := 0; round < 20; round++ {
			hits := make([]fired, n)
			for i := range hits {
				hits[i] = fired{g: &group.Group{Key: string(rune('a' + i%26))}, sev: sevs[r.IntN(len(sevs))]}
				if round%5 == 0 {
					hits[i].sev = Warning // one severity
				}
			}
			want := append([]fired(nil), hits...)
			sort.SliceStable(want, func(i, j int) bool { return SeverityRank(want[i].sev) > SeverityRank(want[j].sev) })
			got := bySeverity(append([]fired(nil), hits...))
			if len(got) != len(want) {
				t.Fatalf("n=%d: %d hits, want %d", n, len(got), len(want))
			}
			for i := range got {
				if got[i].g != want[i].g || got[i].sev != want[i].sev {
					t.Fatalf("n=%d round %d: hit %d is %v/%q, a stable sort puts %v/%q", n, round, i, got[i].g.Key, got[i].sev, want[i].g.Key, want[i].sev)
				}
			}
		}
	}
}
