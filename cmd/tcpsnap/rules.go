package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/rules/ruletest"
)

// rulesCmd is `tcpsnap rules`.
type rulesCmd struct {
	List    rulesListCmd    `cmd:"" help:"List the rules."`
	Explain rulesExplainCmd `cmd:"" help:"Show what a rule detects, its thresholds and its advice."`
	Test    rulesTestCmd    `cmd:"" help:"Run the rules in DIR (DIR/*.yaml) against their fixtures (DIR/testdata/<id>/*.txtar)."`
}

type rulesTestCmd struct {
	Dir     string `arg:"" type:"existingdir" help:"Folder of rule files with a testdata/ folder of fixtures."`
	Verbose bool   `short:"v" help:"Also show what each passing case found."`
}

func (c *rulesTestCmd) Run(e *env) error {
	results, err := ruletest.RunDir(c.Dir)
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	passed, failed := 0, 0
	for _, r := range results {
		name := r.Rule + "/" + r.Case
		if r.OK {
			passed++
			if c.Verbose {
				fmt.Fprintf(e.stdout, "ok   %s: %s\n", name, r.Reason)
			} else {
				fmt.Fprintf(e.stdout, "ok   %s\n", name)
			}
			continue
		}
		failed++
		where := r.Path
		if where == "" {
			where = c.Dir
		} else {
			where = filepath.Join(c.Dir, where)
		}
		fmt.Fprintf(e.stdout, "FAIL %s (%s): %s\n", name, where, r.Reason)
	}
	fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return &exitCodeError{code: exitFindings}
	}
	return nil
}

type rulesListCmd struct {
	Rules  string `type:"existingdir" placeholder:"DIR" help:"Also load the rules in DIR."`
	Format string `short:"f" enum:"text,json" default:"text" help:"Output format: ${enum}."`
}

// ruleJSON is a rule as rules list and rules explain print it in JSON.
type ruleJSON struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	For         string            `json:"for"`
	File        string            `json:"file"`
	Doc         string            `json:"doc,omitempty"`
	Severities  []ruleLevelJSON   `json:"severities"`
	Evidence    []ruleLevelJSON   `json:"evidence"`
	Remedy      string            `json:"remedy,omitempty"`
	WrongAdvice []string          `json:"wrong_advice"`
	Reported    map[string]string `json:"reported,omitempty"`
}

type ruleLevelJSON struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

func ruleToJSON(r *analyze.Rule, full bool) ruleJSON {
	s := r.Spec
	j := ruleJSON{ID: s.ID, Name: s.Name, For: s.For, File: s.Path, Severities: []ruleLevelJSON{}, Evidence: []ruleLevelJSON{}, WrongAdvice: []string{}}
	for _, l := range s.Levels {
		j.Severities = append(j.Severities, ruleLevelJSON{l.Name, l.Src})
	}
	if !full {
		return j
	}
	j.Doc, j.Remedy = s.Doc, s.Remedy.Src
	for _, ev := range s.Evidence {
		j.Evidence = append(j.Evidence, ruleLevelJSON{ev.Name, ev.Src})
	}
	for _, wa := range s.WrongAdvice {
		j.WrongAdvice = append(j.WrongAdvice, wa.Src)
	}
	if rp := s.Reported; rp != nil {
		j.Reported = map[string]string{"message": rp.Message, "severity": rp.Severity}
	}
	return j
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // rule expressions keep their && and <
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *rulesListCmd) Run(e *env) error {
	rs, err := loadRules(c.Rules)
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	if c.Format == "json" {
		out := []ruleJSON{}
		for _, r := range rs {
			out = append(out, ruleToJSON(r, false))
		}
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRUNS OVER\tSEVERITIES\tNAME")
	for _, r := range rs {
		var sev []string
		for _, l := range r.Spec.Levels {
			sev = append(sev, l.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Spec.ID, r.Spec.For, strings.Join(sev, ","), r.Spec.Name)
	}
	return tw.Flush()
}

type rulesExplainCmd struct {
	ID     string `arg:"" help:"Rule id (see tcpsnap rules list)."`
	Rules  string `type:"existingdir" placeholder:"DIR" help:"Also load the rules in DIR."`
	Format string `short:"f" enum:"text,json" default:"text" help:"Output format: ${enum}."`
}

func (c *rulesExplainCmd) Run(e *env) error {
	rs, err := loadRules(c.Rules)
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	for _, r := range rs {
		s := r.Spec
		if s.ID != c.ID {
			continue
		}
		if c.Format == "json" {
			return writeJSON(e.stdout, ruleToJSON(r, true))
		}
		w := e.stdout
		fmt.Fprintf(w, "%s — %s\n\n", s.ID, s.Name)
		fmt.Fprintf(w, "%s\n\n", s.Doc)
		fmt.Fprintf(w, "Runs over: %s groups (file %s)\n\nSeverity (first that holds):\n", s.For, s.Path)
		for _, l := range s.Levels {
			fmt.Fprintf(w, "  %-8s %s\n", l.Name, l.Src)
		}
		fmt.Fprintf(w, "\nEvidence:\n")
		for _, ev := range s.Evidence {
			fmt.Fprintf(w, "  %-24s %s\n", ev.Name, ev.Src)
		}
		if s.Remedy.Src != "" {
			fmt.Fprintf(w, "\nFix (template):\n  %s\n", s.Remedy.Src)
		}
		if len(s.WrongAdvice) > 0 {
			fmt.Fprintf(w, "\nWrong advice it corrects:\n")
			for _, wa := range s.WrongAdvice {
				fmt.Fprintf(w, "  - %s\n", wa.Src)
			}
		}
		return nil
	}
	return &exitCodeError{code: exitError, err: fmt.Errorf("no rule %q (see tcpsnap rules list)", c.ID)}
}
