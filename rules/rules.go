// Package rules holds tcpsnap's built-in diagnosis rules, one YAML file per
// rule (the file name is the rule id), and reads rule files into Specs. It
// knows YAML and nothing about expressions: package analyze compiles the
// expressions a Spec holds and runs them. See docs/rules.md for the format.
package rules

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed builtin/*.yaml
var builtin embed.FS

// Builtin returns the built-in rule files.
func Builtin() fs.FS {
	sub, err := fs.Sub(builtin, "builtin")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// MaxFileBytes bounds one rule file: rules are untrusted text when users
// pass --rules.
const MaxFileBytes = 64 << 10

// Severities in decreasing order.
var Severities = []string{"critical", "warning", "info"}

// A Spec is one rule as written: expressions are kept as source text with
// the line they start on, for error messages.
type Spec struct {
	ID   string
	Path string // file the rule came from, for messages
	// For names the groups the rule runs over: "process", "listener",
	// "port", "destination" or "snapshot" (once per snapshot).
	For  string
	Name string // short human name
	Doc  string // what the rule detects and why, for `rules explain`
	// Levels are tried in order (critical, warning, info): the first whose
	// expression is true gives the finding's severity; none true = quiet.
	Levels      []Expr
	Title       Expr   // template: text with {expression} holes
	Evidence    []Expr // Name = evidence key, in file order
	Explanation Expr   // template
	Remedy      Expr   // template
	WrongAdvice []Expr // templates
	Limit       int    // most findings one snapshot may get from this rule (default 10)
	// Fold says which of the rule's findings are one cause, shown as one
	// finding naming the others: "owner" (the default), those of one
	// program (eight nginx workers, 28,000 ports of one service); "rule",
	// all of them (a host-wide cause: the ephemeral range overlapping the
	// listeners of 100 programs); "program", for destination rules whose
	// cause is the client program's whichever service it talks to, a
	// program's destinations whatever their ports (envoy opening a
	// connection per request to five upstream ports), and those spread
	// over several programs together.
	Fold string
	// Lead is a number over a group: of the hits folded into one finding,
	// the one where it is largest is the one shown (time-wait-churn:
	// TimeWait, so that the destination nearest to running out of ports
	// leads, not the one with the most sockets). Empty: the first hit, the
	// group with the most sockets.
	Lead Expr
	// Reported lets the rule diagnose from a ticket's words: when a
	// message of this kind is reported about the group (an error or
	// kernel message in the text) and no severity level holds, the rule
	// fires with this severity, title and, if set, explanation.
	Reported *Reported
}

// Reported is a rule's diagnosis from a reported message alone.
type Reported struct {
	Message     string // a message kind: EMFILE, EADDRNOTAVAIL, SYN_FLOOD, ... (docs/rules.md)
	Severity    string
	Title       Expr
	Explanation Expr // optional: the rule's explanation when empty
	When        Expr // optional: a condition (the system, say) the message alone needs
}

// An Expr is one expression or template with its position in the file.
type Expr struct {
	Name string // severity level or evidence key; "" elsewhere
	Src  string
	Line int
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// GroupKinds lists the valid values of Spec.For.
var GroupKinds = []string{"snapshot", "process", "listener", "port", "destination"}

// Load reads every *.yaml file at the top of fsys. All problems are
// reported together, each prefixed with its file and line.
func Load(fsys fs.FS) ([]*Spec, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var specs []*Spec
	var errs []error
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := Parse(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[s.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: rule id %q is also defined in %s", name, s.ID, prev))
			continue
		}
		seen[s.ID] = name
		specs = append(specs, s)
	}
	return specs, errors.Join(errs...)
}

// Parse decodes one rule file strictly: unknown keys, a missing id or
// title, an id that differs from the file name, or an unknown severity or
// group kind are errors with the file and line.
func Parse(name string, data []byte) (*Spec, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: rule file is %d bytes (limit %d)", name, len(data), MaxFileBytes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: a rule file is a YAML mapping (id: ..., for: ..., severity: ..., title: ...)", name)
	}
	m := doc.Content[0]
	s := &Spec{Path: name, Limit: 10}
	var errs []error
	foldLine := 0
	bad := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, n.Line, fmt.Sprintf(format, args...)))
	}
	scalar := func(n *yaml.Node, key string) string {
		if n.Kind != yaml.ScalarNode {
			bad(n, "%s: want a string", key)
			return ""
		}
		return n.Value
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if seen[k.Value] {
			bad(k, "key %q appears twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "id":
			s.ID = scalar(v, "id")
		case "for":
			s.For = scalar(v, "for")
		case "name":
			s.Name = scalar(v, "name")
		case "doc":
			s.Doc = strings.TrimSpace(scalar(v, "doc"))
		case "title":
			s.Title = Expr{Src: strings.TrimSpace(scalar(v, "title")), Line: v.Line}
		case "explanation":
			s.Explanation = Expr{Src: strings.TrimSpace(scalar(v, "explanation")), Line: v.Line}
		case "remedy":
			s.Remedy = Expr{Src: strings.TrimSpace(scalar(v, "remedy")), Line: v.Line}
		case "limit":
			if err := v.Decode(&s.Limit); err != nil || s.Limit < 1 || s.Limit > 1000 {
				bad(v, "limit: want a whole number from 1 to 1000")
			}
		case "lead":
			s.Lead = Expr{Src: strings.TrimSpace(scalar(v, "lead")), Line: v.Line}
		case "fold":
			foldLine = v.Line
			switch s.Fold = scalar(v, "fold"); s.Fold {
			case "owner", "rule", "program":
			default:
				bad(v, "fold: want owner (the findings of one program are one), program (a program's destinations are one, whatever their ports) or rule (all of the rule's findings are one)")
			}
		case "severity":
			if v.Kind != yaml.MappingNode {
				bad(v, "severity: want a mapping of critical/warning/info to expressions")
				continue
			}
			levels := map[string]Expr{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				lk, lv := v.Content[j], v.Content[j+1]
				if !contains(Severities, lk.Value) {
					bad(lk, "severity %q: want one of %s", lk.Value, strings.Join(Severities, ", "))
					continue
				}
				levels[lk.Value] = Expr{Name: lk.Value, Src: strings.TrimSpace(scalar(lv, "severity."+lk.Value)), Line: lv.Line}
			}
			for _, sev := range Severities {
				if e, ok := levels[sev]; ok {
					s.Levels = append(s.Levels, e)
				}
			}
		case "evidence":
			if v.Kind != yaml.MappingNode {
				bad(v, "evidence: want a mapping of names to expressions")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				ek, ev := v.Content[j], v.Content[j+1]
				if !idPattern.MatchString(strings.ReplaceAll(ek.Value, "_", "-")) {
					bad(ek, "evidence name %q: use lower_snake_case", ek.Value)
				}
				s.Evidence = append(s.Evidence, Expr{Name: ek.Value, Src: strings.TrimSpace(scalar(ev, "evidence."+ek.Value)), Line: ev.Line})
			}
		case "wrong_advice":
			if v.Kind != yaml.SequenceNode {
				bad(v, "wrong_advice: want a list of texts")
				continue
			}
			for _, item := range v.Content {
				s.WrongAdvice = append(s.WrongAdvice, Expr{Src: strings.TrimSpace(scalar(item, "wrong_advice")), Line: item.Line})
			}
		case "reported":
			if v.Kind != yaml.MappingNode {
				bad(v, "reported: want a mapping of message, severity, title and explanation")
				continue
			}
			rp := &Reported{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				rk, rv := v.Content[j], v.Content[j+1]
				switch rk.Value {
				case "message":
					rp.Message = scalar(rv, "reported.message")
				case "severity":
					rp.Severity = scalar(rv, "reported.severity")
					if !contains(Severities, rp.Severity) {
						bad(rv, "reported.severity %q: want one of %s", rp.Severity, strings.Join(Severities, ", "))
					}
				case "title":
					rp.Title = Expr{Src: strings.TrimSpace(scalar(rv, "reported.title")), Line: rv.Line}
				case "explanation":
					rp.Explanation = Expr{Src: strings.TrimSpace(scalar(rv, "reported.explanation")), Line: rv.Line}
				case "when":
					rp.When = Expr{Name: "when", Src: strings.TrimSpace(scalar(rv, "reported.when")), Line: rv.Line}
				default:
					bad(rk, "reported: unknown key %q (want message, severity, title, explanation, when)", rk.Value)
				}
			}
			if rp.Message == "" || rp.Severity == "" || rp.Title.Src == "" {
				bad(v, "reported: message, severity and title are required")
			}
			s.Reported = rp
		default:
			bad(k, "unknown key %q (want id, name, for, doc, severity, title, evidence, explanation, remedy, wrong_advice, limit, fold, lead, reported)", k.Value)
		}
	}
	want := strings.TrimSuffix(path.Base(name), ".yaml")
	switch {
	case s.ID == "":
		errs = append(errs, fmt.Errorf("%s: missing id", name))
	case !idPattern.MatchString(s.ID):
		errs = append(errs, fmt.Errorf("%s: id %q: use lower-case words joined by '-'", name, s.ID))
	case s.ID != want:
		errs = append(errs, fmt.Errorf("%s: id %q must equal the file name %q", name, s.ID, want))
	}
	if !contains(GroupKinds, s.For) {
		errs = append(errs, fmt.Errorf("%s: for: %q: want one of %s", name, s.For, strings.Join(GroupKinds, ", ")))
	}
	if s.Fold == "program" && s.For != "destination" {
		errs = append(errs, fmt.Errorf("%s:%d: fold: program folds a program's destinations: the rule must be for: destination", name, foldLine))
	}
	if len(s.Levels) == 0 {
		errs = append(errs, fmt.Errorf("%s: missing severity (at least one of critical, warning, info)", name))
	}
	if s.Title.Src == "" {
		errs = append(errs, fmt.Errorf("%s: missing title", name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
