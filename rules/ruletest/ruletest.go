// Package ruletest runs rules against fixtures: small txtar archives that
// hold a snapshot (listing files, /proc files, sysctl output, a manifest)
// and, in their comment, what the rule must conclude about it. It backs
// `tcpsnap rules test DIR` and the built-in rules' own tests.
//
// A fixture lives at testdata/<rule id>/<case>.txtar. Its comment (the
// text before the first "-- name --" line) holds the expectation:
//
//	want: fires warning         the rule's most severe finding is a warning
//	want: quiet                 the rule finds nothing
//	want-title: CLOSE_WAIT      (optional) that finding's title contains this
//
// Every other comment line is free text (say where the data came from).
package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/rules"
)

// A File is one member of a txtar archive.
type File struct {
	Name string
	Data []byte
}

// ParseTxtar splits a txtar archive into its comment and files. A file
// starts at a line "-- name --" and runs to the next such line.
func ParseTxtar(data []byte) (comment string, files []File) {
	var cur *File
	var com bytes.Buffer
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		t := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(t, []byte("-- ")) && bytes.HasSuffix(t, []byte(" --")) && len(t) > 6 {
			files = append(files, File{Name: strings.TrimSpace(string(t[3 : len(t)-3]))})
			cur = &files[len(files)-1]
			continue
		}
		if cur == nil {
			com.Write(line)
		} else {
			cur.Data = append(cur.Data, line...)
		}
	}
	return com.String(), files
}

// An Expect is what a fixture's comment asks for.
type Expect struct {
	Fires    bool
	Severity string // with Fires
	Title    string // substring the finding's title must contain, or ""
}

// ParseExpect reads the want lines of a fixture comment.
func ParseExpect(comment string) (Expect, error) {
	var e Expect
	seen := false
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "want:"):
			if seen {
				return e, errors.New("more than one want: line")
			}
			seen = true
			f := strings.Fields(strings.TrimPrefix(line, "want:"))
			switch {
			case len(f) == 1 && f[0] == "quiet":
			case len(f) == 2 && f[0] == "fires" && analyze.SeverityRank(f[1]) > 0:
				e.Fires, e.Severity = true, f[1]
			default:
				return e, fmt.Errorf("bad %q: want \"want: quiet\" or \"want: fires critical|warning|info\"", line)
			}
		case strings.HasPrefix(line, "want-title:"):
			e.Title = strings.TrimSpace(strings.TrimPrefix(line, "want-title:"))
		}
	}
	if !seen {
		return e, errors.New("no \"want: fires SEVERITY\" or \"want: quiet\" line in the comment")
	}
	if e.Title != "" && !e.Fires {
		return e, errors.New("want-title needs want: fires")
	}
	return e, nil
}

// A Result is the outcome of one fixture.
type Result struct {
	Rule   string
	Case   string // fixture file name without .txtar
	Path   string
	Expect Expect
	OK     bool
	Reason string // why it failed, or what it found when it passed
}

