package producer

import (
	"go/ast"
	"go/token"
	"go/types"
	"testing"
)

// A pending's state changes only in pending.go, through to, so that one
// file holds a record's whole life.
func TestStateChangesOnlyInPendingGo(t *testing.T) {
	calls := 0
	funcBodies(t, func(fset *token.FileSet, fn *ast.FuncDecl) {
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "state" && fn.Name.Name != "to" {
						t.Errorf("%s: %s set in %s; only pending.to changes a state", fset.Position(n.Pos()), types.ExprString(sel), fn.Name.Name)
					}
					// A whole pending overwritten is a state
					// changed too: none is (recycleSlab clears a
					// slab's, making them placed).
					if _, ok := lhs.(*ast.StarExpr); ok && i < len(n.Rhs) {
						if lit, ok := n.Rhs[i].(*ast.CompositeLit); ok && types.ExprString(lit.Type) == "pending" {
							t.Errorf("%s: a pending overwritten in %s; only recycleSlab resets pendings, by clearing their slab", fset.Position(n.Pos()), fn.Name.Name)
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "to" {
					calls++
					if pos := fset.Position(n.Pos()); pos.Filename != "pending.go" {
						t.Errorf("%s: a state changed outside pending.go", pos)
					}
				}
			}
			return true
		})
	})
	if calls == 0 {
		t.Error("no call of to found: the check looks at the wrong names")
	}
}

// The life a record may have: each path the producer takes, in states.
func TestTransitions(t *testing.T) {
	legal := [][]state{
		{placed, queued, inFranz, finished},                    // delivered, or failed by SLS
		{placed, queued, held, inFranz, finished},              // held while the endpoint was down
		{placed, queued, held, finished},                       // its deadline passed while held
		{placed, queued, inFranz, requeued, inFranz, finished}, // its partition failed before its deadline
		{placed, queued, inFranz, requeued, held, finished},    // and the endpoint went down
		{placed, queued, inFranz, spooled},                     // back to the disk after its deadline
		{placed, queued, finished},                             // Close gave up on it while queued
		{placed, queued, inFranz, requeued, spooled},           // Close stopped the queue as it came back
		{placed, queued, inFranz, finished, placed, queued},    // its slab reused (recycleSlab clears it)
		{placed, queued, held, spooled},                        // back to disk while held
		{placed, queued, spooled},                              // Close kept it on disk while queued
		{placed, queued, inFranz, requeued, finished},          // Close gave up on it as it came back
		{placed, queued, held, inFranz, requeued, held},        // the endpoint went down again
	}
	for _, path := range legal {
		pd := &pending{}
		for _, s := range path[1:] {
			if s == placed {
				*pd = pending{} // budget.take
				continue
			}
			if transitions[pd.state]&(1<<s) == 0 {
				t.Errorf("path %v: %v -> %v refused", path, pd.state, s)
			}
			pd.state = s
		}
	}
	illegal := [][2]state{
		{finished, finished}, // ended twice
		{finished, queued},   // used after it ended
		{spooled, finished},
		{placed, inFranz}, // handed to franz-go without its window and epoch
		{queued, requeued},
		{inFranz, inFranz}, // produced twice
		{inFranz, held},    // held without coming back through the queue
	}
	for _, tr := range illegal {
		if transitions[tr[0]]&(1<<tr[1]) != 0 {
			t.Errorf("%v -> %v allowed", tr[0], tr[1])
		}
	}
}

// An illegal transition is kept for the tests, not panicked on.
func TestIllegalTransitionIsKept(t *testing.T) {
	prev := illegalTransition.Swap(nil)
	t.Cleanup(func() { illegalTransition.Store(prev) })
	pd := &pending{state: finished}
	pd.to(finished)
	if got, want := IllegalTransition(), "pending: finished -> finished"; got != want {
		t.Errorf("IllegalTransition() = %q, want %q", got, want)
	}
	if pd.state != finished {
		t.Errorf("state = %v", pd.state)
	}
}
