package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

func renderHTML(t *testing.T, r *engine.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// hostile is markup that must stay text wherever input text lands; tag
// names it in the page.
func hostile(tag string) string {
	return "<img src=x onerror=alert(1)>" + tag + "</svg><script>alert(2)</script>"
}

// escapedHostile is hostile(tag) as html/template writes it in text.
func escapedHostile(tag string) string {
	return "&lt;img src=x onerror=alert(1)&gt;" + tag + "&lt;/svg&gt;&lt;script&gt;alert(2)&lt;/script&gt;"
}

// fullReport has something in every part of a report, with hostile
// text wherever the input can put text.
func fullReport(evil func(string) string) *engine.Report {
	states := map[string]int{"CLOSE_WAIT": 400, "FIN_WAIT2": 399, "LISTEN": 1, "ESTABLISHED": 12, "TIME_WAIT": 7}
	return &engine.Report{
		Schema: engine.Schema,
		Snapshot: engine.SnapshotInfo{
			Host:    model.Host{Name: evil("HOST"), OS: "linux", Kernel: evil("KERNEL"), Redacted: true},
			Samples: 3, Sockets: 819,
			Sources: []model.Source{
				{Path: "bundle/" + evil("SOURCE"), Format: "ss", Confidence: 95, Sockets: 819, Role: "primary", Command: evil("COMMAND")},
				{Path: "bundle/other.txt", Format: ""},
			},
		},
		Summary: engine.Summary{States: states, Critical: 1, Warning: 1, Info: 1},
		Findings: []engine.Finding{
			{Rule: "close-wait-leak", Severity: engine.Critical, Title: evil("TITLE"),
				Evidence:    engine.Evidence{{Name: evil("EVNAME"), Value: 400}, {Name: "owner", Value: evil("EVVALUE")}, {Name: "unknown", Value: -1}},
				Explanation: evil("WHY"), Remedy: evil("FIX"), WrongAdvice: []string{evil("IGNORE")},
				Basis: []string{evil("BASIS")},
				Also:  []engine.Subject{{Kind: "process", Process: evil("ALSO"), PID: 7}}, AlsoCount: 3},
			{Rule: evil("RULE"), Severity: engine.Warning, Title: "plain", CountsOnly: true},
			{Rule: "x", Severity: engine.Info, Title: "info"},
		},
		CouldNotCheck: []engine.Gap{{What: evil("GAPWHAT"), Why: evil("GAPWHY"), Command: evil("GAPCMD")}},
		Top: engine.Top{
			Processes:    []engine.TopEntry{{Name: evil("TOPPROC"), Sockets: 401, States: map[string]int{"CLOSE_WAIT": 400, "LISTEN": 1}}, {Name: "b", Sockets: 399, States: map[string]int{"FIN_WAIT2": 399}}},
			Ports:        []engine.TopEntry{{Name: evil("TOPPORT"), Sockets: 401, States: map[string]int{"CLOSE_WAIT": 400, "LISTEN": 1}}},
			Destinations: []engine.TopEntry{{Name: evil("TOPDEST"), Sockets: 399, States: map[string]int{"FIN_WAIT2": 399}}},
		},
		Timeline: []engine.SampleStates{
			{Sample: 0, Time: evil("TIME"), States: map[string]int{"CLOSE_WAIT": 300, "FIN_WAIT2": 300}},
			{Sample: 1, States: map[string]int{"CLOSE_WAIT": 350, "FIN_WAIT2": 350, "LISTEN": 1}},
			{Sample: 2, States: states},
		},
		Notes:    []string{evil("NOTE")},
		Problems: []model.Problem{{Path: evil("PROBPATH"), Line: 3, Message: evil("PROBLEM")}},
	}
}

// allowedTags are the elements WriteHTML writes; any other tag in the
// output is input that got out as markup.
var allowedTags = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "main": true,
	"header": true, "h1": true, "h2": true, "h3": true, "p": true, "span": true, "nav": true, "a": true,
	"section": true, "article": true, "code": true, "table": true, "thead": true, "tbody": true, "tr": true,
	"th": true, "td": true, "ul": true, "li": true, "details": true, "summary": true, "figure": true,
	"figcaption": true, "svg": true, "rect": true, "line": true, "text": true, "footer": true,
}

