package samples_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/collect"
)

// redactFolder writes a copy of the capture folder src into dst with
// every file passed through the collector's Redactor, as tcpsnap collect
// --redact would have written it.
func redactFolder(t *testing.T, src, dst string, red *collect.Redactor) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		if base := filepath.Base(p); strings.Contains(filepath.ToSlash(rel), "proc/net/") && (base == "tcp" || base == "tcp6") {
			return red.ProcNetTCP(f, in)
		}
		return red.Text(f, in)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRedactionKeepsDiagnosis redacts each shipped capture through the
// collector's Redactor and checks that the analyzer finds the same things
// (rules, severities, counts and other numeric evidence, ports); only
// names and addresses may differ.
func TestRedactionKeepsDiagnosis(t *testing.T) {
	rs := compileRules(t)
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			dst := t.TempDir()
			red := collect.NewRedactor("tcpsnap-" + name)
			redactFolder(t, name, dst, red)
			raw := analyzeInputs(t, rs, name)
			got := analyzeInputs(t, rs, dst)
			a, b := diagnosis(raw), diagnosis(got)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("redaction changed the diagnosis:\nraw:\n%s\nredacted:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			if !reflect.DeepEqual(raw.Summary, got.Summary) {
				t.Errorf("summary: raw %+v, redacted %+v", raw.Summary, got.Summary)
			}
			if len(a) == 0 && name != "healthy" {
				t.Errorf("no finding on %s", name)
			}
		})
	}
}

// TestRedactionKeepsDiagnosisPrivate does the same on the CLOSE_WAIT and
// port-exhaustion captures moved from loopback to private addresses
// (which the Redactor does rewrite): the findings must survive the new
// addresses too.
func TestRedactionKeepsDiagnosisPrivate(t *testing.T) {
	rs := compileRules(t)
	for _, name := range []string{"closewait-leak", "timewait-churn", "stalled-reader"} {
		t.Run(name, func(t *testing.T) {
			moved := t.TempDir()
			err := filepath.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				s := strings.ReplaceAll(string(data), "127.0.0.1", "192.168.40.7")
				s = strings.ReplaceAll(s, "0100007F", "0728A8C0") // /proc/net/tcp, little-endian
				rel, _ := filepath.Rel(name, p)
				out := filepath.Join(moved, rel)
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					return err
				}
				return os.WriteFile(out, []byte(s), 0o644)
			})
			if err != nil {
				t.Fatal(err)
			}
			dst := t.TempDir()
			redactFolder(t, moved, dst, collect.NewRedactor())
			if data, _ := os.ReadFile(filepath.Join(dst, "ss-tan.txt")); strings.Contains(string(data), "192.168.40.7") {
				t.Fatal("the Redactor kept the private address")
			}
			raw := analyzeInputs(t, rs, moved)
			got := analyzeInputs(t, rs, dst)
			a, b := diagnosis(raw), diagnosis(got)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("redaction changed the diagnosis:\nraw:\n%s\nredacted:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			if len(a) == 0 {
				t.Errorf("no finding on the moved %s capture", name)
			}
			t.Logf("diagnosis kept:\n%s", strings.Join(a, "\n"))
		})
	}
}
