package slogsls

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/slskafka/slskafka/internal/race"
)

// skipUnderRace skips an allocation test under the race detector, which
// makes sync.Pool drop entries at random. CI runs these tests without -race
// too: go test -count=1 -run 'Allocs$' ./...
func skipUnderRace(t *testing.T) {
	t.Helper()
	if race.Enabled {
		t.Skip("allocation counts are meaningless under the race detector; run without -race")
	}
}

// Handle does not allocate, with or without groups, WithAttrs fields, a
// span, a request's cancellable context or an identity ReplaceAttr; what
// shipping allocates is the producer's (here a nil producer, which refuses
// at once). (AddSource costs the three allocations of slog.Record.Source.)
func TestHandleAllocs(t *testing.T) {
	skipUnderRace(t)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	traced := trace.ContextWithSpanContext(context.Background(), sc)
	request, cancel := context.WithCancel(context.Background())
	defer cancel()
	identity := func(_ []string, a slog.Attr) slog.Attr { return a }
	// A value encoding/json renders as a string without escapes is stored
	// without its quotes, without decoding it.
	jsonStringRecord := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
	jsonStringRecord.AddAttrs(slog.Any("color", color("red")))

	for _, c := range []struct {
		name string
		h    slog.Handler
		ctx  context.Context
		r    slog.Record
	}{
		{"plain", New(nil, "app", nil), context.Background(), benchRecord()},
		{"json-string", New(nil, "app", nil), context.Background(), jsonStringRecord},
		{"attrs-group-span", New(nil, "app", nil).
			WithAttrs([]slog.Attr{slog.String("service", "shop")}).WithGroup("req"), traced, benchRecord()},
		{"cancellable-context", New(nil, "app", nil), request, benchRecord()},
		{"replace-attr", New(nil, "app", &Options{ReplaceAttr: identity}), context.Background(), benchRecord()},
	} {
		handle := func() { c.h.Handle(c.ctx, c.r) }
		handle() // warm the pool
		if allocs := testing.AllocsPerRun(1000, handle); allocs != 0 {
			t.Errorf("%s: Handle allocates %v times per record, want 0", c.name, allocs)
		}
	}
}

// WithGroup allocates the new handler and its prefix, and its groups only
// for ReplaceAttr.
func TestWithGroupAllocs(t *testing.T) {
	skipUnderRace(t)
	identity := func(_ []string, a slog.Attr) slog.Attr { return a }
	for _, c := range []struct {
		opts *Options
		want float64
	}{{nil, 2}, {&Options{ReplaceAttr: identity}, 3}} {
		h := New(nil, "app", c.opts)
		if allocs := testing.AllocsPerRun(1000, func() { h.WithGroup("g") }); allocs != c.want {
			t.Errorf("ReplaceAttr set %v: WithGroup allocates %v times, want %v", c.opts != nil, allocs, c.want)
		}
	}
}
