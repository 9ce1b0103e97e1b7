package input

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A mapped file reads like the file; Bytes gives the rest without a copy.
func TestMappedReadsTheFile(t *testing.T) {
	want := bytes.Repeat([]byte("ESTAB 0 0 10.0.0.1:443 192.0.2.1:40000\n"), mapMinBytes/39+10)
	path := filepath.Join(t.TempDir(), "ss.txt")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	var got []byte
	mapped := false
	err := WalkInput(path, nil, DefaultLimits, func(f File) error {
		if m, ok := f.R.(*Mapped); ok {
			mapped = true
			if m.Len() != len(want) || !bytes.Equal(m.Bytes(), want) {
				t.Errorf("Bytes: %d bytes, want %d", m.Len(), len(want))
			}
		}
		var buf bytes.Buffer
		_, err := buf.ReadFrom(f.R)
		got = buf.Bytes()
		return err
	}, func(string, string) {})
	if err != nil {
		t.Fatal(err)
	}
	if !mapped && runtime.GOOS != "windows" {
		t.Errorf("a %d-byte file was read, not mapped", len(want))
	}
	if !bytes.Equal(got, want) {
		t.Errorf("read %d bytes, want %d", len(got), len(want))
	}
}

// A mapped file truncated while it is read is an error, not a crash.
func TestMappedTruncatedIsAnError(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIGBUS on a truncated mapping: tested on Linux")
	}
	path := filepath.Join(t.TempDir(), "ss.txt")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x\n"), mapMinBytes), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WalkInput(path, nil, DefaultLimits, func(f File) error {
		m := f.R.(*Mapped)
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, c := range m.Bytes() { // the pages are gone: a fault
			sum += int(c)
		}
		t.Errorf("read %d after truncation without a fault", sum)
		return nil
	}, func(string, string) {})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
}

// countNewlines counts a big text in two halves: a newline on either side
// of the middle, or at its very ends, counts once.
func TestCountNewlinesHalves(t *testing.T) {
	for _, size := range []int{0, 1, 100, 8<<20 - 1, 8 << 20, 8<<20 + 1, 9<<20 + 7} {
		p := make([]byte, size)
		want := 0
		for _, at := range []int{0, size/2 - 1, size / 2, size/2 + 1, size - 1, size / 3} {
			if at >= 0 && at < size && p[at] != '\n' {
				p[at] = '\n'
				want++
			}
		}
		if got := countNewlines(p); got != want {
			t.Errorf("size %d: %d newlines, want %d", size, got, want)
		}
	}
}