var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)`)

// Every place input text lands escapes it: the hostile markup shows as
// text and no element but ours appears.
func TestHTMLEscapesInput(t *testing.T) {
	out := renderHTML(t, fullReport(hostile))
	for _, m := range tagRE.FindAllStringSubmatch(out, -1) {
		if !allowedTags[strings.ToLower(m[2])] {
			t.Errorf("element <%s%s> in the output: input escaped as markup", m[1], m[2])
		}
	}
	for _, tag := range []string{"HOST", "KERNEL", "SOURCE", "COMMAND", "TITLE", "EVNAME", "EVVALUE", "WHY", "FIX",
		"IGNORE", "BASIS", "ALSO", "RULE", "GAPWHAT", "GAPWHY", "GAPCMD", "TOPPROC", "TOPPORT", "TOPDEST", "TIME", "NOTE",
		"PROBPATH", "PROBLEM"} {
		if !strings.Contains(out, escapedHostile(tag)) {
			t.Errorf("%s: the hostile text is not shown escaped", tag)
		}
	}
	if strings.Contains(out, "onerror=alert(1)>") {
		t.Error("an unescaped > after the hostile attribute")
	}
	// Charts name the top entries in <text> and <title> inside <svg>:
	// escaped there too (the rest of the page is checked above).
	for _, id := range []string{"chart-top-processes", "chart-top-ports", "chart-top-destinations"} {
		svg := chartSVG(t, out, id)
		if !strings.Contains(svg, "&lt;img src=x onerror=alert(1)&gt;") || strings.Contains(svg, "<img") || strings.Contains(svg, "<script") {
			t.Errorf("%s: hostile name not escaped inside the chart:\n%s", id, svg)
		}
	}
	// Control characters go; white space runs are one space.
	r := fullReport(func(tag string) string { return "a\x1b[31m\x00b\n\tc " + tag })
	out = renderHTML(t, r)
	if strings.ContainsAny(out, "\x1b\x00") {
		t.Error("control characters in the output")
	}
	if !strings.Contains(out, "a[31mb c TITLE") {
		t.Error("the title's control characters and white space are not cleaned")
	}
}

// chartSVG returns the <svg> element with the given id.
func chartSVG(t *testing.T, out, id string) string {
	t.Helper()
	i := strings.Index(out, `<svg class="chart" id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no chart %s", id)
	}
	j := strings.Index(out[i:], "</svg>")
	return out[i : i+j+len("</svg>")]
}

var (
	realTagRE  = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	attrURLRE  = regexp.MustCompile(`(?i)\s(src|href|action|formaction|poster|data|xlink:href|srcset|style|background)\s*=\s*["']?([^"' >]*)`)
	cssURLRE   = regexp.MustCompile(`(?i)url\s*\(|@import|image-set|src\s*:`)
	absoluteRE = regexp.MustCompile(`(?i)https?:|//[a-z0-9]`)
)

// checkSelfContained fails unless the page can load nothing: in its
// tags (input text is escaped, so a real tag is ours) no src or style
// attribute, every link a fragment of the page, no element that
// fetches; in its style sheet no url() or @import; and a
// Content-Security-Policy that forbids every load.
func checkSelfContained(t *testing.T, out string) {
	t.Helper()
	for _, tag := range realTagRE.FindAllString(out, -1) {
		name := strings.ToLower(tagRE.FindStringSubmatch(tag)[2])
		if !allowedTags[name] {
			t.Errorf("%s in the page", tag)
		}
		for _, m := range attrURLRE.FindAllStringSubmatch(tag, -1) {
			if strings.ToLower(m[1]) != "href" || !strings.HasPrefix(m[2], "#") {
				t.Errorf("%s: %s=%q would load or link something", tag, m[1], m[2])
			}
		}
	}
	css, _, _ := strings.Cut(out[strings.Index(out, "<style>")+1:], "</style>")
	if m := cssURLRE.FindString(css); m != "" {
		t.Errorf("%q in the style sheet: CSS would load something", m)
	}
	if m := absoluteRE.FindString(css); m != "" {
		t.Errorf("%q in the style sheet", m)
	}
	if !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
		t.Error("no Content-Security-Policy forbidding every load")
	}
}

// The page loads nothing from anywhere, whatever the input says.
func TestHTMLNoExternalURLs(t *testing.T) {
	urls := func(tag string) string {
		return tag + ` see https://example.com/x.png and //cdn.example/x.js url(http://x/y) <a href="http://evil/">x</a> @import "http://x"`
	}
	for name, r := range map[string]*engine.Report{
		"full":   fullReport(func(tag string) string { return tag }),
		"urls":   fullReport(urls),
		"empty":  {},
		"many":   manyFindings(2000, 1),
		"hostil": fullReport(hostile),
	} {
		out := renderHTML(t, r)
		checkSelfContained(t, out)
		if name != "urls" {
			// Our own markup names no URL at all (not even an SVG namespace).
			if m := absoluteRE.FindString(out); m != "" {
				t.Errorf("%s: %q in the page", name, m)
			}
		}
	}
}

