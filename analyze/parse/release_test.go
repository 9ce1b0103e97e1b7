//go:build unix

package parse

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A registered mapping gives its pages back behind LineEnds and a
// scan, and reads the same after: the pages come back from the file.
func TestReleaseBehindMapping(t *testing.T) {
	for _, text := range bigTexts() {
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
		if got, want := LineEnds(b), LineEnds([]byte(text)); got != want {
			t.Errorf("LineEnds of the mapping %d, of the text %d", got, want)
		}
		if got, want := scanAll(NewLineScanner(NewMemText(b))), scanAll(NewLineScanner(NewMemText([]byte(text)))); got != want {
			t.Error("a scan of the mapping differs from one of the text")
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
	// Heap memory is never given back.
	heap := []byte(bigTexts()[0])
	Release(heap)
	if string(heap) != bigTexts()[0] {
		t.Error("Release changed heap memory")
	}
}
