package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/rules"
)

// Guards for rule text, which is untrusted when users pass --rules
// (libraries.md §1.7: expr's parser can overflow the stack on deep
// nesting, and nested predicates are O(n²)).
const (
	maxExprBytes = 4 << 10
	maxExprDepth = 32
	maxExprNodes = 1000
)

// A Rule is a compiled rules.Spec.
type Rule struct {
	Spec *rules.Spec
	// levels are the severity levels' programs, each compiled once: by
	// Compile, or by CompileLazy when first run — most levels of most
	// rules are never run on a given snapshot, their gates reject every
	// group or stand for them (exact).
	levels      []lazyProgram
	title       *template
	evidence    []*vm.Program
	explanation *template
	remedy      *template
	wrong       []*template
	// reported: the title and explanation of a diagnosis from a message
	// alone (Spec.Reported); nil when the rule has none.
	repTitle, repExplanation *template
	repWhen                  *vm.Program // nil: always
	lead                     *vm.Program // Spec.Lead; nil: none
	// rest compiles the evidence and texts once (see CompileLazy);
	// restErr is what it found.
	rest    sync.Once
	restErr error
	// gates: one per level (see gate.go); nil when some level has none.
	gates []gateExpr
}

// A template is text with {expression} holes.
type template struct {
	text  []string // len(text) == len(progs)+1
	progs []*vm.Program
}

// Compile type-checks every expression of every spec against Env. All
// errors are returned together, each as "file:line: field: message".
func Compile(specs []*rules.Spec) ([]*Rule, error) { return compile(specs, false) }

// CompileLazy compiles what every analysis runs — the severity levels'
// gates, reported.when, lead — and leaves the levels to the first group
// that needs one run, and the titles, explanations, evidence and advice
// to the first finding that needs them: 38 rules hold some 600
// expressions, most in text only a firing rule renders.
// For rules already known to compile (the built-in ones, which tests
// compile with Compile); an error found later is the rendering's.
func CompileLazy(specs []*rules.Spec) ([]*Rule, error) { return compile(specs, true) }