// The same report gives the same bytes (map order, no clock, no ids).
func TestHTMLDeterministic(t *testing.T) {
	want := renderHTML(t, fullReport(hostile))
	for range 20 {
		if got := renderHTML(t, fullReport(hostile)); got != want {
			t.Fatal("two renders of one report differ")
		}
	}
}

// Each chart draws one bar per state with sockets (a segment per state
// in a stack, a bar per state and sample in the timeline) and says how
// many in data-bars.
func TestHTMLCharts(t *testing.T) {
	out := renderHTML(t, fullReport(func(tag string) string { return tag }))
	for id, want := range map[string]int{"chart-states": 5, "chart-top-processes": 3, "chart-top-ports": 2,
		"chart-top-destinations": 1, "chart-timeline": 2 + 3 + 5} {
		svg := chartSVG(t, out, id)
		if got := strings.Count(svg, "<rect data-bar"); got != want {
			t.Errorf("%s: %d bars, want %d", id, got, want)
		}
		if !strings.Contains(svg, fmt.Sprintf(`data-bars="%d"`, want)) {
			t.Errorf("%s: data-bars is not %d", id, want)
		}
		if !strings.Contains(svg, `viewBox="0 0 400 `) {
			t.Errorf("%s: no viewBox 400 wide", id)
		}
	}
	// Several samples: one timeline; one sample: none.
	r := fullReport(func(tag string) string { return tag })
	r.Timeline = nil
	if strings.Contains(renderHTML(t, r), "chart-timeline") {
		t.Error("a timeline without samples")
	}
}

// A report with no sockets, findings or sources (zero values, nil maps)
// renders and says so.
func TestHTMLEmpty(t *testing.T) {
	for _, r := range []*engine.Report{
		{},
		{Summary: engine.Summary{Insufficient: true, States: map[string]int{}}, Findings: []engine.Finding{},
			Top: engine.Top{Processes: []engine.TopEntry{}}, Notes: []string{}},
	} {
		out := renderHTML(t, r)
		for _, want := range []string{"<!DOCTYPE html>", "No TCP sockets.", "No findings", "0 TCP sockets", "</html>"} {
			if !strings.Contains(out, want) {
				t.Errorf("empty report: no %q", want)
			}
		}
		if strings.Contains(out, "<svg") {
			t.Error("empty report: a chart of nothing")
		}
		if r.Summary.Insufficient && !strings.Contains(out, "too little to judge") {
			t.Error("insufficient: does not say so")
		}
	}
}

func manyFindings(n, rules int) *engine.Report {
	r := &engine.Report{Summary: engine.Summary{States: map[string]int{"CLOSE_WAIT": n}}}
	for i := range n {
		r.Findings = append(r.Findings, engine.Finding{Rule: fmt.Sprintf("rule-%d", i%rules), Severity: engine.Warning,
			Title:       fmt.Sprintf("worker-%d holds CLOSE_WAIT", i),
			Explanation: strings.Repeat("An explanation of some length. ", 20),
			Remedy:      "Close the socket.", WrongAdvice: []string{"tcp_fin_timeout does not help"},
			Evidence: engine.Evidence{{Name: "close_wait", Value: i}}})
		r.Summary.Warning++
	}
	for i := range 500 {
		r.Notes = append(r.Notes, fmt.Sprintf("note %d", i))
		r.Snapshot.Sources = append(r.Snapshot.Sources, model.Source{Path: fmt.Sprintf("dir/f%d.txt", i), Format: "ss", Sockets: 1, Role: "primary"})
	}
	return r
}

// 2,000 findings: at most htmlPerRule a rule and htmlMaxFindings in all
// are shown, the page says what it left out and stays small.
func TestHTMLManyFindings(t *testing.T) {
	for _, tc := range []struct {
		rules, shown int
		leftOut      string
	}{
		{1, htmlPerRule, "1,990 more findings not shown here (rule-0: 1,990)"},
		{400, htmlMaxFindings, "1,900 more findings not shown here (rule-100: 5, "},
	} {
		out := renderHTML(t, manyFindings(2000, tc.rules))
		if got := strings.Count(out, `<article class="card`); got != tc.shown {
			t.Errorf("%d rules: %d findings shown, want %d", tc.rules, got, tc.shown)
		}
		if !strings.Contains(out, tc.leftOut) {
			t.Errorf("%d rules: does not say %q", tc.rules, tc.leftOut)
		}
		if !strings.Contains(out, "and 450 more notes") || !strings.Contains(out, "and 300 more</li>") {
			t.Errorf("%d rules: does not say notes and sources were left out", tc.rules)
		}
		if len(out) > 400_000 {
			t.Errorf("%d rules: %d bytes", tc.rules, len(out))
		}
	}
}
