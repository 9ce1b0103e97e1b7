package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The acceptance check of tcpsnap diff: a fix verified exits 0 and says
// what was resolved; the same diff reversed is a regression and exits 1.
func TestDiffAcceptance(t *testing.T) {
	healthy := "../../samples/healthy"
	code, out, errs := runCLI(t, "", "diff", sample, healthy)
	if code != exitOK {
		t.Fatalf("diff closewait-leak healthy: exit %d, want 0\n%s%s", code, out, errs)
	}
	resolved, _, _ := strings.Cut(out, "Moved most")
	if !strings.Contains(resolved, "Resolved (2)") || !strings.Contains(resolved, "rule: close-wait-leak") || strings.Contains(resolved, "New (") {
		t.Errorf("close-wait-leak not reported resolved:\n%s", out)
	}
	code, out, errs = runCLI(t, "", "diff", healthy, sample)
	if code != exitFindings {
		t.Fatalf("diff healthy closewait-leak: exit %d, want 1\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "New (2)") || !strings.Contains(out, "rule: close-wait-leak") || strings.Contains(out, "Resolved (") {
		t.Errorf("close-wait-leak not reported new:\n%s", out)
	}
}

// TestDiffGoldens runs the command from the repository root and compares
// its output with the goldens of analyze/report (go test
// ./analyze/report -update rewrites them).
func TestDiffGoldens(t *testing.T) {
	goldens, err := filepath.Abs("../../analyze/report/testdata/diff")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("../..")
	for _, pair := range [][2]string{{"closewait-leak", "healthy"}, {"healthy", "closewait-leak"}} {
		for _, f := range []struct{ flag, ext string }{{"text", "txt"}, {"markdown", "md"}, {"json", "json"}} {
			name := pair[0] + "_" + pair[1] + "." + f.ext
			t.Run(name, func(t *testing.T) {
				_, out, errs := runCLI(t, "", "diff", "-f", f.flag, "--fail-on", "never", "samples/"+pair[0], "samples/"+pair[1])
				want, err := os.ReadFile(filepath.Join(goldens, name))
				if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Errorf("tcpsnap diff -f %s differs from %s (stderr %q)", f.flag, name, errs)
				}
			})
		}
	}
}

func TestDiffExitCodes(t *testing.T) {
	healthy := "../../samples/healthy"
	twoSamples := "../../samples/closewait-two-samples"
	badRules := t.TempDir()
	if err := os.WriteFile(filepath.Join(badRules, "bad.yaml"), []byte("id: bad\nfor: process\nseverity:\n  critical: NoSuchField > 1\ntitle: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []cliCase{
		{"fixed", []string{"diff", sample, healthy}, exitOK, "Resolved (2)"},
		{"regression", []string{"diff", healthy, sample}, exitFindings, "New (2)"},
		{"regression, fail-on never", []string{"diff", "--fail-on", "never", healthy, sample}, exitOK, "New (2)"},
		{"regression, fail-on warning", []string{"diff", "--fail-on", "warning", healthy, sample}, exitFindings, "New (2)"},
		{"after holds too little to judge", []string{"diff", sample, sample + "/sysctl.txt"}, exitNoData, "too little to judge"},
		{"regression beats too little to judge", []string{"diff", sample + "/sysctl.txt", sample}, exitFindings, "too little to judge"},
		{"no change", []string{"diff", sample, sample}, exitOK, "0 resolved, 0 new, 0 changed, 2 unchanged"},
		{"numbers moved, nothing new or worse", []string{"diff", twoSamples, sample}, exitOK, "Changed (2)"},
		{"missing input", []string{"diff", sample, "no/such/file"}, exitError, "after: "},
		{"bad rules", []string{"diff", "--rules", badRules, sample, healthy}, exitError, "bad.yaml"},
		{"both stdin", []string{"diff", "-", "-"}, exitUsage, "only one of BEFORE and AFTER"},
		{"one input", []string{"diff", sample}, exitUsage, "after"},
		{"bad format", []string{"diff", "-f", "html", sample, healthy}, exitUsage, "html"},
		{"bad fail-on", []string{"diff", "--fail-on", "sometimes", sample, healthy}, exitUsage, "sometimes"},
		{"force without -o", []string{"diff", "--force", sample, healthy}, exitUsage, "--force needs -o"},
	}
	runCLICases(t, tests)
}

func TestDiffStdinAndOutput(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sample, "ss-tanpoeim.txt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "diff.json")
	code, out, errs := runCLI(t, string(data), "diff", "-f", "json", "-o", path, "-", "../../samples/healthy")
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errs)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Schema string
		Before struct {
			Input   string
			Sockets int
		}
		States   map[string]struct{ Before, After, Change int }
		Findings map[string][]json.RawMessage
		Moved    map[string][]struct {
			Name                  string
			Before, After, Change int
		}
	}
	if err := json.Unmarshal(written, &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, written)
	}
	if d.Schema != "tcpsnap.diff/v1" || d.Before.Input != "-" || d.Before.Sockets != 801 {
		t.Errorf("schema %q, before %+v", d.Schema, d.Before)
	}
	if c := d.States["CLOSE_WAIT"]; c.Before != 400 || c.After != 0 || c.Change != -400 {
		t.Errorf("CLOSE_WAIT %+v", c)
	}
	if len(d.Findings["resolved"]) == 0 || d.Findings["new"] == nil || d.Findings["changed"] == nil {
		t.Errorf("findings %v", d.Findings)
	}
	if p := d.Moved["processes"]; len(p) == 0 || p[0].Name != "leaky-server" || p[0].Change != -401 {
		t.Errorf("moved processes %+v", p)
	}
	for _, k := range []string{`"new": []`, `"changed": []`, `"unchanged": []`} {
		if !strings.Contains(string(written), k) {
			t.Errorf("JSON lacks %s", k)
		}
	}

	// An existing file is kept unless --force.
	code, _, errs = runCLI(t, "", "diff", "-o", path, sample, "../../samples/healthy")
	if code != exitError || !strings.Contains(errs, "--force") {
		t.Errorf("overwrite without --force: exit %d, stderr %s", code, errs)
	}
	if again, _ := os.ReadFile(path); string(again) != string(written) {
		t.Errorf("file changed without --force")
	}
	code, _, errs = runCLI(t, "", "diff", "-o", path, "--force", sample, "../../samples/healthy")
	if again, _ := os.ReadFile(path); code != exitOK || !strings.HasPrefix(string(again), "tcpsnap diff") {
		t.Errorf("--force: exit %d, stderr %s, file %.40q", code, errs, again)
	}
}