func compile(specs []*rules.Spec, lazy bool) ([]*Rule, error) {
	var out []*Rule
	var errs []error
	for _, s := range specs {
		r := &Rule{Spec: s}
		fail := func(e rules.Expr, field string, err error) {
			errs = append(errs, fmt.Errorf("%s:%d: %s: %s", s.Path, e.Line, field, oneLine(err)))
		}
		r.levels = make([]lazyProgram, len(s.Levels))
		if !lazy {
			for i := range s.Levels {
				if _, err := r.level(i); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for _, lv := range s.Levels {
			g := deriveGate(lv.Src)
			if g == nil {
				r.gates = nil
				break
			}
			r.gates = append(r.gates, g)
		}
		if s.Lead.Src != "" {
			var err error
			if r.lead, err = compileExpr(s.Lead.Src, expr.AsFloat64()); err != nil {
				fail(s.Lead, "lead", err)
			}
		}
		if rp := s.Reported; rp != nil && rp.When.Src != "" {
			var err error
			if r.repWhen, err = compileExpr(rp.When.Src, expr.AsBool()); err != nil {
				fail(rp.When, "reported.when", err)
			}
		}
		if !lazy {
			r.rest.Do(func() { r.compileRest(fail) })
		}
		out = append(out, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// A lazyProgram is an expression compiled when first asked for.
type lazyProgram struct {
	once sync.Once
	p    *vm.Program
	err  error
}

// level returns level i's program, compiled once.
func (r *Rule) level(i int) (*vm.Program, error) {
	l := &r.levels[i]
	l.once.Do(func() {
		lv := r.Spec.Levels[i]
		var err error
		if l.p, err = compileExpr(lv.Src, expr.AsBool()); err != nil {
			l.err = fmt.Errorf("%s:%d: severity.%s: %s", r.Spec.Path, lv.Line, lv.Name, oneLine(err))
		}
	})
	return l.p, l.err
}

// ready compiles what CompileLazy left, once.
func (r *Rule) ready() error {
	r.rest.Do(func() {
		var errs []error
		r.compileRest(func(e rules.Expr, field string, err error) {
			errs = append(errs, fmt.Errorf("%s:%d: %s: %s", r.Spec.Path, e.Line, field, oneLine(err)))
		})
		r.restErr = errors.Join(errs...)
	})
	return r.restErr
}

// compileRest compiles a rule's evidence and texts.
func (r *Rule) compileRest(fail func(e rules.Expr, field string, err error)) {
	s := r.Spec
	for _, ev := range s.Evidence {
		p, err := compileExpr(ev.Src)
		if err != nil {
			fail(ev, "evidence."+ev.Name, err)
		}
		r.evidence = append(r.evidence, p)
	}
	var err error
	if r.title, err = compileTemplate(s.Title.Src); err != nil {
		fail(s.Title, "title", err)
	}
	if r.explanation, err = compileTemplate(s.Explanation.Src); err != nil {
		fail(s.Explanation, "explanation", err)
	}
	if r.remedy, err = compileTemplate(s.Remedy.Src); err != nil {
		fail(s.Remedy, "remedy", err)
	}
	if rp := s.Reported; rp != nil {
		if r.repTitle, err = compileTemplate(rp.Title.Src); err != nil {
			fail(rp.Title, "reported.title", err)
		}
		if rp.Explanation.Src != "" {
			if r.repExplanation, err = compileTemplate(rp.Explanation.Src); err != nil {
				fail(rp.Explanation, "reported.explanation", err)
			}
		}
	}
	for _, w := range s.WrongAdvice {
		t, err := compileTemplate(w.Src)
		if err != nil {
			fail(w, "wrong_advice", err)
		}
		r.wrong = append(r.wrong, t)
	}
}

// oneLine keeps an expr error's message and position but drops the
// source snippet (which may be long), so messages stay one line.
func oneLine(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

var (
	compileMu sync.Mutex
	envConfig *conf.Config // the environment's description, shared by compiles
)

func compileExpr(src string, opts ...expr.Option) (*vm.Program, error) {
	if err := checkShape(src); err != nil {
		return nil, err
	}
	// The rules' environment is described once, and every expression
	// checked against that description: describing it per expression
	// (expr.Env) was most of compiling 38 rules (0.1 s, on the critical
	// path of an analysis). The description caches what it learns as
	// expressions ask, so compiles take turns.
	compileMu.Lock()
	defer compileMu.Unlock()
	if envConfig == nil {
		envConfig = conf.New(Env{})
	}
	var used *conf.Config
	opts = append([]expr.Option{func(c *conf.Config) {
		c.EnvObject, c.Env, c.Strict, c.NtCache = envConfig.EnvObject, envConfig.Env, envConfig.Strict, envConfig.NtCache
		used = c
	}, expr.MaxNodes(maxExprNodes),
		// No clock (a report must not depend on when it ran) and no
		// builtin that makes a string or list as large as its argument.
		expr.DisableBuiltin("now"), expr.DisableBuiltin("date"), expr.DisableBuiltin("timezone"),
		expr.DisableBuiltin("repeat")}, opts...)
	p, err := expr.Compile(src, opts...)
	if used != nil {
		// The type cache's maps are made on first use: keep them, so
		// that the next compile shares what this one learned.
		envConfig.NtCache = used.NtCache
	}
	return p, err
}

// checkShape rejects rule text expr would choke on before expr sees it.
func checkShape(src string) error {
	if strings.TrimSpace(src) == "" {
		return errors.New("empty expression")
	}
	if len(src) > maxExprBytes {
		return fmt.Errorf("expression is %d bytes (limit %d)", len(src), maxExprBytes)
	}
	depth, deepest := 0, 0
	for _, c := range src { // over-counts brackets inside strings; fine for a guard
		switch c {
		case '(', '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ')', ']', '}':
			depth--
		}
	}
	if deepest > maxExprDepth {
		return fmt.Errorf("expression nests %d levels (limit %d)", deepest, maxExprDepth)
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return err
	}
	var preds []ast.Node
	var bad error
	ast.Walk(&tree.Node, visitor(func(n *ast.Node) {
		switch x := (*n).(type) {
		case *ast.PredicateNode:
			preds = append(preds, *n)
		case *ast.BuiltinNode:
			if forbidden[x.Name] != "" && bad == nil {
				bad = fmt.Errorf("%s() is not allowed in rules: %s", x.Name, forbidden[x.Name])
			}
		case *ast.CallNode:
			if id, ok := x.Callee.(*ast.IdentifierNode); ok && forbidden[id.Value] != "" && bad == nil {
				bad = fmt.Errorf("%s() is not allowed in rules: %s", id.Value, forbidden[id.Value])
			}
		case *ast.BinaryNode:
			if x.Operator == ".." && bad == nil {
				lo, ok1 := x.Left.(*ast.IntegerNode)
				hi, ok2 := x.Right.(*ast.IntegerNode)
				if !ok1 || !ok2 || hi.Value-lo.Value > maxRange {
					bad = fmt.Errorf("a range must have constant bounds at most %d apart", maxRange)
				}
			}
		}
	}))
	if bad != nil {
		return bad
	}
	for _, p := range preds {
		inner := 0
		ast.Walk(&p, visitor(func(n *ast.Node) {
			if _, ok := (*n).(*ast.PredicateNode); ok {
				inner++
			}
		}))
		if inner > 1 {
			return errors.New("nested predicates are not allowed (their cost grows with the square of the input)")
		}
	}
	return nil
}

// forbidden builtins, with the reason: rules read a snapshot and nothing
// else, and their cost must not depend on an argument's value.
var forbidden = map[string]string{
	"now":      "a report must not depend on the clock",
	"date":     "a report must not depend on the clock",
	"timezone": "a report must not depend on the clock",
	"repeat":   "it builds a string as long as its argument",
	"reduce":   "its accumulator can grow without bound",
}

// maxRange bounds the size of a range literal (1..10).
const maxRange = 10_000

type visitor func(*ast.Node)

func (v visitor) Visit(n *ast.Node) { v(n) }

// compileTemplate splits "text {expr} text" and compiles each hole.
// "{{" and "}}" stand for literal braces.
func compileTemplate(src string) (*template, error) {
	t := &template{}
	var text strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '{' && i+1 < len(src) && src[i+1] == '{':
			text.WriteByte('{')
			i++
		case c == '}' && i+1 < len(src) && src[i+1] == '}':
			text.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(src[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at byte %d", i)
			}
			p, err := compileExpr(src[i+1 : i+1+end])
			if err != nil {
				return nil, fmt.Errorf("{%s}: %w", model.Clip(src[i+1:i+1+end]), err)
			}
			t.text = append(t.text, text.String())
			text.Reset()
			t.progs = append(t.progs, p)
			i += end + 1
		case c == '}':
			return nil, fmt.Errorf("unmatched } at byte %d (write }} for a literal brace)", i)
		default:
			text.WriteByte(c)
		}
	}
	t.text = append(t.text, text.String())
	return t, nil
}

func (t *template) render(m *vm.VM, env *Env) (string, error) {
	if t == nil {
		return "", nil
	}
	var b strings.Builder
	for i, p := range t.progs {
		b.WriteString(t.text[i])
		v, err := m.Run(p, env)
		if err != nil {
			return "", err
		}
		b.WriteString(FormatValue(v))
	}
	b.WriteString(t.text[len(t.text)-1])
	return b.String(), nil
}

// FormatValue renders an expression result for reports: whole floats
// without decimals, others with at most three significant decimals.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "n/a"
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		if math.Abs(x) >= 100 {
			return strconv.FormatFloat(x, 'f', 0, 64)
		}
		return strconv.FormatFloat(x, 'f', 2, 64)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

// jsonValue keeps numbers numeric and floats rounded for the JSON report.
func jsonValue(v any) any {
	if x, ok := v.(float64); ok {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil
		}
		return math.Round(x*1000) / 1000
	}
	return v
}
