package model

import (
	"math/rand/v2"
	"testing"
)

// TestIntTableMatchesMap runs the same random operations on an intTable
// and a Go map, over key sets dense, sparse and clustered.
func TestIntTableMatchesMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(r *rand.Rand) uint64
	}{
		{"dense", func(r *rand.Rand) uint64 { return r.Uint64N(300) }},
		{"sparse", func(r *rand.Rand) uint64 { return r.Uint64() >> 1 }},
		{"ports", func(r *rand.Rand) uint64 { return 0xc0000200<<16 | r.Uint64N(65536) }},
		{"zero", func(r *rand.Rand) uint64 { return r.Uint64N(2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var tab IntTable[int]
			want := map[uint64]int{}
			for i := 0; i < 50000; i++ {
				k := tc.key(r)
				if r.IntN(3) == 0 {
					got, ok := tab.get(k)
					w, wok := want[k]
					if got != w || ok != wok {
						t.Fatalf("get(%d) = %d, %v; map says %d, %v", k, got, ok, w, wok)
					}
					continue
				}
				*tab.At(k) += i
				want[k] += i
			}
			if tab.Len() != len(want) {
				t.Fatalf("len %d, map has %d", tab.Len(), len(want))
			}
			seen := 0
			tab.Each(func(k uint64, v int) {
				seen++
				if want[k] != v {
					t.Errorf("each: %d = %d, map says %d", k, v, want[k])
				}
			})
			if seen != len(want) {
				t.Fatalf("each visited %d of %d", seen, len(want))
			}
		})
	}
}

func TestIntTableEmpty(t *testing.T) {
	var tab IntTable[string]
	if v, ok := tab.get(7); ok || v != "" || tab.Len() != 0 {
		t.Fatalf("empty table: get = %q, %v, len %d", v, ok, tab.Len())
	}
	tab.Each(func(uint64, string) { t.Fatal("each on an empty table") })
}

func TestIntTableAtBounded(t *testing.T) {
	var tab IntTable[int]
	for k := uint64(0); k < 10; k++ {
		if p := tab.atBounded(k, 5); p != nil {
			*p++
		}
	}
	if tab.Len() != 5 {
		t.Fatalf("len %d, want the bound 5", tab.Len())
	}
	if p := tab.atBounded(3, 5); p == nil || *p != 1 {
		t.Fatalf("a key inside the bound is still counted: %v", p)
	}
	if p := tab.atBounded(7, 5); p != nil {
		t.Fatalf("a new key past the bound got a slot")
	}
	var m ApMap[int]
	six := MustParseAddrPort("[2001:db8::1]:80")
	*m.AtBounded(&six, 2)++
	a, b := MustParseAddrPort("192.0.2.1:80"), MustParseAddrPort("192.0.2.2:80")
	*m.AtBounded(&a, 2)++
	if p := m.AtBounded(&b, 2); p != nil || m.Len() != 2 {
		t.Fatalf("apMap past its bound: %v, len %d", p, m.Len())
	}
	if p := m.AtBounded(&six, 2); p == nil || *p != 1 {
		t.Fatalf("apMap: a known IPv6 key past the bound: %v", p)
	}
}

// Reserve grows a table once for what it will hold; Clear empties it
// and keeps its memory; neither loses or invents an entry.
func TestIntTableReserveClear(t *testing.T) {
	var tb IntTable[int]
	tb.Reserve(1000)
	size := len(tb.slots)
	for k := uint64(1); k <= 1000; k++ {
		*tb.At(k * 7919) += int(k)
	}
	if len(tb.slots) != size || tb.Len() != 1000 {
		t.Fatalf("after 1000 adds: %d slots (reserved %d), %d entries", len(tb.slots), size, tb.Len())
	}
	for k := uint64(1); k <= 1000; k++ {
		if v, ok := tb.Get(k * 7919); !ok || v != int(k) {
			t.Fatalf("key %d: %d %v", k*7919, v, ok)
		}
	}
	tb.Clear()
	if tb.Len() != 0 || len(tb.slots) != size {
		t.Fatalf("after Clear: %d entries, %d slots", tb.Len(), len(tb.slots))
	}
	if _, ok := tb.Get(7919); ok {
		t.Fatal("a cleared table still has a key")
	}
	*tb.At(5) = 1
	if v, _ := tb.Get(5); v != 1 || tb.Len() != 1 {
		t.Fatal("a cleared table does not take new keys")
	}
}
