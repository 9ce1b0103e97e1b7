package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNestedArchiveNamed: an archive inside a bundle is not opened, and
// the report (or the error, when nothing else is usable) names it.
func TestNestedArchiveNamed(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(filepath.Join(in, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "inner", "x.txt"), []byte("hello\n"), 0o644)
	if err := tarGz(filepath.Join(in, "logs.tar.gz"), filepath.Join(in, "inner"), "inner"); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(in, "inner"))
	only := filepath.Join(dir, "only.tgz")
	if err := tarGz(only, in, "bundle"); err != nil {
		t.Fatal(err)
	}
	_, err := Load([]string{only}, Options{})
	if err == nil || !strings.Contains(err.Error(), "logs.tar.gz") || !strings.Contains(err.Error(), "archive inside the archive") {
		t.Errorf("error %v does not name the nested archive", err)
	}
	ss, _ := os.ReadFile(filepath.Join("..", "samples", "closewait-leak", "ss-tan.txt"))
	os.WriteFile(filepath.Join(in, "ss-tan.txt"), ss, 0o644)
	with := filepath.Join(dir, "with.tgz")
	if err := tarGz(with, in, "bundle"); err != nil {
		t.Fatal(err)
	}
	snap, err := Load([]string{with}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range snap.Problems {
		found = found || strings.Contains(p.Path, "logs.tar.gz") && strings.Contains(p.Message, "archive inside")
	}
	if !found {
		t.Errorf("no problem names the nested archive: %v", snap.Problems)
	}
}
