package analyze

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
)

// TestOneFindingPerCause: workers of one program with the same problem
// are one finding naming the others; different programs stay apart.
func TestOneFindingPerCause(t *testing.T) {
	rs := builtinRulesForTest(t)
	listing := func(progs ...string) string {
		var b strings.Builder
		b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
		b.WriteString(`LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=3000,fd=6))` + "\n")
		for w, prog := range progs {
			for i := 0; i < 30; i++ {
				fmt.Fprintf(&b, "CLOSE-WAIT 0 0 10.0.0.1:443 192.0.2.%d:%d users:((%q,pid=%d,fd=%d))\n", 1+w, 40000+i, prog, 3001+w, 10+i)
			}
		}
		return b.String()
	}
	cases := []struct {
		name      string
		progs     []string
		findings  int // close-wait-leak findings
		alsoCount int // of the first
		title     string
	}{
		{"eight workers of one program", []string{"nginx", "nginx", "nginx", "nginx", "nginx", "nginx", "nginx", "nginx"}, 1, 7, "the same in 7 more nginx processes (pid "},
		{"two programs", []string{"nginx", "php-fpm"}, 2, 0, ""},
		{"one process", []string{"nginx"}, 1, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ss.txt")
			if err := os.WriteFile(path, []byte(listing(tc.progs...)), 0o644); err != nil {
				t.Fatal(err)
			}
			snap, err := Load([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep := engine.Run(snap, rs)
			var got []engine.Finding
			for _, f := range rep.Findings {
				if f.Rule == "close-wait-leak" {
					got = append(got, f)
				}
			}
			if len(got) != tc.findings {
				t.Fatalf("%d close-wait-leak findings, want %d: %+v", len(got), tc.findings, got)
			}
			if got[0].AlsoCount != tc.alsoCount || len(got[0].Also) != tc.alsoCount {
				t.Errorf("also_count %d (%d listed), want %d", got[0].AlsoCount, len(got[0].Also), tc.alsoCount)
			}
			if tc.title != "" && !strings.Contains(got[0].Title, tc.title) {
				t.Errorf("title %q does not say %q", got[0].Title, tc.title)
			}
			if tc.alsoCount == 0 && strings.Contains(got[0].Title, "the same in") {
				t.Errorf("title %q folds what stands alone", got[0].Title)
			}
		})
	}
}
