package engine

import (
	"math"
	"reflect"
	"unsafe"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// A gate is a cheap necessary condition for a rule to fire on a group,
// derived from the rule's severity expressions: "TimeWait >= 200 ||
// TimeWait >= 0.25 * PortRangeSize" can only hold on a group whose
// TimeWait reaches the smaller of 200 and a quarter of the port range,
// which one snapshot fixes. Run skips the groups a gate rejects without
// starting the expression VM, so a rule's cost follows the groups that
// could fire, not the million that cannot (issue 12). A gate never
// rejects a group a level would accept (TestGatesNeverHide checks this
// over every sample and ticket); where a level's shape is not understood
// the rule has no gate and runs on every group.
//
// The derivation understands conjunctions and disjunctions of:
//   - sub-expressions over snapshot facts alone (OS, HasListeners,
//     Counter(...), PortRangeSize ...), evaluated once per snapshot;
//   - comparisons "term >= x", "term > x", "term == x" (or mirrored) of a
//     group term with a facts-only x, where a term is a numeric group
//     field, a sum or difference of them, or CloseRate(...) (0 without
//     TIME_WAIT); "field <= x" and "field < x" of a single field;
//   - boolean group fields, and their negations (a field is exact: "!Listening");
//   - PortReserved(field) of an integer field, and its negation;
//   - Reported(...), false on a group without messages (groups with
//     messages skip the gate).
//
// A level made only of those parts, with no difference, helper or
// dropped part among them, has an exact gate: the gate is the expression
// (sums of integer fields and constants below 2^53, which floating point
// holds exactly), and Run takes the gate's answer without the VM.
// TestGatesNeverHide checks both ways on every sample, ticket and
// fixture, and TestExactGatesMatchExpressions on thousands of generated
// expressions and groups.
type gateExpr interface{}

type (
	gateAnd   struct{ a, b gateExpr }
	gateOr    struct{ a, b gateExpr }
	gateFacts struct{ prog *vm.Program } // a boolean over facts alone
	gateBool  struct{ field int }        // a boolean group field
	gateNot   struct{ field int }        // a boolean group field's negation
	gateFalse struct{}
	// gateReserved is PortReserved(field), or its negation.
	gateReserved struct {
		field int
		not   bool
	}
	// gateLoose is a gate that only bounds its expression: a part of
	// the expression was not understood and left out.
	gateLoose struct{ g gateExpr }
	gateCmp   struct {
		term     gateTerm
		op       string      // ">=", ">", "=="; "<=", "<" for a single field
		rhs      *vm.Program // facts alone; nil: rhsConst or rhsField
		rhsConst float64
		rhsField int // >= 0: a group field, read per group
	}
)

// A gateTerm bounds a group term from above.
type gateTerm struct {
	plus  []int // group fields added
	minus int   // group fields subtracted (each at least -1)
	// zeroUnless >= 0: the term is 0 when that field is 0, else unbounded
	// (a helper such as CloseRate).
	zeroUnless int
}

// upper returns an upper bound of the term's value on g.
func (t gateTerm) upper(v unsafe.Pointer) float64 {
	if t.zeroUnless >= 0 {
		if fieldNum(v, t.zeroUnless) == 0 {
			return 0
		}
		return math.Inf(1)
	}
	sum := float64(t.minus)
	for _, f := range t.plus {
		sum += fieldNum(v, f)
	}
	return sum
}

// fieldNum reads group field i (by index in Group) from a *Group as a
// number: the gate runs on every group, so it reads memory at the
// field's offset instead of going through reflect.
func fieldNum(g unsafe.Pointer, i int) float64 {
	at := unsafe.Add(g, fieldOffset[i])
	switch fieldKind[i] {
	case reflect.Float64:
		return *(*float64)(at)
	case reflect.Bool:
		if *(*bool)(at) {
			return 1
		}
		return 0
	case reflect.Int64:
		return float64(*(*int64)(at))
	}
	return float64(*(*int)(at))
}

// intFields reports whether the group fields fs are all integers.
func intFields(fs []int) bool {
	for _, f := range fs {
		if k := fieldKind[f]; k != reflect.Int && k != reflect.Int64 {
			return false
		}
	}
	return true
}

// The names a rule can read, by owner: the group's fields and methods,
// and the snapshot facts'. A name both have is left alone.
var (
	groupType   = reflect.TypeOf(group.Group{})
	groupFields = map[string]int{} // numeric or boolean field -> index
	groupNames  = map[string]bool{}
	fieldOffset []uintptr      // by field index
	fieldKind   []reflect.Kind // by field index
	factsNames  = map[string]bool{}
	// zeroWithout: group helpers that return 0 when a field is 0.
	zeroWithout = map[string]string{"CloseRate": "TimeWait", "DistinctRemotes": "Sockets"}
)

func init() {
	for i := range groupType.NumField() {
		f := groupType.Field(i)
		fieldOffset = append(fieldOffset, f.Offset)
		fieldKind = append(fieldKind, f.Type.Kind())
		if !f.IsExported() {
			continue
		}
		groupNames[f.Name] = true
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Float64, reflect.Bool:
			groupFields[f.Name] = i
		}
	}
	gt := reflect.TypeOf(&group.Group{})
	for i := range gt.NumMethod() {
		groupNames[gt.Method(i).Name] = true
	}
	ft := reflect.TypeOf(Facts{})
	for i := range ft.NumField() {
		if f := ft.Field(i); f.IsExported() {
			factsNames[f.Name] = true
		}
	}
	pt := reflect.TypeOf(&Facts{})
	for i := range pt.NumMethod() {
		factsNames[pt.Method(i).Name] = true
	}
	for n := range factsNames {
		if groupNames[n] {
			delete(groupFields, n)
		}
	}
}

