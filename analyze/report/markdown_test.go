package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
)

func TestMdInline(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CLOSE_WAIT on :8443", "CLOSE_WAIT on :8443"},
		{"_emphasis_ and *bold*", `\_emphasis\_ and \*bold\*`},
		{"a|b", `a\|b`},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"java`rm -rf`", "java\\`rm -rf\\`"},
		{"line\nbreak\x1b[31m  spaced", `line break\[31m spaced`},
		{"[link](http://x)", `\[link\](http://x)`},
		{"# heading", `\# heading`},
	} {
		if got := mdInline(tc.in); got != tc.want {
			t.Errorf("mdInline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A report of any size stays under MarkdownLimit and says what it left out.
func TestMarkdownLimit(t *testing.T) {
	for _, n := range []int{1, 40, 2000} {
		r := &engine.Report{Summary: engine.Summary{States: map[string]int{"CLOSE_WAIT": n}}}
		for i := range n {
			r.Findings = append(r.Findings, engine.Finding{Rule: "close-wait-leak", Severity: engine.Warning,
				Title:       "worker|" + strings.Repeat("x", 80) + " holds CLOSE_WAIT",
				Explanation: strings.Repeat("An explanation of some length. ", 20),
				Remedy:      "Close the socket.", WrongAdvice: []string{"tcp_fin_timeout does not help"},
				Evidence: engine.Evidence{{Name: "close_wait", Value: i}}})
			r.Summary.Warning++
		}
		var b bytes.Buffer
		if err := WriteMarkdown(&b, r); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if len(out) > MarkdownLimit {
			t.Errorf("%d findings: %d bytes, over %d", n, len(out), MarkdownLimit)
		}
		if !strings.Contains(out, `worker\|`) {
			t.Errorf("%d findings: the title's | is not escaped", n)
		}
		full := n == 1
		if got := strings.Contains(out, "**Why.**"); got != full {
			t.Errorf("%d findings: explanations shown = %v, want %v", n, got, full)
		}
		if n == 2000 && !strings.Contains(out, "less severe findings not shown") {
			t.Errorf("2000 findings: does not say findings were left out")
		}
	}
}
