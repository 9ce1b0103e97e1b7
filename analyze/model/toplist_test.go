package model

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// topListSorted is TopList as it was: the whole list sorted, then cut.
func topListSorted(entries map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range entries {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].v != list[j].v {
			return list[i].v > list[j].v
		}
		return list[i].k < list[j].k
	})
	if len(list) == 1 {
		return list[0].k
	}
	var parts []string
	for i, e := range list {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(list)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

func TestTopList(t *testing.T) {
	tests := []struct {
		in   map[string]int
		want string
	}{
		{nil, ""},
		{map[string]int{"a": 5}, "a"},
		{map[string]int{"b": 1, "a": 1}, "a (1), b (1)"},
		{map[string]int{"c": 1, "b": 2, "a": 3}, "a (3), b (2), c (1)"},
		{map[string]int{"d": 9, "c": 1, "b": 2, "a": 3}, "d (9), a (3), b (2), 1 more"},
		{map[string]int{"x": 1, "w": 1, "v": 1, "u": 1, "t": 1}, "t (1), u (1), v (1), 2 more"},
	}
	for _, tt := range tests {
		got := TopList(func(yield func(string, int)) {
			for k, v := range tt.in {
				yield(k, v)
			}
		})
		if got != tt.want {
			t.Errorf("TopList(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Any order of any counts gives what sorting the whole list gave.
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		in := map[string]int{}
		for range r.IntN(12) {
			in[fmt.Sprintf("p%d", r.IntN(20))] = 1 + r.IntN(4)
		}
		got := TopList(func(yield func(string, int)) {
			for k, v := range in {
				yield(k, v)
			}
		})
		if want := topListSorted(in); got != want {
			t.Fatalf("TopList(%v) = %q, want %q", in, got, want)
		}
	}
}
