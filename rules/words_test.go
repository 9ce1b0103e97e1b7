package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// TestWordsWeighBelowRows checks how the built-in rules weigh what a
// ticket only says: a message only its title carries takes one severity
// below the rule's reported one (so a warning one is info), a quantity without a number ("a lot of TIME_WAIT") is
// info at most and only with rows that show the pattern, and words alone
// never make a finding critical.
func TestWordsWeighBelowRows(t *testing.T) {
	rs := builtinRules(t)
	twRows := "```\n" +
		"  TCP    [::1]:50515            [::1]:50051            TIME_WAIT\n" +
		"  TCP    [::1]:50529            [::1]:50051            TIME_WAIT\n" +
		"  TCP    [::1]:50532            [::1]:50051            TIME_WAIT\n" +
		"  TCP    [::1]:50535            [::1]:50051            TIME_WAIT\n" +
		"```\n"
	twRowsTwoPeers := "```\n" +
		"  TCP    [::1]:50515            [::1]:50051            TIME_WAIT\n" +
		"  TCP    [::1]:50529            [::1]:50051            TIME_WAIT\n" +
		"  TCP    [::1]:50532            [::1]:6379             TIME_WAIT\n" +
		"  TCP    [::1]:50535            [::1]:6379             TIME_WAIT\n" +
		"```\n"
	tests := []struct {
		name, text string
		rule       string
		want       string // severity, "" for no finding of the rule
		basis      string // a basis line must contain it ("" no check)
	}{
		{"EMFILE in the title", "Cannot create socket due to too many open files\n\nIt happens after a while. ulimit is low.\n",
			"fd-exhaustion", analyze.Warning, "reported (title "},
		{"EMFILE in the text", "Server down\n\nnc_proxy.c:290 accept on p 7 failed: Too many open files\n",
			"fd-exhaustion", analyze.Critical, "reported ("},
		{"conntrack full in the title", "nf_conntrack table full\n\nthe scanner runs at 15000 packets per second\n",
			"conntrack-table-full", analyze.Warning, "title "},
		{"conntrack full in the kernel log", "Drops\n\nFeb 1 10:00:00 fw kernel: nf_conntrack: table full, dropping packet\n",
			"conntrack-table-full", analyze.Critical, ""},
		{"CLOSE_WAIT stays, in the title", "The CLOSE-WAIT state on port 9200 doesn't disappear after a restart\n\nwe restarted the indexer\n",
			"close-wait-leak", analyze.Info, "reported (title "},
		{"not closing, CLOSE_WAIT in the title", "tcp connections in CLOSE_WAIT status\n\nWe see google_auth_proxy not closing connections properly.\n",
			"close-wait-leak", analyze.Warning, "under the title: tcp connections in CLOSE_WAIT status"},
		{"CLOSE_WAIT stays, in the text", "Leak\n\nCLOSE_WAIT connections keep growing until we restart the service\n",
			"close-wait-leak", analyze.Warning, ""},
		{"EADDRNOTAVAIL only in the title", "Error cannot assign requested address when sending 1k rps\n\nit fails under load\n",
			"ephemeral-port-exhaustion", analyze.Warning, "reported (title "},
		{"a BSD kernel message as the title", "Listen queue overflow: 2 already in queue awaiting acceptance (1 occurrences)\n\nThe VNC console stops answering.\n",
			"bsd-listen-queue-overflow", analyze.Warning, "reported (title "},
		{"many TIME_WAIT and rows toward one service", "huge amount of TIME_WAIT connections on windows\n\nnetstat -an reports a lot of TIME_WAIT connections:\n\n" + twRows,
			"time-wait-churn", analyze.Info, ""},
		{"many TIME_WAIT and rows toward two services", "huge amount of TIME_WAIT connections on windows\n\nnetstat -an shows:\n\n" + twRowsTwoPeers,
			"time-wait-churn", "", ""},
		{"rows toward one service, no words", "TIME_WAIT on windows\n\nnetstat -an shows:\n\n" + twRows,
			"time-wait-churn", "", ""},
		{"many TIME_WAIT in words only", "many TIME_WAIT connections\n\nWe see many TIME_WAIT connections to redis. Is that a problem?\n",
			"time-wait-churn", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ticket.txt")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			snap, err := analyze.Load([]string{path}, analyze.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep := analyze.Run(snap, rs)
			got, basis := "", ""
			for _, f := range rep.Findings {
				if f.Severity == analyze.Critical && tt.want != analyze.Critical {
					t.Errorf("words alone made %s critical: %s", f.Rule, f.Title)
				}
				if f.Rule == tt.rule && analyze.SeverityRank(f.Severity) > analyze.SeverityRank(got) {
					got, basis = f.Severity, strings.Join(f.Basis, "\n")
				}
			}
			if got != tt.want {
				t.Fatalf("%s: got %q, want %q (findings %+v)", tt.rule, got, tt.want, rep.Findings)
			}
			if tt.basis != "" && !strings.Contains(basis, tt.basis) {
				t.Errorf("basis %q does not say %q", basis, tt.basis)
			}
		})
	}
}

// FreeBSD logs the accept queue's length when it drops a connection, and
// drops past 1.5 times the listener's limit: "11 already in queue" is a
// limit of about 7, the program's own backlog, which somaxconn cannot
// raise (3proxy/3proxy#1170).
func TestSonewconnQueueLength(t *testing.T) {
	text := "My system log is filled with these errors\n\nI'm running 3proxy on a pfSense VM (FreeBSD):\n\n" +
		"sonewconn: pcb 0xfffff8001a6b2540 (192.168.2.1:1083 (proto 6)): Listen queue overflow: 11 already in queue awaiting acceptance (15 occurrences), euid 0, rgid 0, jail 0\n"
	path := filepath.Join(t.TempDir(), "ticket.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := analyze.Load([]string{path}, analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze.Run(snap, builtinRules(t))
	for _, f := range rep.Findings {
		if f.Rule == "bsd-listen-queue-overflow" {
			for _, want := range []string{"on :1083", "11 waiting", "listen backlog of about 7"} {
				if !strings.Contains(f.Title, want) {
					t.Errorf("title %q does not say %q", f.Title, want)
				}
			}
			if !strings.Contains(f.Explanation, "raising kern.ipc.somaxconn cannot help") {
				t.Errorf("explanation does not say somaxconn cannot help: %s", f.Explanation)
			}
			return
		}
	}
	t.Fatalf("no bsd-listen-queue-overflow finding: %+v", rep.Findings)
}
