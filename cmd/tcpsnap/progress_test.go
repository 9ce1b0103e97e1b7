package main

import (
	"bytes"
	"testing"
	"time"
)

// Off a terminal progress prints nothing, however long the work.
func TestProgressSilentOffTerminal(t *testing.T) {
	var b bytes.Buffer
	p := startProgress(&b, "reading")
	p.Phase("running the rules")
	time.Sleep(10 * time.Millisecond)
	p.End()
	p.End() // twice is fine
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a buffer", b.String())
	}
}
