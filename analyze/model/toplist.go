package model

import (
	"fmt"
	"strings"
)

// TopList renders up to three "name (count)" entries, most first, ties by
// name; a single entry is shown without its count. It keeps the best
// three as they come, not a sorted list of all: the snapshot of a
// million processes has a million owners.
func TopList(each func(func(string, int))) string {
	type kv struct {
		k string
		v int
	}
	before := func(a, b kv) bool { return a.v > b.v || a.v == b.v && a.k < b.k }
	var top [3]kv
	seen := 0
	each(func(k string, v int) {
		e := kv{k, v}
		m := min(seen, len(top))
		seen++
		if m == len(top) && !before(e, top[m-1]) {
			return
		}
		if m == len(top) {
			m-- // the last falls out
		}
		for m > 0 && before(e, top[m-1]) {
			top[m] = top[m-1]
			m--
		}
		top[m] = e
	})
	if seen == 1 {
		return top[0].k
	}
	var parts []string
	for i, e := range top[:min(seen, len(top))] {
		parts = append(parts, fmt.Sprintf("%s (%d)", e.k, e.v))
		if i == len(top)-1 && seen > len(top) {
			parts = append(parts, fmt.Sprintf("%d more", seen-len(top)))
		}
	}
	return strings.Join(parts, ", ")
}