// deriveGate returns the gate of one severity expression, nil when its
// shape is not understood.
func deriveGate(src string) gateExpr {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	hasLet := false
	ast.Walk(&tree.Node, visitor(func(n *ast.Node) {
		if _, ok := (*n).(*ast.VariableDeclaratorNode); ok {
			hasLet = true // a name may mean a variable, not a field
		}
	}))
	if hasLet {
		return nil
	}
	return gateOf(tree.Node)
}

func gateOf(n ast.Node) gateExpr {
	if factsOnly(n) {
		if p, err := compileExpr(n.String(), expr.AsBool()); err == nil {
			return gateFacts{p}
		}
		return nil
	}
	switch x := n.(type) {
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and":
			a, b := gateOf(x.Left), gateOf(x.Right)
			switch {
			case a == nil && b == nil:
				return nil
			case a == nil:
				return gateLoose{b}
			case b == nil:
				return gateLoose{a}
			}
			return gateAnd{a, b}
		case "||", "or":
			a, b := gateOf(x.Left), gateOf(x.Right)
			if a == nil || b == nil {
				return nil
			}
			return gateOr{a, b}
		case ">=", ">", "==":
			return gateCompare(x.Left, x.Operator, x.Right)
		case "<=", "<":
			// "Backlog <= 128": a single field is exact, so it bounds
			// from below too; else "10 < TimeWait", mirrored.
			if id, ok := x.Left.(*ast.IdentifierNode); ok {
				if _, ok := groupFields[id.Value]; ok {
					return gateCompare(x.Left, x.Operator, x.Right)
				}
			}
			return gateCompare(x.Right, map[string]string{"<=": ">=", "<": ">"}[x.Operator], x.Left)
		}
	case *ast.IdentifierNode:
		if i, ok := groupFields[x.Value]; ok && groupType.Field(i).Type.Kind() == reflect.Bool {
			return gateBool{i}
		}
	case *ast.UnaryNode:
		if x.Operator != "!" && x.Operator != "not" {
			break
		}
		if id, ok := x.Node.(*ast.IdentifierNode); ok {
			if i, ok := groupFields[id.Value]; ok && groupType.Field(i).Type.Kind() == reflect.Bool {
				return gateNot{i}
			}
		}
		if r, ok := reservedOf(x.Node); ok {
			r.not = true
			return r
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && id.Value == "Reported" {
			return gateFalse{}
		}
		if r, ok := reservedOf(x); ok {
			return r
		}
	}
	return nil
}

// reservedOf reads "PortReserved(field)" of an integer group field.
func reservedOf(n ast.Node) (gateReserved, bool) {
	c, ok := n.(*ast.CallNode)
	if !ok || len(c.Arguments) != 1 {
		return gateReserved{}, false
	}
	if id, ok := c.Callee.(*ast.IdentifierNode); !ok || id.Value != "PortReserved" || groupNames[id.Value] {
		return gateReserved{}, false
	}
	if id, ok := c.Arguments[0].(*ast.IdentifierNode); ok {
		if i, ok := groupFields[id.Value]; ok && groupType.Field(i).Type.Kind() == reflect.Int {
			return gateReserved{field: i}, true
		}
	}
	return gateReserved{}, false
}

// gateCompare is the gate of "l op r" (op one of >=, >, ==).
func gateCompare(l ast.Node, op string, r ast.Node) gateExpr {
	t, ok := termOf(l)
	if !ok {
		return nil
	}
	if id, ok := r.(*ast.IdentifierNode); ok {
		// "AcceptQueue >= Backlog": the other side is a group field,
		// read per group.
		if i, ok := groupFields[id.Value]; ok && groupType.Field(i).Type.Kind() != reflect.Bool {
			return gateCmp{term: t, op: op, rhsField: i}
		}
	}
	if !factsOnly(r) {
		return nil
	}
	c := gateCmp{term: t, op: op, rhsField: -1}
	switch v := r.(type) {
	case *ast.IntegerNode:
		c.rhsConst = float64(v.Value)
	case *ast.FloatNode:
		c.rhsConst = v.Value
	default:
		p, err := compileExpr(r.String())
		if err != nil {
			return nil
		}
		c.rhs = p
	}
	return c
}

