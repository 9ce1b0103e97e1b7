package rules_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/rules"
	"github.com/tcpsnap/tcpsnap/rules/ruletest"
)

func builtinRules(t *testing.T) []*analyze.Rule {
	t.Helper()
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if !strings.HasSuffix(s.Path, s.ID+".yaml") {
			t.Errorf("%s: id %s differs from the file name", s.Path, s.ID)
		}
	}
	rs, err := analyze.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestBuiltinFixtures runs every built-in rule against its fixtures in
// testdata/<id>/ and requires at least one firing and one quiet case.
func TestBuiltinFixtures(t *testing.T) {
	rs := builtinRules(t)
	for _, res := range ruletest.RunRules(rs, os.DirFS("."), true, t.TempDir()) {
		t.Run(res.Rule+"/"+res.Case, func(t *testing.T) {
			if !res.OK {
				t.Errorf("%s: %s", res.Path, res.Reason)
			}
		})
	}
}

// TestFixtureDirsHaveRules catches fixtures left behind by a renamed rule.
func TestFixtureDirsHaveRules(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range builtinRules(t) {
		ids[r.Spec.ID] = true
	}
	ents, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() && !ids[e.Name()] && e.Name() != "hostile" {
			t.Errorf("testdata/%s: no built-in rule has this id", e.Name())
		}
	}
}

// TestFoldKey: fold takes owner, rule or (for destination rules) program,
// and says what else it takes.
func TestFoldKey(t *testing.T) {
	rule := func(kind, fold string) []byte {
		return []byte("id: x\nfor: " + kind + "\nseverity:\n  info: Sockets > 0\ntitle: t\nexplanation: e\nremedy: r\n" + fold)
	}
	for _, tc := range []struct{ kind, line, want, err string }{
		{"port", "", "", ""},
		{"port", "fold: owner\n", "owner", ""},
		{"port", "fold: rule\n", "rule", ""},
		{"port", "fold: host\n", "", "x.yaml:8: fold: want owner"},
		{"destination", "fold: program\n", "program", ""},
		{"port", "fold: program\n", "", "x.yaml:8: fold: program folds a program's destinations: the rule must be for: destination"},
	} {
		s, err := rules.Parse("x.yaml", rule(tc.kind, tc.line))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.line, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.line, err)
		case tc.err == "" && s.Fold != tc.want:
			t.Errorf("%q: fold %q, want %q", tc.line, s.Fold, tc.want)
		}
	}
}
