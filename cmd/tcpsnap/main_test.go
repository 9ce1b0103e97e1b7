package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// runCLI runs the command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const sample = "../../samples/closewait-leak"

// A cliCase is a command line, the exit code it must give and a text its
// output (stdout or stderr) must hold.
type cliCase struct {
	name string
	args []string
	code int
	want string
}

// runCLICases runs each case as a subtest.
func runCLICases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			if !strings.Contains(out+errs, tt.want) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tt.want, out, errs)
			}
		})
	}
}

func TestAnalyzeExitCodes(t *testing.T) {
	healthy := "../../samples/healthy"
	tests := []cliCase{
		{"critical finding fails by default", []string{"analyze", sample}, exitFindings, "[CRITICAL] leaky-server (pid 25239) holds 400 CLOSE_WAIT"},
		{"fail-on never", []string{"analyze", "--fail-on", "never", sample}, exitOK, "close-wait-leak"},
		{"healthy host", []string{"analyze", healthy}, exitOK, "TCP sockets"},
		{"healthy host, fail on warning", []string{"analyze", "--fail-on", "warning", healthy}, exitOK, "States"},
		{"missing input", []string{"analyze", "no/such/file"}, exitError, "no/such/file"},
		{"bad format flag", []string{"analyze", "-f", "yaml", sample}, exitUsage, "yaml"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "frobnicate"},
		{"unknown input format", []string{"analyze", "--input-format", "nope", sample}, exitError, "unknown input format"},
		{"version", []string{"--version"}, exitOK, "tcpsnap "},
	}
	runCLICases(t, tests)
}

func TestAnalyzeJSONFromStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sample, "ss-tanpoeim.txt"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, string(data), "analyze", "-f", "json", "-")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Schema   string `json:"schema"`
		Snapshot struct {
			Sources []struct{ Path, Format string }
			Sockets int
		}
		Summary  struct{ States map[string]int }
		Findings []struct {
			Rule, Severity, Title string
			Subject               struct {
				Process string
				PID     int
			}
			Evidence map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Schema != "tcpsnap.report/v1" || rep.Snapshot.Sockets != 801 || rep.Summary.States["CLOSE_WAIT"] != 400 {
		t.Errorf("schema %q sockets %d states %v", rep.Schema, rep.Snapshot.Sockets, rep.Summary.States)
	}
	if len(rep.Snapshot.Sources) != 1 || rep.Snapshot.Sources[0].Path != "<stdin>" || rep.Snapshot.Sources[0].Format != "ss" {
		t.Errorf("sources %+v", rep.Snapshot.Sources)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].Rule != "close-wait-leak" || rep.Findings[0].Subject.PID != 25239 ||
		rep.Findings[0].Evidence["close_wait"] != float64(400) {
		t.Errorf("first finding %+v", rep.Findings)
	}
}

func TestAnalyzeProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "socks.pb.gz")
	if code, _, errs := runCLI(t, "", "analyze", "--fail-on", "never", "--profile", path, sample); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range p.Sample {
		total += s.Value[0]
	}
	if total != 801 || p.SampleType[0].Type != "sockets" {
		t.Errorf("profile counts %d sockets of type %s, want 801 sockets", total, p.SampleType[0].Type)
	}
	if !strings.Contains(p.String(), "proc leaky-server (pid 25239)") {
		t.Errorf("profile lacks the owner frame:\n%s", p.String())
	}
}

