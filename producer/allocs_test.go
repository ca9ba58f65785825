package producer_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/slskafka/slskafka/internal/race"
)

// Log allocates once per record, for the record franz-go holds; the
// encoded bytes go into shared chunks (budget.go), whose allocations, like
// franz-go's per batch, are spread over many records. testing.AllocsPerRun
// rounds down, so the count is taken by hand.
func TestLogAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are meaningless under the race detector; run without -race")
	}
	r := benchRecord()
	p := connected(t, r)
	ctx := context.Background()
	const n = 5000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		if err := p.Log(ctx, "app", r); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if allocs := float64(after.Mallocs-before.Mallocs) / n; allocs > 1.2 {
		t.Errorf("Log allocates %.2f times per record, want at most 1.2", allocs)
	} else {
		t.Logf("%.3f allocations per record", allocs)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
