package analyze

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./analyze -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update to accept):\n%s", golden, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

// TestFormatGoldens parses every testdata/<format>/<case>.txt with the
// format named by its folder and compares the Listing dump with
// <case>.golden. Each case also checks that Detect recognizes it (unless
// the case name starts with "nodetect-": fragments detection cannot see).
func TestFormatGoldens(t *testing.T) {
	for _, f := range formats {
		inputs, _ := filepath.Glob(filepath.Join("testdata", f.Name, "*.txt"))
		for _, in := range inputs {
			name := strings.TrimSuffix(filepath.Base(in), ".txt")
			t.Run(f.Name+"/"+name, func(t *testing.T) {
				data, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				if f.Parse == nil {
					t.Skip("format has no parser yet")
				}
				var l Listing
				if err := f.Parse(bytes.NewReader(data), &l); err != nil {
					t.Fatalf("parse %s: %v", in, err)
				}
				checkGolden(t, strings.TrimSuffix(in, ".txt")+".golden", []byte(l.String()))
				if strings.HasPrefix(name, "nodetect-") || f.Detect == nil {
					return
				}
				best, all := detect(headLines(data))
				if best == nil || best.Format != f {
					t.Errorf("detect(%s) = %v, want %s (scores %v)", in, best, f.Name, all)
				}
			})
		}
	}
}

// fuzzFormat is the body of every parser's fuzz target: seeds are the
// format's testdata cases; parsing and detection must never panic, and
// every problem must name a line inside the input.
func fuzzFormat(f *testing.F, name string) {
	format := FormatByName(name)
	if format == nil || format.Parse == nil {
		f.Skip("no parser for " + name)
	}
	inputs, _ := filepath.Glob(filepath.Join("testdata", name, "*.txt"))
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		detect(headLines(data))
		var l Listing
		if err := format.Parse(bytes.NewReader(data), &l); err != nil {
			return
		}
		lines := bytes.Count(data, []byte{'\n'}) + 1
		for _, p := range l.Problems {
			if p.Line < 0 || p.Line > lines {
				t.Fatalf("problem %q names line %d of a %d-line input", p.Message, p.Line, lines)
			}
		}
		whole := l.String()
		if format.Cut != nil {
			for _, n := range []int{2, 3, 7} {
				if got := piecesString(t, format, data, n); got != whole {
					t.Fatalf("parsed in %d pieces:\n%s\nwhole:\n%s", n, got, whole)
				}
			}
		}
	})
}
