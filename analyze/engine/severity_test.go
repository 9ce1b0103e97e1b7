package engine

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
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

// TestFoldAsHitsCome: folding hits by cause as they come, then ordering
// them by severity, gives what ordering all hits by severity and then
// folding them gives: the same findings, the same first hit of each
// cause, the same folded groups in the same order, the same count.
func TestFoldAsHitsCome(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	sevs := []string{Critical, Warning, Info}
	progs := []string{"nginx", "java", "php-fpm", ""}
	for _, n := range []int{0, 1, 5, 200, 3000} {
		for round := 0; round < 10; round++ {
			hits := make([]fired, n)
			for i := range hits {
				g := &group.Group{Kind: []string{"process", "port", "destination", "snapshot"}[r.IntN(4)], Key: string(rune('a' + i%26))}
				if p := progs[r.IntN(len(progs))]; p != "" {
					g.Process, g.PID, g.OwnerKnown = p, 1+r.IntN(5), true
					g.Owner = p
				}
				g.LocalPort, g.RemotePort = 1+r.IntN(3), 1+r.IntN(3)
				g.FromEvidence = r.IntN(20) == 0
				hits[i] = fired{g: g, sev: sevs[r.IntN(len(sevs))]}
			}
			// The reference: order all hits by severity, then fold each
			// into the first of its cause.
			sorted := append([]fired(nil), hits...)
			sort.SliceStable(sorted, func(i, j int) bool { return SeverityRank(sorted[i].sev) > SeverityRank(sorted[j].sev) })
			var want []fired
			first := map[string]int{}
			var wantAlso [][]*group.Group
			for _, h := range sorted {
				if k, ok := causeKey(h, "owner"); ok {
					if i, seen := first[k]; seen {
						wantAlso[i] = append(wantAlso[i], h.g)
						continue
					}
					first[k] = len(want)
				}
				want = append(want, h)
				wantAlso = append(wantAlso, nil)
			}
			var fold causes
			var got []fired
			for _, h := range hits {
				got = fold.add(got, h)
			}
			got = bySeverity(got)
			if len(got) != len(want) {
				t.Fatalf("n=%d round %d: %d findings, want %d", n, round, len(got), len(want))
			}
			for i := range got {
				if got[i].g != want[i].g || got[i].sev != want[i].sev || got[i].alsoN != len(wantAlso[i]) {
					t.Fatalf("n=%d round %d: finding %d is %s/%s folding %d, want %s/%s folding %d", n, round, i,
						got[i].g.Key, got[i].sev, got[i].alsoN, want[i].g.Key, want[i].sev, len(wantAlso[i]))
				}
				w := wantAlso[i][:min(len(wantAlso[i]), maxAlso)]
				if len(got[i].also) != len(w) {
					t.Fatalf("n=%d round %d: finding %d lists %d folded groups, want %d", n, round, i, len(got[i].also), len(w))
				}
				for j := range w {
					if got[i].also[j] != w[j] {
						t.Fatalf("n=%d round %d: finding %d's folded group %d differs", n, round, i, j)
					}
				}
			}
		}
	}
}

// TestFoldAlsoNamesLocalAddresses: destinations folded into one finding
// that share its remote are named by their local address too, not as the
// same remote again and again.
func TestFoldAlsoNamesLocalAddresses(t *testing.T) {
	dest := func(local, remote string) *group.Group {
		g := &group.Group{Kind: "destination", Process: "app", PID: 7, OwnerKnown: true, LocalAddr: local, Remote: remote}
		return g
	}
	h := fired{g: dest("10.0.0.1", "192.0.2.9:5432"), alsoN: 3, also: []*group.Group{
		dest("10.0.0.2", "192.0.2.9:5432"), dest("10.0.0.3", "192.0.2.10:5432"), dest("10.0.0.4", "192.0.2.10:5432")}}
	f := &Finding{Title: "t"}
	foldAlso(f, h)
	want := "t; the same in 3 more destinations of app (10.0.0.2 → 192.0.2.9:5432, 192.0.2.10:5432, 10.0.0.4 → 192.0.2.10:5432)"
	if f.Title != want {
		t.Errorf("title %q, want %q", f.Title, want)
	}
}

