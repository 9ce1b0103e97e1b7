package collect

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lsA lists a folder's entries, hidden ones included.
func lsA(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestCollectCommandInterrupted runs the real tcpsnap binary collecting
// this host, signals it mid-way, and checks that it fails, says why, and
// leaves no bundle, no temporary bundle and no spool file behind.
func TestCollectCommandInterrupted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("collects this host: Linux only in tests")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build tcpsnap")
	}
	bin := filepath.Join(t.TempDir(), "tcpsnap")
	if out, err := exec.Command(goTool, "build", "-o", bin, "../cmd/tcpsnap").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir, spool := t.TempDir(), t.TempDir()
			out := filepath.Join(dir, "b.tar.gz")
			// 5 samples 3s apart: 12 s of collection, interrupted after
			// about half a second.
			cmd := exec.Command(bin, "collect", "-o", out, "--samples", "5", "--interval", "3s", "--timeout", "20s")
			cmd.Env = append(os.Environ(), "TMPDIR="+spool) // spool files go here
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.WaitDelay = time.Second // a leftover child must not hold Wait
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			// Mid-way: the collector has created its file in dir.
			deadline := time.Now().Add(30 * time.Second)
			for len(lsA(t, dir)) == 0 {
				select {
				case err := <-done:
					t.Fatalf("exited before writing anything: %v\n%s", err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatal("no file in the output folder after 30s")
				}
			}
			time.Sleep(500 * time.Millisecond)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			signalled := time.Now()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("still running 20s after %v", sig)
			}
			code := cmd.ProcessState.ExitCode()
			switch {
			case code == -1:
				t.Errorf("killed by the signal (%v): the interrupt was not handled", cmd.ProcessState)
			case code == 0:
				t.Errorf("exit 0 after %v: stdout %q", sig, stdout.String())
			}
			if took := time.Since(signalled); took > 5*time.Second {
				t.Errorf("took %v to stop", took)
			}
			if msg := stderr.String(); !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "no bundle written") {
				t.Errorf("stderr does not say it was interrupted and wrote nothing: %q", msg)
			}
			if left := lsA(t, dir); len(left) > 0 {
				t.Errorf("left in the output folder: %q", left)
			}
			if left := lsA(t, spool); len(left) > 0 {
				t.Errorf("left in TMPDIR: %q", left)
			}
		})
	}
}

// TestCollectInterruptedFails checks that Collect stops with an error that
// names the cause when its context is cancelled between samples or while a
// command runs, rather than finishing a partial bundle.
func TestCollectInterruptedFails(t *testing.T) {
	stop := errors.New("terminated signal received")
	t.Run("between samples", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		o := testOptions(fakeFS(), linuxRun(), nil)
		o.Samples = 3
		o.TempDir = t.TempDir()
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel(stop)
			return ctx.Err()
		}
		var buf bytes.Buffer
		o.Output = &buf
		_, err := Collect(ctx, o)
		if err == nil || !strings.Contains(err.Error(), "interrupted") || !errors.Is(err, stop) {
			t.Errorf("Collect: %v, want interrupted by %q", err, stop)
		}
		if left := lsA(t, o.TempDir); len(left) > 0 {
			t.Errorf("spool files left: %q", left)
		}
	})
	t.Run("during a command", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		r := linuxRun()
		o := testOptions(fakeFS(), r, nil)
		o.TempDir = t.TempDir()
		o.Run = func(cctx context.Context, stdout, stderr io.Writer, name string, args ...string) (int, error) {
			if name == "ss" {
				io.WriteString(stdout, "State Recv-Q\n") // a partial listing
				cancel(stop)
				<-cctx.Done()
				return -1, cctx.Err()
			}
			return r.run(cctx, stdout, stderr, name, args...)
		}
		var buf bytes.Buffer
		o.Output = &buf
		_, err := Collect(ctx, o)
		if err == nil || !errors.Is(err, stop) {
			t.Errorf("Collect: %v, want interrupted by %q", err, stop)
		}
		if n := countCalls(r, "netstat -antpo"); n > 0 {
			t.Errorf("went on to netstat after the interrupt")
		}
	})
}
