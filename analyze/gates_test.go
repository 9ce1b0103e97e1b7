package analyze

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/rules"
)

// TestGatesNeverHide runs every built-in rule on every group of every
// shipped sample, ticket and format fixture with and without its gate: a
// gate (engine/gate.go) may only skip groups no level accepts.
func TestGatesNeverHide(t *testing.T) {
	rs := builtinRulesForTest(t)
	gated := engine.Gated(rs)
	if len(gated) < len(rs)/2 {
		t.Errorf("only %d of %d rules have a gate: %v", len(gated), len(rs), gated)
	}
	var inputs []string
	samples, _ := filepath.Glob("../samples/*")
	for _, s := range samples {
		if st, err := os.Stat(s); err == nil && st.IsDir() && !strings.HasSuffix(s, "repro") && !strings.HasSuffix(s, "tickets") {
			inputs = append(inputs, s)
		}
	}
	tickets, _ := filepath.Glob("../samples/tickets/*.txt")
	fixtures, _ := filepath.Glob("formats/testdata/*/*")
	inputs = append(append(inputs, tickets...), fixtures...)
	if len(inputs) < 100 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	checked, exact := 0, 0
	for _, in := range inputs {
		snap, err := Load([]string{in}, Options{})
		if err != nil {
			continue // fixtures of broken input
		}
		checked++
		vs, n := engine.GateViolations(snap, rs)
		for _, v := range vs {
			t.Errorf("%s: the gate hides %s", in, v)
		}
		exact += n
	}
	// Exact gates stand for their expressions (the VM does not run):
	// each group one accepted was checked against the expression above.
	if exact < 50 {
		t.Errorf("exact gates accepted only %d groups over all inputs: the check above hardly ran", exact)
	}
	t.Logf("%d inputs, %d of %d rules gated, %d groups accepted by exact gates", checked, len(gated), len(rs), exact)
}

// TestLazyCompileSameReports: rules whose texts are compiled at their
// first finding (engine.CompileLazy, what the command uses for the
// built-in rules) give the reports eager compilation gives, on every
// shipped sample and ticket.
func TestLazyCompileSameReports(t *testing.T) {
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	eager, err := engine.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := engine.CompileLazy(specs)
	if err != nil {
		t.Fatal(err)
	}
	inputs, _ := filepath.Glob("../samples/tickets/*.txt")
	samples, _ := filepath.Glob("../samples/*/scenario.txt")
	for _, s := range samples {
		inputs = append(inputs, filepath.Dir(s))
	}
	compared := 0
	for _, in := range inputs {
		snap, err := Load([]string{in}, Options{})
		if err != nil {
			continue
		}
		a, _ := json.Marshal(engine.Run(snap, eager))
		b, _ := json.Marshal(engine.Run(snap, lazy))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the lazily compiled rules report differently", in)
		}
		compared++
	}
	if compared < 50 {
		t.Fatalf("only %d inputs compared", compared)
	}
}