// termOf reads a group term.
func termOf(n ast.Node) (gateTerm, bool) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		if i, ok := groupFields[x.Value]; ok {
			return gateTerm{plus: []int{i}, zeroUnless: -1}, true
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok {
			if f := zeroWithout[id.Value]; f != "" {
				if i, ok := groupFields[f]; ok {
					return gateTerm{zeroUnless: i}, true
				}
			}
		}
	case *ast.BinaryNode:
		a, ok := termOf(x.Left)
		if !ok || a.zeroUnless >= 0 {
			return gateTerm{}, false
		}
		switch x.Operator {
		case "+":
			b, ok := termOf(x.Right)
			if !ok || b.zeroUnless >= 0 {
				return gateTerm{}, false
			}
			return gateTerm{plus: append(append([]int(nil), a.plus...), b.plus...), minus: a.minus + b.minus, zeroUnless: -1}, true
		case "-":
			b, ok := termOf(x.Right)
			if !ok || b.zeroUnless >= 0 {
				return gateTerm{}, false
			}
			// Subtracting fields of at least -1 adds at most 1 each.
			return gateTerm{plus: a.plus, minus: a.minus + len(b.plus) - b.minus, zeroUnless: -1}, true
		}
	}
	return gateTerm{}, false
}

// factsOnly reports whether an expression reads snapshot facts and
// literals only: no group name, no closure argument (#), no predicate.
func factsOnly(n ast.Node) bool {
	ok := true
	ast.Walk(&n, visitor(func(n *ast.Node) {
		switch x := (*n).(type) {
		case *ast.IdentifierNode:
			if !factsNames[x.Value] || groupNames[x.Value] {
				ok = false
			}
		case *ast.PointerNode, *ast.PredicateNode, *ast.VariableDeclaratorNode:
			ok = false
		}
	}))
	return ok
}

// levelGates instantiates the gate of each severity level for one
// snapshot, parallel to r.levels: nil when some level has none. A level
// whose gate rejects a group (without messages) cannot accept it, and
// its expression is not run. A level whose gate is exact (every part of
// its expression understood) accepts exactly the groups its gate lets
// through, and its expression is not run either: 28,000 listeners inside
// the port range each fire one (issue 12).
func (r *Rule) levelGates(facts *Facts) []levelGate {
	if r.gates == nil {
		return nil
	}
	m := &vm.VM{MemoryBudget: memoryBudget}
	env := &Env{Group: &group.Group{}, Facts: facts}
	var preds []levelGate
	for _, g := range r.gates {
		p, ok, exact := instantiate(g, m, env)
		if !ok {
			return nil // a level the gate cannot judge: run everywhere
		}
		preds = append(preds, levelGate{p, exact})
	}
	return preds
}

// A levelGate is a level's gate for one snapshot: pass is a necessary
// condition of the level's expression, and a sufficient one too when
// exact.
type levelGate struct {
	pass  func(unsafe.Pointer) bool
	exact bool
}

