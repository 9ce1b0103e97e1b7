package fleet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// WriteJSON writes the summary as JSON (schema tcpsnap.fleet/v1).
func WriteJSON(w io.Writer, s *Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// textTop is how many hosts the text and Markdown list per rule.
const textTop = 5

// WriteText writes the summary for a terminal. Strings from the inputs
// are stripped of control characters.
func WriteText(w io.Writer, s *Summary) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "tcpsnap fleet: %d hosts, %d analyzed, %d failed\n", s.Hosts, s.Hosts-s.Failed, s.Failed)
	if len(s.RuleOrder) == 0 {
		fmt.Fprintln(bw, "\nNo findings on any host.")
	} else {
		fmt.Fprintf(bw, "\n%-32s %6s %9s %8s %6s\n", "Rules", "hosts", "critical", "warning", "info")
		for _, id := range s.RuleOrder {
			r := s.Rules[id]
			fmt.Fprintf(bw, "  %-30s %6d %9d %8d %6d\n", clean(id), r.Hosts, r.Critical, r.Warning, r.Info)
		}
		for _, id := range s.RuleOrder {
			r := s.Rules[id]
			fmt.Fprintf(bw, "\n%s: %s\n", clean(id), model.Plural(r.Hosts, "host"))
			for i, t := range r.Top {
				if i == textTop {
					fmt.Fprintf(bw, "  ... %d more\n", r.Hosts-textTop)
					break
				}
				fmt.Fprintf(bw, "  [%s] %s: %s\n", strings.ToUpper(t.Severity), clean(t.Host), clean(t.Title))
			}
			if sh := sharedText(r.Shared, r.Hosts); sh != "" {
				fmt.Fprintf(bw, "  shared: %s\n", sh)
			}
		}
	}
	if len(s.Correlations) > 0 {
		fmt.Fprintf(bw, "\nBoth ends in this fleet (%d):\n", len(s.Correlations))
		for _, c := range s.Correlations {
			fmt.Fprintf(bw, "  %s\n", clean(c.Text))
		}
	}
	if len(s.FailedHosts) > 0 {
		fmt.Fprintf(bw, "\nFailed (%d):\n", len(s.FailedHosts))
		for _, f := range s.FailedHosts {
			fmt.Fprintf(bw, "  %s: %s\n", clean(f.Path), clean(f.Error))
		}
	}
	return bw.Flush()
}

// WriteMarkdown writes the summary as Markdown.
func WriteMarkdown(w io.Writer, s *Summary) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# tcpsnap fleet\n\n%d hosts, %d analyzed, %d failed.\n", s.Hosts, s.Hosts-s.Failed, s.Failed)
	if len(s.RuleOrder) > 0 {
		fmt.Fprintf(bw, "\n| rule | hosts | critical | warning | info |\n|---|--:|--:|--:|--:|\n")
		for _, id := range s.RuleOrder {
			r := s.Rules[id]
			fmt.Fprintf(bw, "| `%s` | %d | %d | %d | %d |\n", md(id), r.Hosts, r.Critical, r.Warning, r.Info)
		}
		for _, id := range s.RuleOrder {
			r := s.Rules[id]
			fmt.Fprintf(bw, "\n## %s: %s\n\n", md(id), model.Plural(r.Hosts, "host"))
			for i, t := range r.Top {
				if i == textTop {
					fmt.Fprintf(bw, "- ... %d more\n", r.Hosts-textTop)
					break
				}
				fmt.Fprintf(bw, "- **%s** %s: %s\n", strings.ToUpper(t.Severity), md(t.Host), md(t.Title))
			}
			if sh := sharedText(r.Shared, r.Hosts); sh != "" {
				fmt.Fprintf(bw, "\nShared: %s\n", md(sh))
			}
		}
	} else {
		fmt.Fprintf(bw, "\nNo findings on any host.\n")
	}
	if len(s.Correlations) > 0 {
		fmt.Fprintf(bw, "\n## Both ends in this fleet\n\n")
		for _, c := range s.Correlations {
			fmt.Fprintf(bw, "- %s\n", md(c.Text))
		}
	}
	if len(s.FailedHosts) > 0 {
		fmt.Fprintf(bw, "\n## Failed (%d)\n\n", len(s.FailedHosts))
		for _, f := range s.FailedHosts {
			fmt.Fprintf(bw, "- `%s`: %s\n", strings.ReplaceAll(clean(f.Path), "`", "'"), md(f.Error))
		}
	}
	return bw.Flush()
}

// sharedText says what the affected hosts have in common: values held
// by at least two hosts.
func sharedText(sh Shared, hosts int) string {
	var parts []string
	for _, g := range []struct {
		what string
		l    []Count
	}{{"program", sh.Programs}, {"port", sh.Ports}, {"destination", sh.Destinations}, {"kernel", sh.Kernels}, {"setting", sh.Settings}} {
		for i, c := range g.l {
			if i == 2 || c.Hosts < 2 {
				break
			}
			parts = append(parts, fmt.Sprintf("%s %s on %d of %d hosts", g.what, c.Value, c.Hosts, hosts))
		}
	}
	return strings.Join(parts, "; ")
}

// clean drops control characters from input strings.
func clean(s string) string { return model.CleanText(s) }

// md escapes input text for Markdown.
func md(s string) string { return model.MarkdownText(s) }
