//go:build unix

package parse

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A registered mapping gives its pages back behind LineEnds and a
// scan, and reads the same after: the pages come back from the file.
func TestReleaseBehindMapping(t *testing.T) {
	// Runs of line ends across the steps (a run of '\r' past two steps
	// once made the count call itself forever) are only counted: scanned,
	// they are millions of lines.
	texts := append(bigTexts(), strings.Repeat("\r", 10<<20)+"a\r\nb", "x"+strings.Repeat("\r\n", 5<<20))
	for k, text := range texts {
		countOnly := k >= len(bigTexts())
		path := filepath.Join(t.TempDir(), "big.txt")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := syscall.Mmap(int(f.Fd()), 0, len(text), syscall.PROT_READ, syscall.MAP_SHARED)
		f.Close()
		if err != nil {
			t.Skip("no mmap here:", err)
		}
		RegisterMapped(b)
		if !Mapped(b[10:]) || Mapped([]byte(text)) {
			t.Error("Mapped is wrong about a mapping or the heap")
		}
		before := releasedCalls.Load()
		if got, want := LineEnds(b), lineEnds([]byte(text)); got != want {
			t.Errorf("LineEnds of the mapping %d, of the text %d", got, want)
		}
		if len(text) >= 2*releaseStep && releasedCalls.Load() == before {
			t.Errorf("%d bytes counted: no page given back", len(text))
		}
		if !countOnly {
			if got, want := scanAll(NewLineScanner(NewMemText(b))), scanAll(NewLineScanner(NewMemText([]byte(text)))); got != want {
				t.Error("a scan of the mapping differs from one of the text")
			}
		}
		if !bytes.Equal(b, []byte(text)) {
			t.Error("the mapping reads differently after its pages were given back")
		}
		UnregisterMapped(b)
		if Mapped(b) {
			t.Error("an unregistered mapping is still registered")
		}
		_ = syscall.Munmap(b)
	}
	// Heap memory is never given back, nor a mapping no longer registered.
	heap := []byte(strings.Repeat("y", 2*releaseStep))
	before := releasedCalls.Load()
	Release(heap)
	if b := NewBehind(heap); b.on {
		t.Error("a pass over heap memory would give pages back")
	}
	if releasedCalls.Load() != before || strings.Count(string(heap), "y") != len(heap) {
		t.Error("Release gave back heap memory")
	}
}