func TestUserRules(t *testing.T) {
	dir := t.TempDir()
	rule := `id: many-close-wait
name: Any CLOSE_WAIT at all
for: snapshot
severity:
  warning: CloseWait > 0
title: '{CloseWait} CLOSE_WAIT sockets'
`
	os.WriteFile(filepath.Join(dir, "many-close-wait.yaml"), []byte(rule), 0o644)
	code, out, errs := runCLI(t, "", "analyze", "--rules", dir, "--fail-on", "never", sample)
	if code != exitOK || !strings.Contains(out, "[WARNING] 400 CLOSE_WAIT sockets") {
		t.Errorf("exit %d, user rule did not fire:\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "", "rules", "list", "--rules", dir)
	if code != exitOK || !strings.Contains(out, "many-close-wait") || !strings.Contains(out, "close-wait-leak") {
		t.Errorf("rules list: exit %d\n%s", code, out)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "broken.yaml"), []byte("id: broken\nfor: process\nseverity:\n  warning: CloseWiat > 0\ntitle: x\n"), 0o644)
	code, _, errs = runCLI(t, "", "analyze", "--rules", bad, sample)
	if code != exitError || !strings.Contains(errs, "broken.yaml:4: severity.warning: unknown name CloseWiat") {
		t.Errorf("bad rule: exit %d, stderr %s", code, errs)
	}
}

func TestRulesExplainAndFormats(t *testing.T) {
	code, out, _ := runCLI(t, "", "rules", "explain", "close-wait-leak")
	if code != exitOK || !strings.Contains(out, "CLOSE_WAIT") || !strings.Contains(out, "critical") {
		t.Errorf("rules explain: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "", "rules", "explain", "no-such-rule"); code != exitError || !strings.Contains(errs, "no-such-rule") {
		t.Errorf("unknown rule: exit %d %s", code, errs)
	}
	code, out, _ = runCLI(t, "", "formats")
	for _, name := range []string{"ss", "netstat-linux", "proc-net-tcp", "netstat-windows", "netstat-bsd", "netstat-solaris", "lsof"} {
		if !strings.Contains(out, name) {
			t.Errorf("formats lacks %s", name)
		}
	}
	if code != exitOK {
		t.Errorf("formats: exit %d", code)
	}
}

func TestCLIFinish(t *testing.T) {
	code, out, _ := runCLI(t, "")
	if code != exitOK || !strings.Contains(out, "Usage: tcpsnap <command>") || !strings.Contains(out, "analyze") {
		t.Errorf("tcpsnap alone: exit %d, want help:\n%s", code, out)
	}
	for _, tc := range []struct {
		shell string
		want  []string
	}{
		{"bash", []string{"complete -o filenames -F _tcpsnap tcpsnap", `"analyze")`, "--fail-on) COMPREPLY"}},
		{"zsh", []string{"#compdef tcpsnap", "bashcompinit", "_tcpsnap"}},
		{"fish", []string{`complete -c tcpsnap -n "__fish_use_subcommand" -f -a "analyze"`, `-l format -x -a "text json`}},
	} {
		code, out, errs := runCLI(t, "", "completion", tc.shell)
		if code != exitOK {
			t.Fatalf("completion %s: exit %d: %s", tc.shell, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("completion %s lacks %q", tc.shell, w)
			}
		}
		if tc.shell == "bash" {
			if _, err := exec.LookPath("bash"); err == nil {
				cmd := exec.Command("bash", "-n")
				cmd.Stdin = strings.NewReader(out)
				if msg, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("bash -n on the script: %v: %s", err, msg)
				}
			}
		}
	}
	for _, tc := range []struct {
		args []string
		min  int // entries, for arrays
	}{
		{[]string{"rules", "list", "-f", "json"}, 38},
		{[]string{"formats", "-f", "json"}, 18},
		{[]string{"rules", "explain", "close-wait-leak", "-f", "json"}, 0},
	} {
		code, out, errs := runCLI(t, "", tc.args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errs)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: not JSON: %v", tc.args, err)
		}
		if list, ok := v.([]any); tc.min > 0 && (!ok || len(list) < tc.min) {
			t.Errorf("%v: want a list of at least %d", tc.args, tc.min)
		}
		if strings.Contains(out, "null") {
			t.Errorf("%v: null in the JSON", tc.args)
		}
	}
}

func TestAnalyzeOptions(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "report.txt")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	runCLICases(t, []cliCase{
		{"-o refuses an existing file", []string{"analyze", "-o", existing, sample}, exitError, "exists: use --force"},
		{"--force without -o", []string{"analyze", "--force", sample}, exitUsage, "--force lets -o"},
		{"--color with json", []string{"analyze", "--color", "always", "-f", "json", sample}, exitUsage, "does nothing with -f json"},
		{"--samples without --live", []string{"analyze", "--samples", "3", sample}, exitUsage, "need --live"},
		{"--explain with --profile", []string{"analyze", "--explain", "close-wait-leak", "--profile", filepath.Join(dir, "p.pb.gz"), sample}, exitUsage, "--explain"},
		{"--color always", []string{"analyze", "--color", "always", sample}, exitFindings, "\x1b[1;31m[CRITICAL]\x1b[0m leaky-server"},
		{"no colour in a pipe", []string{"analyze", sample}, exitFindings, "\n[CRITICAL] leaky-server"},
		{"--explain -f json", []string{"analyze", "--explain", "close-wait-leak", "-f", "json", sample}, exitOK, `"Rule": "close-wait-leak"`},
	})
	if data, _ := os.ReadFile(existing); string(data) != "keep me" {
		t.Errorf("the existing file was overwritten: %q", data)
	}
	if code, _, errs := runCLI(t, "", "analyze", "--force", "-o", existing, "--fail-on", "never", sample); code != exitOK {
		t.Errorf("--force -o: exit %d: %s", code, errs)
	}
	if data, _ := os.ReadFile(existing); !strings.Contains(string(data), "close-wait-leak") {
		t.Errorf("--force did not write the report")
	}
}
