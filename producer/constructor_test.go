package producer

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// funcBodies calls f for every function of the package (tests aside).
func funcBodies(t *testing.T, f func(fset *token.FileSet, fn *ast.FuncDecl)) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Body != nil {
				f(fset, fn)
			}
		}
	}
}

// A record ends in one call, finish (or endRun.end for a run of records
// Close gave up on): the counts, telemetry, flush epoch and budget are
// updated there only, so no path that ends a record can miss one of them.
// accept gives back the memory of a record it did not accept.
func TestRecordsEndInFinish(t *testing.T) {
	allowed := map[string][]string{
		"p.acct.failed":         {"finish"},
		"p.acct.failedN":        {"end"},
		"pd.ls.delivered.Add":   {"finish"},
		"p.tel.observeDelivery": {"finish"},
		"p.acct.observeLatency": {"finish"},
		"p.spool.s.Ack":         {"finish"},
		"pd.flush.leave":        {"leave"},
		"r.flush.leaveN":        {"end"},
		"p.budget.give":         {"leave", "accept"},
		"p.budget.giveN":        {"end"},
	}
	found := map[string]int{}
	funcBodies(t, func(fset *token.FileSet, fn *ast.FuncDecl) {
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := types.ExprString(call.Fun)
			in, watched := allowed[name]
			if !watched {
				return true
			}
			found[name]++
			if !slices.Contains(in, fn.Name.Name) {
				t.Errorf("%s: %s called in %s; a record ends in finish", fset.Position(call.Pos()), name, fn.Name.Name)
			}
			return true
		})
	})
	for name := range allowed {
		if found[name] == 0 {
			t.Errorf("no call of %s found: the check looks at the wrong names", name)
		}
	}
}

// Every *Error is built by newError, which fills in what the message
// needs beyond kind and cause (the region, the advice that depends on what
// was sent); an Error built elsewhere lacks it.
func TestErrorsBuiltByOneConstructor(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				if id, ok := lit.Type.(*ast.Ident); ok && id.Name == "Error" {
					found++
					if fn.Name.Name != "newError" {
						t.Errorf("%s: an Error built in %s, not by newError", fset.Position(lit.Pos()), fn.Name.Name)
					}
				}
				return true
			})
		}
	}
	if found == 0 {
		t.Error("no Error literal found: the check looks at the wrong files")
	}
}