// TestFoldByRuleNamesTheFolded: a finding folded by rule names the
// programs of the ports it folded, not its own.
func TestFoldByRuleNamesTheFolded(t *testing.T) {
	port := func(prog string, p int) *group.Group {
		g := &group.Group{Kind: "port", LocalPort: p, Process: prog, PID: 1, OwnerKnown: prog != ""}
		if prog == "" {
			g.PID = 0
		}
		return g
	}
	for _, tc := range []struct {
		name string
		gs   []*group.Group
		want string
	}{
		{"another program", []*group.Group{port("nginx", 1), port("java", 2), port("java", 3)}, "; the same in 2 more ports of java (:2, :3)"},
		{"unknown owners", []*group.Group{port("nginx", 1), port("", 2), port("", 3)}, "; the same in 2 more ports of unknown processes (:2, :3)"},
		{"its own program", []*group.Group{port("", 1), port("nginx", 2), port("nginx", 3)}, "; the same in 2 more ports of nginx (:2, :3)"},
		{"several", []*group.Group{port("nginx", 1), port("java", 2), port("go", 3), port("", 4)}, "; the same in 3 more ports of 2 programs and unknown processes (:2, :3, :4)"},
	} {
		c := causes{fold: "rule"}
		var hits []fired
		for _, g := range tc.gs {
			hits = c.add(hits, fired{g: g, sev: Info})
		}
		if len(hits) != 1 {
			t.Fatalf("%s: %d hits, want 1", tc.name, len(hits))
		}
		f := &Finding{}
		foldAlso(f, hits[0])
		if f.Title != tc.want {
			t.Errorf("%s: title %q, want %q", tc.name, f.Title, tc.want)
		}
	}
}

func TestSingular(t *testing.T) {
	for in, want := range map[string]string{
		"nginx processes": "nginx process",
		"ports of java":   "port of java",
		"ports of 2 programs and unknown processes": "port of 2 programs and unknown processes",
		"destinations of app":                       "destination of app",
		"listeners of unknown processes":            "listener of unknown processes",
		"unknown processes":                         "unknown process",
		"something else":                            "something else",
	} {
		if got := singular(in); got != want {
			t.Errorf("singular(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFoldLead: with a lead (lead: TimeWait), the folded hit with the
// largest lead shows the finding, and the one it replaces is listed
// first among the folded; ties keep the earlier; the list stays bounded
// and the count whole.
func TestFoldLead(t *testing.T) {
	dest := func(i int) *group.Group {
		return &group.Group{Kind: "destination", Key: strconv.Itoa(i), Process: "app", PID: 7, OwnerKnown: true, RemotePort: 5432}
	}
	c := causes{fold: "program", lead: true}
	var hits []fired
	gs := make([]*group.Group, 5)
	for i, lead := range []float64{5, 9, 9, 3, 12} {
		gs[i] = dest(i)
		hits = c.add(hits, fired{g: gs[i], sev: Warning, lead: lead})
	}
	if len(hits) != 1 {
		t.Fatalf("%d hits, want 1", len(hits))
	}
	h := hits[0]
	want := []*group.Group{gs[1], gs[0], gs[2], gs[3]}
	if h.g != gs[4] || h.lead != 12 || h.alsoN != 4 || !slices.Equal(h.also, want) {
		t.Errorf("led by %s (lead %v), %d folded: %v", h.g.Key, h.lead, h.alsoN, keys(h.also))
	}
	// Past maxAlso: the list keeps its bound, the count all.
	c = causes{fold: "program", lead: true}
	hits = nil
	for i := 0; i < maxAlso+5; i++ {
		hits = c.add(hits, fired{g: dest(i), sev: Warning, lead: float64(i)})
	}
	h = hits[0]
	if h.g.Key != strconv.Itoa(maxAlso+4) || h.alsoN != maxAlso+4 || len(h.also) != maxAlso || h.also[0].Key != strconv.Itoa(maxAlso+3) {
		t.Errorf("led by %s, %d folded, %d listed, first %s", h.g.Key, h.alsoN, len(h.also), h.also[0].Key)
	}
	// Without a lead the first hit shows the finding.
	c = causes{fold: "program"}
	hits = nil
	for i, lead := range []float64{5, 9} {
		hits = c.add(hits, fired{g: gs[i], sev: Warning, lead: lead})
	}
	if hits[0].g != gs[0] {
		t.Errorf("without a lead, led by %s", hits[0].g.Key)
	}
}

func keys(gs []*group.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Key)
	}
	return out
}
