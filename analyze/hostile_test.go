package analyze

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/rules"
)

// hostileRule builds a rule file whose warning expression is expr (on
// line 4 of the file).
func hostileRule(expr string) []byte {
	return []byte("id: evil\nfor: snapshot\nseverity:\n  warning: " + expr + "\ntitle: t\n")
}

// TestHostileRules feeds rules a malicious user could pass with --rules
// and checks that each is rejected, quickly, with an error naming the
// file and line — and that nothing crashes (expr's parser dies with an
// unrecoverable stack overflow on about 10^6 nested brackets or unary
// operators, libraries.md §1.7, so the guards must stop them first).
func TestHostileRules(t *testing.T) {
	cases := []struct {
		name string
		file []byte
		want string // regexp the error must match
	}{
		{"2 MB of parentheses", hostileRule(strings.Repeat("(", 1<<20) + "true" + strings.Repeat(")", 1<<20)),
			`^evil\.yaml: rule file is \d+ bytes \(limit 65536\)`},
		{"parentheses under the file limit", hostileRule(strings.Repeat("(", 30000) + "true" + strings.Repeat(")", 30000)),
			`^evil\.yaml:4: severity\.warning: expression is 60004 bytes \(limit 4096\)`},
		{"deep but short parentheses", hostileRule(strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40)),
			`^evil\.yaml:4: severity\.warning: expression nests 40 levels \(limit 32\)`},
		{"10^5 nested !", hostileRule("'" + strings.Repeat("!", 100000) + "true'"),
			`^evil\.yaml: rule file is \d+ bytes`},
		{"4000 nested ! (under the size limit)", hostileRule("'" + strings.Repeat("!", 4000) + "true'"),
			`^evil\.yaml:4: severity\.warning: .*maximum allowed nodes`},
		{"4000 nested unary minus", hostileRule(strings.Repeat("-", 4000) + "1 > 0"),
			`^evil\.yaml:4: severity\.warning: .*maximum allowed nodes`},
		{"nested predicates", hostileRule(`any(keys(States), {any(keys(States), {# == "x"})})`),
			`^evil\.yaml:4: severity\.warning: nested predicates are not allowed`},
		{"huge string literal", hostileRule(`'"` + strings.Repeat("x", 50000) + `" == ""'`),
			`^evil\.yaml:4: severity\.warning: expression is 50008 bytes \(limit 4096\)`},
		{"unknown YAML key", []byte("id: evil\nfor: snapshot\nseverity:\n  warning: true\ntitle: t\nrun_shell: rm -rf /\n"),
			`^evil\.yaml:6: unknown key "run_shell"`},
		{"unknown name", hostileRule(`os.Exit(1) == nil`),
			`^evil\.yaml:4: severity\.warning: unknown name os`},
		{"huge template hole", []byte("id: evil\nfor: snapshot\nseverity:\n  warning: true\ntitle: >-\n  {" + strings.Repeat("1+", 3000) + "1}\n"),
			`^evil\.yaml:5: title: \{1\+1\+.*\.\.\.\}: expression is 6001 bytes`},
		{"not a mapping", []byte("- a\n- b\n"), `^evil\.yaml: a rule file is a YAML mapping`},
		// Compile, then exhaust memory or time: refused before they run.
		{"string doubling", hostileRule(`'len(reduce(1..40, #acc + #acc, "x")) > 0'`), `reduce\(\) is not allowed`},
		{"repeat", hostileRule(`'len(repeat("x", 999999)) > 0'`), `repeat\(\) is not allowed`},
		{"slow accumulation", hostileRule(`'len(reduce(1..99000, #acc + "abc", "")) > 0'`), `not allowed|range must`},
		{"huge range", hostileRule(`'count(1..100000000, # > 0) > 0'`), `range must have constant bounds`},
		{"computed range", hostileRule(`'count(1..Sockets, # > 0) > 0'`), `range must have constant bounds`},
		{"the clock", hostileRule(`'now().Year() > 2000'`), `now\(\) is not allowed|clock`},
		{"a date", hostileRule(`'date("2024-01-01").Year() > 2000'`), `date\(\) is not allowed|clock`},
		{"YAML alias bomb", []byte("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nid: evil\n"),
			`^evil\.yaml`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := parseAndCompile("evil.yaml", tc.file)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !regexp.MustCompile(tc.want).MatchString(msg) {
				t.Errorf("error %.300q does not match %q", msg, tc.want)
			}
			if len(msg) > 2000 {
				t.Errorf("error is %d bytes: it should not echo the hostile source", len(msg))
			}
		})
	}
}

func parseAndCompile(name string, data []byte) error {
	s, err := rules.Parse(name, data)
	if err != nil {
		return err
	}
	_, err = engine.Compile([]*rules.Spec{s})
	return err
}

// TestHostileRulesAtRunTime: expressions that compile but would allocate
// without bound stop at the VM memory budget and become a report problem.
func TestHostileRulesAtRunTime(t *testing.T) {
	for _, src := range []string{
		`len(map(1..10000, 1..10000)) > 0`,
		`len(toJSON(map(1..10000, 1..10000))) > 0`,
	} {
		s, err := rules.Parse("evil.yaml", hostileRule("'"+src+"'"))
		if err != nil {
			t.Fatal(err)
		}
		rs, err := engine.Compile([]*rules.Spec{s})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		snap := &model.Snapshot{Samples: []*model.Sample{{Counters: map[string]int64{}}}, Sysctls: map[string]string{}, Files: map[string]string{}}
		start := time.Now()
		rep := engine.Run(snap, rs)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", src, d)
		}
		if len(rep.Findings) != 0 || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Message, "memory budget") {
			t.Errorf("%s: findings %v problems %v", src, rep.Findings, rep.Problems)
		}
	}
}
