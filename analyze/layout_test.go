package analyze

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// rooms lists, for each package under analyze, the tcpsnap packages its
// non-test files may import: imports point down the pipeline, toward the
// model, never back up (docs/architecture.md).
var rooms = map[string][]string{
	"model":           {},
	"input":           {},
	"internal/golden": {},
	"parse":           {"model"},
	"formats/linux":   {"model", "parse"},
	"formats/unix":    {"model", "parse"},
	"formats/windows": {"model", "parse"},
	"formats":         {"model", "parse", "formats/linux", "formats/unix", "formats/windows"},
	"ticket":          {"model", "parse", "formats", "formats/linux", "formats/unix", "formats/windows"},
	"group":           {"model"},
	"engine":          {"model", "group", "/rules"},
	"report":          {"model", "group", "engine"},
	"fleet":           {"model", "engine"},
}

const module = "github.com/tcpsnap/tcpsnap/"

// TestRoomsImportDownward checks every package's imports against rooms,
// that every package is listed, and that none outgrows about 4,000 lines.
func TestRoomsImportDownward(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == "." {
			return err
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		files, _ := filepath.Glob(filepath.Join(p, "*.go"))
		lines := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			lines += bytes.Count(src, []byte{'\n'})
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				return err
			}
			room := filepath.ToSlash(p)
			allowed, ok := rooms[room]
			if !ok {
				t.Errorf("%s: package not listed in rooms (layout_test.go) nor in docs/architecture.md", room)
				continue
			}
			seen[room] = true
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rest, ok := strings.CutPrefix(path, module)
				if !ok {
					continue
				}
				want := strings.TrimPrefix(rest, "analyze/")
				if want == rest {
					want = "/" + rest // outside analyze
				}
				found := false
				for _, a := range allowed {
					found = found || a == want
				}
				if !found {
					t.Errorf("%s imports %s: not allowed for room %s", f, path, room)
				}
			}
		}
		if lines > 4200 {
			t.Errorf("%s holds %d lines of non-test Go: split it", p, lines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for r := range rooms {
		if !seen[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("rooms without a package: %v", missing)
	}
}
