package formats

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/internal/golden"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

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
				var l model.Listing
				if err := f.Parse(bytes.NewReader(data), &l); err != nil {
					t.Fatalf("parse %s: %v", in, err)
				}
				golden.Check(t, strings.TrimSuffix(in, ".txt")+".golden", []byte(l.String()))
				if strings.HasPrefix(name, "nodetect-") || f.Detect == nil {
					return
				}
				best, all := Detect(parse.HeadLines(data))
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
		Detect(parse.HeadLines(data))
		var l model.Listing
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
