package collect

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCollectFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.tar.gz")
	o := testOptions(fakeFS(), linuxRun(), nil)
	o.TempDir = t.TempDir()
	m, err := CollectFile(context.Background(), out, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Samples) != 2 {
		t.Errorf("%d samples", len(m.Samples))
	}
	if left := lsA(t, dir); !slices.Equal(left, []string{"b.tar.gz"}) {
		t.Errorf("output folder holds %q, want the bundle alone", left)
	}
	if left := lsA(t, o.TempDir); len(left) > 0 {
		t.Errorf("spool files left: %q", left)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if files := readTarGz(t, data); files[ManifestPath] == "" {
		t.Errorf("no manifest in %q", keys(files))
	}
	if fi, _ := os.Stat(out); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	// A relative name lands in the current folder.
	t.Chdir(dir)
	if _, err := CollectFile(context.Background(), "c.tar.gz", o); err != nil {
		t.Fatal(err)
	}
	if left := lsA(t, dir); !slices.Equal(left, []string{"b.tar.gz", "c.tar.gz"}) {
		t.Errorf("output folder holds %q", left)
	}
}

// TestCollectFileInterrupted cancels the collection between samples: the
// error names the cause and nothing is left.
func TestCollectFileInterrupted(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.tar.gz")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	o := testOptions(fakeFS(), linuxRun(), nil)
	o.TempDir = t.TempDir()
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		if len(lsA(t, dir)) != 1 {
			t.Errorf("mid-way the output folder holds %q, want the temporary file alone", lsA(t, dir))
		}
		cancel(errors.New("hangup signal received"))
		return ctx.Err()
	}
	_, err := CollectFile(ctx, out, o)
	if err == nil || err.Error() != "collect: interrupted: hangup signal received" {
		t.Errorf("CollectFile: %v", err)
	}
	if left := lsA(t, dir); len(left) > 0 {
		t.Errorf("left in the output folder: %q", left)
	}
	if left := lsA(t, o.TempDir); len(left) > 0 {
		t.Errorf("spool files left: %q", left)
	}
}

// TestCollectFileErrorLeavesNothing fails the collection mid-way (its
// spool folder is missing): nothing is left at the output.
func TestCollectFileErrorLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(fakeFS(), linuxRun(), nil)
	o.TempDir = filepath.Join(t.TempDir(), "missing")
	if _, err := CollectFile(context.Background(), filepath.Join(dir, "b.tar.gz"), o); err == nil {
		t.Fatal("no error")
	}
	if left := lsA(t, dir); len(left) > 0 {
		t.Errorf("left in the output folder: %q", left)
	}
	// An output folder that does not exist fails before collecting.
	r := linuxRun()
	o = testOptions(fakeFS(), r, nil)
	if _, err := CollectFile(context.Background(), filepath.Join(dir, "no", "b.tar.gz"), o); err == nil {
		t.Error("no error for a missing folder")
	}
	if len(r.calls) > 0 {
		t.Errorf("collected before failing: %q", r.calls)
	}
}

// TestCollectFileNeverReplaces: a file at the output, there before or
// created during the collection, is kept and the collection fails.
func TestCollectFileNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.tar.gz")
	os.WriteFile(out, []byte("mine"), 0o600)
	r := linuxRun()
	o := testOptions(fakeFS(), r, nil)
	o.TempDir = t.TempDir()
	if _, err := CollectFile(context.Background(), out, o); !errors.Is(err, fs.ErrExist) {
		t.Errorf("existing output: %v", err)
	}
	if len(r.calls) > 0 {
		t.Errorf("collected before failing: %q", r.calls)
	}
	os.Remove(out)

	o.Run = func(ctx context.Context, stdout, stderr io.Writer, name string, args ...string) (int, error) {
		if _, err := os.Stat(out); err != nil {
			os.WriteFile(out, []byte("theirs"), 0o600) // someone else's file appears
		}
		return r.run(ctx, stdout, stderr, name, args...)
	}
	_, err := CollectFile(context.Background(), out, o)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("output created meanwhile: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "theirs" {
		t.Errorf("the file created meanwhile was replaced: %.20q", b)
	}
	if left := lsA(t, dir); !slices.Equal(left, []string{"b.tar.gz"}) {
		t.Errorf("output folder holds %q", left)
	}
	if !strings.Contains(err.Error(), out) {
		t.Errorf("error does not name the file: %v", err)
	}
}
