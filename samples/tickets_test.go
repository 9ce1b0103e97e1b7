package samples_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// A ticket is one entry of tickets/index.yaml: a real public thread, the
// reporter's words byte for byte, and the diagnosis the thread reached.
type ticket struct {
	ID      string   `yaml:"id"`
	Source  string   `yaml:"source"`
	Site    string   `yaml:"site"`
	Title   string   `yaml:"title"`
	OS      string   `yaml:"os"`
	Shapes  []string `yaml:"shapes"`
	Cause   string   `yaml:"cause"`
	Expect  string   `yaml:"expect"` // a rule id, or "normal"
	Process string   `yaml:"process"`
	Notes   string   `yaml:"notes"`
}

// knownMisses are the corpus tickets tcpsnap does not diagnose yet, with
// what it lacks. The test fails when one of them starts to pass (take it
// off the list) and when any other ticket stops passing.
var knownMisses = map[string]string{}

// TestTickets runs every real ticket of the corpus through analyze as a
// reader sees it — the thread's title, a blank line, then the text (see
// asRead): the thread's diagnosis must be among the findings, and a
// thread that ended "this is normal" must get no warning or critical
// finding (an "insufficient data" report is quiet), even when its title
// claims a problem ("many TIME_WAIT connections").
func TestTickets(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("tickets", "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []ticket
	if err := yaml.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus) < 40 {
		t.Fatalf("the corpus has %d tickets, want at least 40", len(corpus))
	}
	rs := compileRules(t)
	seen := map[string]bool{}
	passed := 0
	for _, tk := range corpus {
		seen[tk.ID] = true
		if tk.Source == "" || tk.Cause == "" || tk.Expect == "" {
			t.Errorf("%s: source, cause and expect are required", tk.ID)
		}
		got, ok := diagnose(t, rs, tk)
		why, known := knownMisses[tk.ID]
		switch {
		case ok && known:
			t.Errorf("%s is diagnosed now (%s): take it off knownMisses", tk.ID, got)
		case ok:
			passed++
		case !known:
			t.Errorf("%s: want %s, got %s", tk.ID, tk.Expect, got)
		default:
			t.Logf("%s: known miss (%s): got %s", tk.ID, why, got)
		}
	}
	for id := range knownMisses {
		if !seen[id] {
			t.Errorf("knownMisses names %s, which is not in the corpus", id)
		}
	}
	files, _ := filepath.Glob(filepath.Join("tickets", "*.txt"))
	for _, f := range files {
		if id := strings.TrimSuffix(filepath.Base(f), ".txt"); !seen[id] {
			t.Errorf("%s has no entry in tickets/index.yaml", f)
		}
	}
	t.Logf("%d of %d tickets diagnosed as their threads concluded", passed, len(corpus))
}

// diagnose analyzes one ticket and reports whether the result matches
// its thread, with a summary of the findings.
func diagnose(t *testing.T, rs []*analyze.Rule, tk ticket) (string, bool) {
	t.Helper()
	path, err := asRead(t, tk)
	if err != nil {
		return "error: " + err.Error(), false
	}
	snap, err := analyze.Load([]string{path}, analyze.Options{})
	if err != nil {
		return "error: " + err.Error(), false
	}
	rep := analyze.Run(snap, rs)
	var got []string
	loud, hit := false, false
	for _, f := range rep.Findings {
		got = append(got, f.Rule+"/"+f.Severity)
		loud = loud || f.Severity == analyze.Warning || f.Severity == analyze.Critical
		if f.Rule == tk.Expect && (tk.Process == "" || f.Subject.Process == "" || sameProgram(f.Subject.Process, tk.Process)) {
			hit = true
		}
	}
	sort.Strings(got)
	desc := "[" + strings.Join(got, " ") + "]"
	if rep.Summary.Insufficient {
		desc += " (insufficient data)"
	}
	if tk.Expect == "normal" {
		return desc, !loud
	}
	return desc, hit
}

// asRead writes the ticket as a reader sees it: the thread's title (the
// reporter's words, read first), a blank line, then the text unchanged.
func asRead(t *testing.T, tk ticket) (string, error) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("tickets", tk.ID+".txt"))
	if err != nil {
		return "", err
	}
	path := filepath.Join(t.TempDir(), tk.ID+".txt")
	text := append([]byte(tk.Title+"\n\n"), body...)
	return path, os.WriteFile(path, text, 0o644)
}

// sameProgram compares program names as listings print them: lsof cuts
// them to nine characters, ps and ss to fifteen.
func sameProgram(listed, want string) bool {
	l, w := strings.ToLower(listed), strings.ToLower(want)
	return l == w || (len(l) >= 8 && strings.HasPrefix(w, l))
}
