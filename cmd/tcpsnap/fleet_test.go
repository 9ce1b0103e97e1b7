package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyDir copies a sample capture folder.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-r", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
}

// A rerun into the same --out reuses unchanged inputs and writes the same
// files; a changed input is analyzed again; --force redoes all; shards
// split the inputs.
func TestFleetIncrementalAndShards(t *testing.T) {
	if _, err := exec.LookPath("cp"); err != nil {
		t.Skip("needs cp")
	}
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	os.Mkdir(hosts, 0o755)
	for _, s := range []string{"closewait-leak", "healthy", "timewait-churn"} {
		copyDir(t, filepath.Join("../../samples", s), filepath.Join(hosts, s))
	}
	out := filepath.Join(dir, "out")
	read := func() map[string][]byte {
		m := map[string][]byte{}
		for _, f := range []string{"summary.json", "hosts.ndjson", "hosts.parquet", "findings.parquet", "fleet-index.ndjson"} {
			b, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = b
		}
		return m
	}
	args := []string{"fleet", "--progress", "--out", out, filepath.Join(hosts, "*")}
	if code, _, errs := runCLI(t, "", args...); code != exitOK {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	first := read()
	code, _, errs := runCLI(t, "", args...)
	if code != exitOK || !strings.Contains(errs, "3 hosts reused") {
		t.Fatalf("rerun: exit %d, want 3 hosts reused: %s", code, errs)
	}
	for name, b := range read() {
		if !bytes.Equal(b, first[name]) {
			t.Errorf("rerun changed %s", name)
		}
	}
	// A changed input is analyzed again.
	f := filepath.Join(hosts, "healthy", "scenario.txt")
	data, _ := os.ReadFile(f)
	os.WriteFile(f, append(data, "\nchanged\n"...), 0o644)
	if code, _, errs = runCLI(t, "", args...); code != exitOK || !strings.Contains(errs, "2 hosts reused from") || !strings.Contains(errs, ", 1 analyzed") {
		t.Errorf("after a change: exit %d, want 2 reused and 1 analyzed: %s", code, errs)
	}
	if code, _, errs = runCLI(t, "", append(args, "--force")...); code != exitOK || strings.Contains(errs, "reused") {
		t.Errorf("--force: exit %d, reused anyway: %s", code, errs)
	}
	// Shards: 1/2 and 2/2 together are the whole fleet, each host once.
	total := 0
	for _, sh := range []string{"1/2", "2/2"} {
		code, stdout, errs := runCLI(t, "", "fleet", "-f", "json", "--shard", sh, filepath.Join(hosts, "*"))
		if code == exitError && strings.Contains(errs, "no hosts") {
			continue // an empty shard
		}
		if code != exitOK {
			t.Fatalf("--shard %s: exit %d: %s", sh, code, errs)
		}
		var sum struct{ Hosts int }
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatal(err)
		}
		total += sum.Hosts
	}
	if total != 3 {
		t.Errorf("the shards hold %d hosts in all, want 3", total)
	}
	if code, _, errs := runCLI(t, "", "fleet", "--shard", "3/2", hosts); code != exitUsage {
		t.Errorf("--shard 3/2: exit %d, want a usage error: %s", code, errs)
	}
}
