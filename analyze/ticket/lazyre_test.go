package ticket

import (
	"regexp"
	"testing"
)

// TestLazyRegexpsCompile compiles every lazily compiled expression of
// the package, so that a bad pattern fails here and not at its first use
// on some ticket.
func TestLazyRegexpsCompile(t *testing.T) {
	if len(allLazy) < 100 {
		t.Fatalf("only %d lazy expressions registered; the package holds over a hundred", len(allLazy))
	}
	for _, l := range allLazy {
		if _, err := regexp.Compile(l.pattern); err != nil {
			t.Errorf("%s: %v", l.pattern, err)
		}
	}
}
