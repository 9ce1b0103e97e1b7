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

// maxSeedBytes caps the fuzz seeds taken from testdata. The fuzzer
// minimizes every input that finds new coverage, at a cost that grows
// with the square of its length and for up to a minute: with seeds of
// 2-20 KiB, targets spent their whole run minimizing (tens of execs in
// 30 s). Small windows of the cases keep their variety.
const maxSeedBytes = 512

// seedWindows returns data as fuzz seeds of at most maxSeedBytes: itself
// when small, otherwise windows of whole lines from its start (the
// header and first rows), its middle and its end.
func seedWindows(data []byte) [][]byte {
	if len(data) <= maxSeedBytes {
		return [][]byte{data}
	}
	var seeds [][]byte
	for _, at := range []int{0, len(data) / 2, len(data) - maxSeedBytes} {
		if at > 0 { // start at a line
			i := bytes.IndexByte(data[at:], '\n')
			if i < 0 {
				continue
			}
			at += i + 1
		}
		w := data[at:min(len(data), at+maxSeedBytes)]
		if i := bytes.LastIndexByte(w, '\n'); i > 0 && at+len(w) < len(data) {
			w = w[:i+1] // end at a line
		}
		if len(w) > 0 {
			seeds = append(seeds, w)
		}
	}
	return seeds
}

// fuzzFormat is the body of every parser's fuzz target: seeds are the
// format's testdata cases (in windows: seedWindows) and its crafted
// inputs (craftedPieces); parsing and detection must never panic, every
// problem must name a line inside the input, and a format with Cut must
// parse the same in pieces as whole.
func fuzzFormat(f *testing.F, name string) {
	format := FormatByName(name)
	if format == nil || format.Parse == nil {
		f.Skip("no parser for " + name)
	}
	inputs, _ := filepath.Glob(filepath.Join("testdata", name, "*.txt"))
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			for _, seed := range seedWindows(data) {
				f.Add(seed)
			}
		}
	}
	for _, text := range craftedPieces[name] {
		f.Add([]byte(text))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(parse.HeadLines(data))
		var l model.Listing
		if err := format.Parse(bytes.NewReader(data), &l); err != nil {
			return
		}
		lines := parse.LineEnds(data) + 1
		for _, p := range l.Problems {
			if p.Line < 0 || p.Line > lines {
				t.Fatalf("problem %q names line %d of a %d-line input", p.Message, p.Line, lines)
			}
		}
		if format.Cut != nil {
			whole := l.String()
			for _, n := range []int{2, 3, 7} {
				if got := piecesString(t, format, data, n); got != whole {
					t.Fatalf("parsed in %d pieces:\n%s\nwhole:\n%s", n, got, whole)
				}
			}
		}
	})
}

// Line ends do not change a listing: every testdata case, with its lines
// ended by "\n", "\r\n" or a lone "\r" (old Mac OS, some copy-paste
// paths), is detected as the same format and parses to the same Listing.
// A CR-only listing used to be one long line: 0 sockets, no problem.
func TestLineEndsDoNotMatter(t *testing.T) {
	for _, f := range formats {
		if f.Parse == nil {
			continue
		}
		inputs, _ := filepath.Glob(filepath.Join("testdata", f.Name, "*.txt"))
		for _, in := range inputs {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			lf := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
			var want model.Listing
			wantErr := f.Parse(bytes.NewReader(lf), &want)
			wantBest, _ := Detect(parse.HeadLines(lf))
			for ends, text := range map[string][]byte{
				"crlf": bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")),
				"cr":   bytes.ReplaceAll(lf, []byte("\n"), []byte("\r")),
			} {
				var got model.Listing
				err := f.Parse(bytes.NewReader(text), &got)
				if (err != nil) != (wantErr != nil) || got.String() != want.String() {
					t.Errorf("%s with %s line ends: err %v, %d sockets, %d problems; with \\n: err %v, %d sockets, %d problems",
						in, ends, err, len(got.Sockets), len(got.Problems), wantErr, len(want.Sockets), len(want.Problems))
				}
				if best, _ := Detect(parse.HeadLines(text)); (best == nil) != (wantBest == nil) || best != nil && best.Format != wantBest.Format {
					t.Errorf("%s with %s line ends: detected as %v, with \\n as %v", in, ends, best, wantBest)
				}
			}
		}
	}
}
