package conformance

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// Where an assumption comes from. The documents are SLS's own pages and
// samples; "assumed" means none of them says.
const (
	docUpload  = "documented (SLS: Use the Kafka protocol to upload logs)"
	docConsume = "documented (SLS: Kafka consumption overview)"
	docSamples = "documented (SLS's own Kafka samples)"
	docSLSDoc  = "documented (aliyun-sls/sls-doc)"
	assumed    = "assumed"
)

// assumption is one row of the table: what is assumed of SLS, on what
// evidence, and what the emulator is documented to do about it.
type assumption struct {
	what     string
	evidence string
	// emulator is what the emulator is documented to do, in the words
	// the row's observation uses: against the emulator the observation
	// must be exactly this.
	emulator string
	// sdk, if set, is what the SDK needs of SLS here. Against a real
	// project the row fails if the observation does not meet it; rows
	// without it only record what was observed.
	sdk string
}

// row is an assumption with what a run observed.
type row struct {
	test string
	assumption
	observed string
	result   string
}

// table collects the rows of a run, in the order the tests ran.
type table struct {
	mu   sync.Mutex
	rows []*row
}

var rows table

// observer observes a target: what it saw, in the words of the
// assumption's emulator text, and whether that meets what the SDK needs
// (ignored for rows the SDK does not depend on).
type observer func(t *testing.T, tg *target) (observed string, meets bool)

// check runs one row against the run's target: it observes, records the
// observation in the table, and fails the test where the target is the
// emulator and the observation is not what the emulator is documented to
// do, or where the SDK depends on the row and the observation does not
// meet its need.
func check(t *testing.T, a assumption, observe observer) {
	t.Helper()
	r := &row{test: t.Name(), assumption: a, observed: "(the test stopped: see its log)"}
	rows.mu.Lock()
	rows.rows = append(rows.rows, r)
	rows.mu.Unlock()
	// Registered first, so it runs last and sees the final verdict.
	t.Cleanup(func() { rows.finish(r, t) })

	got, meets := observe(t, tg)
	rows.mu.Lock()
	r.observed = got
	rows.mu.Unlock()
	t.Logf("%s: %s", a.what, got)
	if !tg.real && got != a.emulator {
		t.Errorf("the emulator is documented to give\n\t%s\nobserved\n\t%s", a.emulator, got)
	}
	if a.sdk != "" && !meets {
		t.Errorf("the SDK needs %s; observed: %s", a.sdk, got)
	}
}

// finish records a row's result once its test is over.
func (tb *table) finish(r *row, t *testing.T) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch {
	case t.Failed():
		r.result = "FAIL"
	case t.Skipped():
		r.result = "skip"
	case tg.real && r.observed != r.emulator:
		r.result = "differs"
	default:
		r.result = "ok"
	}
}

// print writes the table in Markdown, to paste into an issue.
func (tb *table) print(w io.Writer, target string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	fmt.Fprintf(w, "\nSLS conformance against %s\n\n", target)
	fmt.Fprintln(w, "| test | assumption | evidence | emulator | this target | SDK needs | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range tb.rows {
		sdk := r.sdk
		if sdk == "" {
			sdk = "-"
		}
		cells := []string{r.test, r.what, r.evidence, r.emulator, r.observed, sdk, r.result}
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(strings.ReplaceAll(c, "|", `\|`), "\n", " ")
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}