// Check runs one compiled rule on one fixture archive. Files are written
// under a fresh folder in tmp, which is removed afterwards.
func Check(r *analyze.Rule, fixture string, data []byte, tmp string) Result {
	res := Result{Rule: r.Spec.ID, Case: strings.TrimSuffix(path.Base(filepath.ToSlash(fixture)), ".txtar"), Path: fixture}
	comment, files := ParseTxtar(data)
	exp, err := ParseExpect(comment)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	res.Expect = exp
	if len(files) == 0 {
		res.Reason = "the archive holds no files"
		return res
	}
	dir, err := os.MkdirTemp(tmp, "fixture-")
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	defer os.RemoveAll(dir)
	for _, f := range files {
		clean := path.Clean(f.Name)
		if !fs.ValidPath(clean) {
			res.Reason = fmt.Sprintf("file name %q: want a relative path without ..", f.Name)
			return res
		}
		p := filepath.Join(dir, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			res.Reason = err.Error()
			return res
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			res.Reason = err.Error()
			return res
		}
	}
	snap, err := analyze.Load([]string{dir}, analyze.Options{})
	if err != nil {
		res.Reason = "loading the snapshot: " + strings.ReplaceAll(err.Error(), dir, "")
		return res
	}
	rep := analyze.Run(snap, []*analyze.Rule{r})
	for _, p := range rep.Problems {
		if strings.HasPrefix(p.Message, "rule ") {
			res.Reason = "evaluation error: " + p.Message
			return res
		}
	}
	var top *analyze.Finding
	for i := range rep.Findings {
		if top == nil || analyze.SeverityRank(rep.Findings[i].Severity) > analyze.SeverityRank(top.Severity) {
			top = &rep.Findings[i]
		}
	}
	switch {
	case !exp.Fires && top != nil:
		res.Reason = fmt.Sprintf("want quiet, fired %s: %s", top.Severity, top.Title)
	case exp.Fires && top == nil:
		res.Reason = fmt.Sprintf("want fires %s, stayed quiet", exp.Severity)
	case exp.Fires && top.Severity != exp.Severity:
		res.Reason = fmt.Sprintf("want fires %s, fired %s: %s", exp.Severity, top.Severity, top.Title)
	case exp.Fires && exp.Title != "" && !strings.Contains(top.Title, exp.Title):
		res.Reason = fmt.Sprintf("title %q does not contain %q", top.Title, exp.Title)
	default:
		res.OK = true
		if top != nil {
			res.Reason = top.Severity + ": " + top.Title
		} else {
			res.Reason = "quiet"
		}
	}
	return res
}

// Fixtures lists the *.txtar files of testdata/<id>/ in fsys, sorted.
func Fixtures(fsys fs.FS, id string) ([]string, error) {
	names, err := fs.Glob(fsys, path.Join("testdata", id, "*.txtar"))
	sort.Strings(names)
	return names, err
}

// RunRules checks every compiled rule against its fixtures in fsys
// (testdata/<id>/*.txtar). A rule without fixtures gives one failed
// Result saying so; so does a rule without both a firing and a quiet case
// when requireBoth is set.
func RunRules(rs []*analyze.Rule, fsys fs.FS, requireBoth bool, tmp string) []Result {
	var out []Result
	for _, r := range rs {
		names, err := Fixtures(fsys, r.Spec.ID)
		if err != nil || len(names) == 0 {
			out = append(out, Result{Rule: r.Spec.ID, Case: "-", Reason: "no fixtures in testdata/" + r.Spec.ID + "/*.txtar"})
			continue
		}
		fires, quiet := 0, 0
		for _, n := range names {
			data, err := fs.ReadFile(fsys, n)
			if err != nil {
				out = append(out, Result{Rule: r.Spec.ID, Case: path.Base(n), Path: n, Reason: err.Error()})
				continue
			}
			res := Check(r, n, data, tmp)
			comment, _ := ParseTxtar(data)
			if e, err := ParseExpect(comment); err == nil && e.Fires {
				fires++
			} else if err == nil {
				quiet++
			}
			out = append(out, res)
		}
		if requireBoth && (fires == 0 || quiet == 0) {
			out = append(out, Result{Rule: r.Spec.ID, Case: "-",
				Reason: fmt.Sprintf("needs at least one firing and one quiet fixture (has %d firing, %d quiet)", fires, quiet)})
		}
	}
	return out
}

// RunDir loads the rules of dir (dir/*.yaml), compiles them on their own,
// and checks each against dir/testdata/<id>/*.txtar, requiring a firing
// and a quiet case for each rule.
func RunDir(dir string) ([]Result, error) {
	fsys := os.DirFS(dir)
	specs, err := rules.Load(fsys)
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml rule files", dir)
	}
	for _, s := range specs {
		s.Path = filepath.Join(dir, s.Path)
	}
	rs, err := analyze.Compile(specs)
	if err != nil {
		return nil, err
	}
	return RunRules(rs, fsys, true, ""), nil
}
