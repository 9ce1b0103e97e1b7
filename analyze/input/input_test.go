package input

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestChargeSteps: counted in two halves, each in steps, a mapping is
// charged the lines Charge charges it (lone '\r' line ends when it has
// no '\n'), each half's pass (of a half with bytes) reaches its end, and
// the budget still stops it.
func TestChargeSteps(t *testing.T) {
	row := "ESTAB 0 0 10.0.0.1:8443 10.0.0.2:40000\n"
	for _, data := range [][]byte{
		nil, []byte("x"), []byte(row), bytes.Repeat([]byte(row), 300_000), // 12 MB: steps
		bytes.Repeat([]byte("a\rb\r"), 3_000_000), bytes.Repeat([]byte("a\r\n"), 100_001),
	} {
		want, got := NewLineBudget(1<<40), NewLineBudget(1<<40)
		if err := want.Charge(data, "x"); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex // the halves are counted at once
		var passes [][]byte
		var ends int
		err := got.ChargeSteps(data, "x", func(half []byte) func([]byte) {
			mu.Lock()
			passes = append(passes, half)
			mu.Unlock()
			return func(rest []byte) {
				if len(rest) == 0 {
					mu.Lock()
					ends++
					mu.Unlock()
				}
			}
		})
		if err != nil || got.left != want.left {
			t.Errorf("%d bytes: charged %d lines (%v), Charge charges %d", len(data), got.max-got.left, err, want.max-want.left)
		}
		nonEmpty := 0
		for _, h := range passes {
			if len(h) > 0 {
				nonEmpty++
			}
		}
		if len(passes) != 2 || len(passes[0])+len(passes[1]) != len(data) || ends != nonEmpty {
			t.Errorf("%d bytes: %d passes, %d reached their end", len(data), len(passes), ends)
		}
	}
	b := NewLineBudget(100)
	if err := b.ChargeSteps(bytes.Repeat([]byte(row), 101), "big.txt", func([]byte) func([]byte) { return func([]byte) {} }); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "big.txt") {
		t.Errorf("over the budget: %v", err)
	}
}

// TestCountTruncatedMapping: a mapped file cut short while its lines are
// counted in two halves — by ChargeSteps, or by Charge past 8 MB — is
// ErrChanged, as every other read of a cut mapping, not a crash in the
// goroutine counting the second half. (Contributed by a review.)
func TestCountTruncatedMapping(t *testing.T) {
	const size = 16 << 20
	for _, cut := range []int{0, size / 2, size * 3 / 4} { // both halves gone; the second only; part of it
		for _, how := range []string{"ChargeSteps", "Charge"} {
			path := filepath.Join(t.TempDir(), "ss.txt")
			if err := os.WriteFile(path, bytes.Repeat([]byte("x\n"), size/2), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			b, unmap, err := mapFile(f, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, int64(cut)); err != nil {
				t.Fatal(err)
			}
			err = Guarded(path, b, func() error {
				if how == "Charge" {
					return NewLineBudget(1<<40).Charge(b, path)
				}
				return NewLineBudget(1<<40).ChargeSteps(b, path, func([]byte) func([]byte) { return func([]byte) {} })
			})
			unmap()
			f.Close()
			if !errors.Is(err, ErrChanged) {
				t.Errorf("%s, cut at %d: %v, want ErrChanged", how, cut, err)
			}
		}
	}
}
