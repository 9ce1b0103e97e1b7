package report_test

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/analyze/internal/golden"
	"github.com/tcpsnap/tcpsnap/rules"
)

// TestDiffGolden renders `tcpsnap diff` of two samples, both ways, in
// every format, against testdata/diff/<before>_<after>.<format>; the
// command's own test (cmd/tcpsnap) checks that it prints the same bytes.
// Inputs are named from the repository root, as in the README.
func TestDiffGolden(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "diff"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join("..", ".."))
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := analyze.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	side := func(name string) analyze.DiffInput {
		in := "samples/" + name
		snap, err := analyze.Load([]string{in}, analyze.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return analyze.DiffInput{Input: in, Snapshot: snap, Report: analyze.Run(snap, rs)}
	}
	formats := []struct {
		ext   string
		write func(io.Writer, *analyze.Diff) error
	}{{"txt", analyze.WriteDiffText}, {"md", analyze.WriteDiffMarkdown}, {"json", analyze.WriteDiffJSON}}
	for _, pair := range [][2]string{{"closewait-leak", "healthy"}, {"healthy", "closewait-leak"}} {
		d := analyze.Compare(side(pair[0]), side(pair[1]))
		for _, f := range formats {
			t.Run(pair[0]+"_"+pair[1]+"."+f.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.write(&b, d); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join(dir, pair[0]+"_"+pair[1]+"."+f.ext), b.Bytes())
				if f.ext != "txt" {
					return
				}
				for i, line := range strings.Split(b.String(), "\n") {
					if n := utf8.RuneCountInString(line); n > 80 {
						t.Errorf("line %d is %d columns wide: %s", i+1, n, line)
					}
				}
			})
		}
	}
}
