package policy

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
)

// ErrInvalid marks a policy that cannot be loaded: malformed JSON, an
// unknown field, a bad value, or a CEL rule that does not compile.
var ErrInvalid = errors.New("invalid policy")

// CostLimit bounds the work one rule may do when evaluated, in CEL's cost
// units (about one per value visited). A rule over it fails, closed.
const CostLimit = 1_000_000

// Rule is one CEL rule of a policy file: the expression must be a bool,
// true when the rule is satisfied.
type Rule struct {
	// Name identifies the rule in findings and errors.
	Name string `json:"name"`
	// Expr is the CEL expression.
	Expr string `json:"expr"`
	// Message is the finding's text when Expr is false; if empty, the
	// finding quotes Expr.
	Message string `json:"message,omitempty"`
}

// Var declares one variable rules can read. Of is a value of its Go type:
// a struct (its fields named by their json tags), a string, an int, a
// bool, a time.Time (a CEL timestamp) or a slice of one of these.
type Var struct {
	Name string
	Of   any
}

// Env is a set of variables that rules are compiled against. It is safe
// for concurrent use.
type Env struct {
	env *cel.Env
}

// NewEnv declares vars. It fails only on a programming error (a type CEL
// cannot hold).
func NewEnv(vars ...Var) (*Env, error) {
	var structs []any
	var opts []cel.EnvOption
	seen := map[reflect.Type]bool{}
	for _, v := range vars {
		t := reflect.TypeOf(v.Of)
		ct, err := celType(t, &structs, seen)
		if err != nil {
			return nil, fmt.Errorf("policy: variable %s: %w", v.Name, err)
		}
		opts = append(opts, cel.Variable(v.Name, ct))
	}
	if len(structs) > 0 {
		opts = append([]cel.EnvOption{ext.NativeTypes(append(structs, ext.ParseStructTag("json"))...)}, opts...)
	}
	opts = append(opts, ext.Strings(), cel.OptionalTypes())
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return &Env{env: env}, nil
}

var timeType = reflect.TypeFor[time.Time]()

// celType maps a Go type to a CEL type, collecting the struct types that
// NativeTypes must know.
func celType(t reflect.Type, structs *[]any, seen map[reflect.Type]bool) (*cel.Type, error) {
	if t == nil {
		return nil, errors.New("nil type")
	}
	if t == timeType {
		return cel.TimestampType, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return celType(t.Elem(), structs, seen)
	case reflect.Struct:
		if !seen[t] {
			seen[t] = true
			*structs = append(*structs, t)
		}
		return cel.ObjectType(t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:] + "." + t.Name()), nil
	case reflect.String:
		return cel.StringType, nil
	case reflect.Bool:
		return cel.BoolType, nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		return cel.IntType, nil
	case reflect.Slice:
		et, err := celType(t.Elem(), structs, seen)
		if err != nil {
			return nil, err
		}
		return cel.ListType(et), nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// CompileError is a rule that does not compile: which rule, and where in
// its expression (1-based line and column).
type CompileError struct {
	Source string // the policy file, or "" for a policy built in Go
	Index  int    // the rule's index in rules
	Rule   string // the rule's name
	Line   int
	Column int
	Msg    string
}

func (e *CompileError) Error() string {
	where := fmt.Sprintf("rules[%d]", e.Index)
	if e.Source != "" {
		where = e.Source + ": " + where
	}
	if e.Rule != "" {
		where += fmt.Sprintf(" %q", e.Rule)
	}
	if e.Line > 0 {
		where += fmt.Sprintf(" at %d:%d", e.Line, e.Column)
	}
	return fmt.Sprintf("%s: %v: %s", where, ErrInvalid, e.Msg)
}

// Unwrap returns [ErrInvalid].
func (e *CompileError) Unwrap() error { return ErrInvalid }

// Program is a compiled list of rules. It is safe for concurrent use.
type Program struct {
	rules []compiled
}

type compiled struct {
	Rule
	prg cel.Program
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:/-]*$`)

// MaxRules bounds the rules of one policy.
const MaxRules = 1000

// Compile compiles rules, each of which must be a bool expression over
// env's variables. It reports every rule that fails, each as a
// [*CompileError], joined.
func (e *Env) Compile(source string, rules []Rule) (*Program, error) {
	if len(rules) > MaxRules {
		return nil, fmt.Errorf("%s: %w: %d rules, at most %d", orPolicy(source), ErrInvalid, len(rules), MaxRules)
	}
	p := &Program{}
	var errs []error
	names := map[string]bool{}
	for i, r := range rules {
		fail := func(line, col int, msg string) {
			errs = append(errs, &CompileError{Source: source, Index: i, Rule: r.Name, Line: line, Column: col, Msg: msg})
		}
		switch {
		case !nameRE.MatchString(r.Name):
			fail(0, 0, fmt.Sprintf("name %q: want letters, digits and _ . : / -", r.Name))
			continue
		case names[r.Name]:
			fail(0, 0, "another rule has this name")
			continue
		case strings.TrimSpace(r.Expr) == "":
			fail(0, 0, "empty expression")
			continue
		}
		names[r.Name] = true
		ast, iss := e.env.Compile(r.Expr)
		if iss != nil && iss.Err() != nil {
			line, col := 0, 0
			var msgs []string
			for _, ce := range iss.Errors() {
				if line == 0 {
					loc := ce.Location
					line, col = loc.Line(), loc.Column()+1
				}
				msgs = append(msgs, ce.Message)
			}
			fail(line, col, strings.Join(msgs, "; "))
			continue
		}
		if !ast.OutputType().IsExactType(types.BoolType) {
			fail(1, 1, fmt.Sprintf("expression is of type %s, want bool", ast.OutputType()))
			continue
		}
		prg, err := e.env.Program(ast, cel.CostLimit(CostLimit))
		if err != nil {
			fail(0, 0, err.Error())
			continue
		}
		p.rules = append(p.rules, compiled{Rule: r, prg: prg})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func orPolicy(source string) string {
	if source == "" {
		return "policy"
	}
	return source
}

// Result is a rule that did not pass: its expression was false, or it
// could not be evaluated (Err set), which counts as failing.
type Result struct {
	Rule    string
	Message string
	Err     error
}

// Len is the number of rules.
func (p *Program) Len() int {
	if p == nil {
		return 0
	}
	return len(p.rules)
}

// Eval evaluates every rule with vars, in order, and returns those that
// did not pass. A rule that errors (a missing map key, a cost over
// [CostLimit]) is returned with Err set: it never passes.
func (p *Program) Eval(vars map[string]any) []Result {
	if p == nil {
		return nil
	}
	var out []Result
	for _, r := range p.rules {
		val, _, err := r.prg.Eval(vars)
		if err != nil {
			out = append(out, Result{Rule: r.Name, Message: "cannot evaluate: " + err.Error(), Err: err})
			continue
		}
		ok, isBool := val.Value().(bool)
		switch {
		case !isBool:
			err := fmt.Errorf("result is %v, not a bool", val.Type())
			out = append(out, Result{Rule: r.Name, Message: "cannot evaluate: " + err.Error(), Err: err})
		case !ok:
			msg := r.Message
			if msg == "" {
				msg = "rule not satisfied: " + r.Expr
			}
			out = append(out, Result{Rule: r.Name, Message: msg})
		}
	}
	return out
}
