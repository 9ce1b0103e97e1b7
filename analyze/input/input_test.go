package input

import (
	"bytes"
	"errors"
	"strings"
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
		var passes [][]byte
		var ends int
		err := got.ChargeSteps(data, "x", func(half []byte) func([]byte) {
			passes = append(passes, half)
			return func(rest []byte) {
				if len(rest) == 0 {
					ends++
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