// instantiate turns a gate into a predicate for one snapshot, evaluating
// its facts-only parts once, and says whether the predicate is the
// expression itself (exact) or only bounds it.
func instantiate(g gateExpr, m *vm.VM, env *Env) (pred func(unsafe.Pointer) bool, ok, exact bool) {
	never := func(unsafe.Pointer) bool { return false }
	always := func(unsafe.Pointer) bool { return true }
	switch x := g.(type) {
	case gateFalse:
		return never, true, true // a group with messages skips the gate
	case gateLoose:
		p, ok, _ := instantiate(x.g, m, env)
		return p, ok, false
	case gateFacts:
		v, err := m.Run(x.prog, env)
		if err != nil {
			return nil, false, false
		}
		b, isBool := v.(bool)
		if b {
			return always, true, isBool
		}
		return never, true, isBool
	case gateBool:
		off := fieldOffset[x.field]
		return func(v unsafe.Pointer) bool { return *(*bool)(unsafe.Add(v, off)) }, true, true
	case gateNot:
		off := fieldOffset[x.field]
		return func(v unsafe.Pointer) bool { return !*(*bool)(unsafe.Add(v, off)) }, true, true
	case gateReserved:
		f, not := x.field, x.not
		if env.Facts.Sysctl("net.ipv4.ip_local_reserved_ports") == "" {
			// Nothing reserved: the same for every group.
			if not {
				return always, true, true
			}
			return never, true, true
		}
		facts := env.Facts
		return func(v unsafe.Pointer) bool { return facts.PortReserved(int(fieldNum(v, f))) != not }, true, true
	case gateCmp:
		c := x.rhsConst
		if x.rhs != nil {
			v, err := m.Run(x.rhs, env)
			if err != nil {
				return nil, false, false
			}
			n, ok := number(v)
			if !ok {
				return nil, false, false
			}
			c = n
		}
		if math.IsNaN(c) {
			return nil, false, false
		}
		t := x.term
		// The term's bound is its value when it adds fields only — one
		// field, or integer ones, whose sum floating point gets exactly
		// (below 2^53: counts of sockets and ports are far below) — and is
		// compared with a number floating point holds exactly.
		exact := t.zeroUnless < 0 && t.minus == 0 && (len(t.plus) == 1 || intFields(t.plus)) && math.Abs(c) < 1<<53
		if f := x.rhsField; f >= 0 {
			switch x.op {
			case ">":
				return func(v unsafe.Pointer) bool { return t.upper(v) > fieldNum(v, f) }, true, exact
			case "<=":
				return func(v unsafe.Pointer) bool { return t.upper(v) <= fieldNum(v, f) }, true, exact
			case "<":
				return func(v unsafe.Pointer) bool { return t.upper(v) < fieldNum(v, f) }, true, exact
			case "==":
				if exact {
					return func(v unsafe.Pointer) bool { return t.upper(v) == fieldNum(v, f) }, true, true
				}
			}
			return func(v unsafe.Pointer) bool { return t.upper(v) >= fieldNum(v, f) }, true, exact
		}
		switch x.op {
		case ">":
			return func(v unsafe.Pointer) bool { return t.upper(v) > c }, true, exact
		case "<=": // t is one field: upper is its value
			return func(v unsafe.Pointer) bool { return t.upper(v) <= c }, true, exact
		case "<":
			return func(v unsafe.Pointer) bool { return t.upper(v) < c }, true, exact
		case "==":
			if exact {
				return func(v unsafe.Pointer) bool { return t.upper(v) == c }, true, true
			}
		}
		return func(v unsafe.Pointer) bool { return t.upper(v) >= c }, true, exact
	case gateAnd:
		a, ok1, ex1 := instantiate(x.a, m, env)
		b, ok2, ex2 := instantiate(x.b, m, env)
		switch {
		case !ok1 && !ok2:
			return nil, false, false
		case !ok1:
			return b, true, false
		case !ok2:
			return a, true, false
		}
		return func(v unsafe.Pointer) bool { return a(v) && b(v) }, true, ex1 && ex2
	case gateOr:
		a, ok1, ex1 := instantiate(x.a, m, env)
		b, ok2, ex2 := instantiate(x.b, m, env)
		if !ok1 || !ok2 {
			return nil, false, false
		}
		return func(v unsafe.Pointer) bool { return a(v) || b(v) }, true, ex1 && ex2
	}
	return nil, false, false
}

// GateViolations runs every rule on every group of a snapshot with and
// without its gate and lists where the gate rejected a group some level
// accepts ("rule on group: severity"): always none, or a gate is wrong.
// Tests run it over every sample and ticket. It also counts the groups
// an exact gate accepted, each checked against its expression.
func GateViolations(s *model.Snapshot, rs []*Rule) (out []string, exactAccepts int) {
	facts := NewFacts(s)
	gs := GroupsOf(s, facts)
	group.ApplyEvidence(gs, s.Latest(), s.Evidence)
	m := &vm.VM{MemoryBudget: memoryBudget}
	for _, r := range rs {
		levels := r.levelGates(facts)
		if levels == nil {
			continue
		}
		for _, g := range gs.ByKind(r.Spec.For) {
			if len(g.Messages) > 0 {
				continue
			}
			for i, lg := range levels {
				pass := lg.pass(unsafe.Pointer(g))
				if pass && !lg.exact {
					continue
				}
				if pass {
					exactAccepts++
				}
				// The level's gate rejects the group: its expression
				// must too. An exact gate that lets it through stands
				// for the expression: it must accept it.
				p, err := r.level(i)
				if err != nil {
					out = append(out, r.Spec.ID+": "+err.Error())
					continue
				}
				v, err := m.Run(p, &Env{Group: g, Facts: facts})
				if b, _ := v.(bool); err == nil && b != pass {
					what := ""
					if pass {
						what = " (exact gate accepts, expression rejects)"
					}
					out = append(out, r.Spec.ID+" on "+g.Key+": "+r.Spec.Levels[i].Name+what)
				}
			}
		}
	}
	return out, exactAccepts
}

// Gated lists the IDs of the rules that have a gate (docs and tests).
func Gated(rs []*Rule) []string {
	var out []string
	for _, r := range rs {
		if r.gates != nil {
			out = append(out, r.Spec.ID)
		}
	}
	return out
}
