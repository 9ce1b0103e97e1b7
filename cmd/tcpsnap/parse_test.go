package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const parseTicket = "Hi, here is the output:\n\n$ ss -tanp\nState  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
	"LISTEN 0      128    0.0.0.0:8443        0.0.0.0:*  users:((\"java\",pid=8166,fd=40))\n" +
	"CLOSE-WAIT 1  0      10.20.1.15:8443     10.20.7.31:51234 users:((\"java\",pid=8166,fd=311))\n\nThanks!\n"

func TestParseJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"parse", "-"}, strings.NewReader(parseTicket), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 records, got %d:\n%s", len(lines), stdout.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"state": "CLOSE_WAIT", "local": "10.20.1.15:8443", "remote": "10.20.7.31:51234",
		"recv_q": 1.0, "process": "java", "pid": 8166.0, "fd": 311.0, "uid": nil, "family": 4.0,
		"source": "<stdin>#segment-1"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	for _, col := range parseColumns {
		if _, ok := rec[col]; !ok {
			t.Errorf("record lacks %q", col)
		}
	}
}

func TestParseCSV(t *testing.T) {
	var stdout, stderr bytes.Buffer
	in := filepath.Join("..", "..", "analyze", "testdata", "tickets", "windows-ps-crlf.txt")
	code := run([]string{"parse", "--format", "csv", in}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(parseColumns, ",") {
		t.Errorf("header %v", rows[0])
	}
	if len(rows) != 8 {
		t.Fatalf("want header + 7 sockets, got %d rows", len(rows))
	}
	last := rows[len(rows)-1]
	if last[2] != "LISTEN" || last[4] == "" || !strings.HasSuffix(last[15], "#segment-1") {
		t.Errorf("last row %v", last)
	}
}

func TestParseUnrecognized(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"parse", "-"}, strings.NewReader("just some words\nand more words\n"), &stdout, &stderr)
	if code != exitError {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "not a listing tcpsnap recognizes") || !strings.Contains(stderr.String(), "score") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if code := run([]string{"parse", "--format", "xml", "-"}, strings.NewReader(""), &stdout, &stderr); code != exitUsage {
		t.Errorf("--format xml: exit %d", code)
	}
}

// parse on a bundle writes each socket once, as analyze counts it; every
// listing's rows only with --all-listings.
func TestParseBundleOnce(t *testing.T) {
	bundle := "../../samples/healthy"
	code, merged, errs := runCLI(t, "", "parse", bundle)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, all, errs := runCLI(t, "", "parse", "--all-listings", bundle)
	if code != exitOK {
		t.Fatalf("--all-listings: exit %d: %s", code, errs)
	}
	_, report, _ := runCLI(t, "", "analyze", "-f", "json", bundle)
	var rep struct {
		Snapshot struct{ Sockets int } `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(report), &rep); err != nil {
		t.Fatal(err)
	}
	lines := func(s string) int { return strings.Count(s, "\n") }
	if lines(merged) != rep.Snapshot.Sockets {
		t.Errorf("parse wrote %d sockets, analyze counts %d", lines(merged), rep.Snapshot.Sockets)
	}
	if lines(all) <= lines(merged) {
		t.Errorf("--all-listings wrote %d rows, not more than the merged %d", lines(all), lines(merged))
	}
}
