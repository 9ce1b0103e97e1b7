package engine

import (
	"fmt"

	"github.com/expr-lang/expr/vm"
	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// ExplainGroups is how many of the largest groups Explain shows (plus
// every group the rule fired on).
const ExplainGroups = 20

// An Explanation shows what one rule saw in one snapshot, group by group.
type Explanation struct {
	Rule   string
	For    string // the group kind the rule runs over
	Groups []GroupTrace
	Total  int // groups of that kind in the snapshot
	Fired  int // groups the rule fired on
}

// A GroupTrace is one group as the rule saw it.
type GroupTrace struct {
	Key      string
	Subject  string // the group's owner or key, for people
	Sockets  int
	Levels   []Value // each severity expression and its result, in order
	Evidence []Value
	Severity string // "" when quiet
	Title    string // when it fired
	Why      string
}

// A Value is one expression of the rule and its result on the group.
type Value struct {
	Name  string // severity level or evidence key
	Src   string
	Value any
	Err   string // evaluation error, if any
}

// Explain evaluates one rule on every group of its kind and reports the
// values behind each verdict: the 20 largest groups and every group it
// fired on, largest first.
func Explain(s *model.Snapshot, r *Rule) *Explanation {
	facts := NewFacts(s)
	gs := GroupsOf(s, facts)
	list := gs.ByKind(r.Spec.For)
	ex := &Explanation{Rule: r.Spec.ID, For: r.Spec.For, Total: len(list)}
	m := &vm.VM{MemoryBudget: memoryBudget}
	for i, g := range list {
		env := &Env{Group: g, Facts: facts}
		t := GroupTrace{Key: g.Key, Subject: subjectOf(g), Sockets: g.Sockets}
		for j, lv := range r.Spec.Levels {
			var v any
			p, err := r.level(j)
			if err == nil {
				v, err = m.Run(p, env)
			}
			val := Value{Name: lv.Name, Src: lv.Src, Value: v}
			if err != nil {
				val.Err = oneLine(err)
			}
			t.Levels = append(t.Levels, val)
			if b, _ := v.(bool); b && t.Severity == "" && err == nil {
				t.Severity = lv.Name
				t.Why = fmt.Sprintf("%s holds: %s", lv.Name, lv.Src)
			}
		}
		if t.Severity == "" {
			t.Why = "no severity expression holds, so the rule stays quiet"
		} else {
			ex.Fired++
		}
		if i >= ExplainGroups && t.Severity == "" {
			continue
		}
		if err := r.ready(); err != nil {
			t.Title = "(" + oneLine(err) + ")"
			ex.Groups = append(ex.Groups, t)
			continue
		}
		for j, p := range r.evidence {
			v, err := m.Run(p, env)
			val := Value{Name: r.Spec.Evidence[j].Name, Src: r.Spec.Evidence[j].Src, Value: v}
			if err != nil {
				val.Err = oneLine(err)
			}
			t.Evidence = append(t.Evidence, val)
		}
		if t.Severity != "" {
			if title, err := r.title.render(m, env); err == nil {
				t.Title = title
			} else {
				t.Title = "(title: " + oneLine(err) + ")"
			}
		}
		ex.Groups = append(ex.Groups, t)
	}
	return ex
}

func subjectOf(g *group.Group) string {
	switch g.Kind {
	case "snapshot":
		return "the snapshot"
	case "listener":
		return g.Owner + " listening on " + g.Key
	case "port":
		return g.Owner + " on " + g.Key
	case "destination":
		return g.Owner + " to " + g.Remote + " from " + g.LocalAddr
	}
	return g.Owner
}
