package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestCollectCommand(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("collects this host: Linux only in tests")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "b.tar.gz")
	var stdout, stderr bytes.Buffer
	code := run([]string{"collect", "-o", out, "--samples", "1", "--interval", "0s", "--timeout", "20s"}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || lines[0] != out {
		t.Fatalf("stdout: %q", stdout.String())
	}
	if !regexp.MustCompile(`: 1 samples in [0-9.]+s; last sample: \d+ sockets`).MatchString(lines[1]) {
		t.Errorf("summary: %q", lines[1])
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Fatalf("bundle: %v", err)
	}
	// An existing file is never overwritten.
	if code := run([]string{"collect", "-o", out, "--samples", "1"}, nil, &stdout, &stderr); code != exitError {
		t.Errorf("overwrite: exit %d", code)
	}
}

func TestCollectDefaultName(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("collects this host: Linux only in tests")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"collect", "--samples", "1", "--redact"}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	name := strings.SplitN(stdout.String(), "\n", 2)[0]
	if !regexp.MustCompile(`^tcpsnap-redacted-host-\d{8}T\d{6}Z\.tar\.gz$`).MatchString(name) {
		t.Errorf("name %q", name)
	}
}

func TestCollectUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"collect", "--samples", "0"}, nil, &stdout, &stderr); code != exitUsage {
		t.Errorf("--samples 0: exit %d", code)
	}
}

func TestAnalyzeLive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("collects this host: Linux only in tests")
	}
	keep := filepath.Join(t.TempDir(), "live.tar.gz")
	var stdout, stderr bytes.Buffer
	code := run([]string{"analyze", "--live", "--samples", "1", "--interval", "0s", "--keep", keep, "-f", "json", "--fail-on", "never"}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"schema": "tcpsnap.report/v1"`) {
		t.Errorf("no JSON report: %.300s", stdout.String())
	}
	if !strings.Contains(stderr.String(), keep) {
		t.Errorf("stderr does not name the kept bundle: %q", stderr.String())
	}
	if fi, err := os.Stat(keep); err != nil || fi.Size() == 0 {
		t.Fatalf("kept bundle: %v", err)
	}
	// The kept bundle analyzes like any other.
	stdout.Reset()
	if code := run([]string{"analyze", "--fail-on", "never", keep}, nil, &stdout, &stderr); code != exitOK {
		t.Errorf("analyze kept bundle: exit %d: %s", code, stderr.String())
	}
	// --keep never overwrites.
	if code := run([]string{"analyze", "--live", "--samples", "1", "--keep", keep}, nil, &stdout, &stderr); code != exitError {
		t.Errorf("--keep over an existing file: exit %d", code)
	}
}

func TestAnalyzeLiveUsage(t *testing.T) {
	for _, args := range [][]string{
		{"analyze"},
		{"analyze", "--live", "x.txt"},
		{"analyze", "--keep", "k.tgz", "x.txt"},
		{"analyze", "--live", "--samples", "0"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, stderr.String())
		}
	}
}
