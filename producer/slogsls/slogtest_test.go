package slogsls

import (
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
)

// TestSlogtest runs the standard library's handler conformance tests on what
// the emulator stored: each case's record is flushed, and the fields of the
// one log it stored are decoded back into nested maps (dotted keys become
// groups).
func TestSlogtest(t *testing.T) {
	e := newSLS(t, nil)

	// With TimeKey set, the time is a field like any other, so every case,
	// "zero-time" included, checks exactly what was shipped; with AddSource,
	// so that "empty-PC" checks something.
	t.Run("TimeKey", func(t *testing.T) {
		slogtest.Run(t,
			func(*testing.T) slog.Handler {
				return New(e.p, "app", &Options{TimeKey: slog.TimeKey, AddSource: true})
			},
			func(t *testing.T) map[string]any {
				l := e.one(t)
				if ts, ok := l.Fields[slog.TimeKey]; ok {
					// The field and the log time are the same instant.
					ft, err := time.Parse(time.RFC3339Nano, ts)
					if err != nil || !ft.Truncate(time.Second).Equal(l.Time) { // __time__ is whole seconds
						t.Errorf("time field %q (%v), log time %v", ts, err, l.Time)
					}
				}
				return nest(t, l.Fields)
			})
	})

	// By default the time is the log time, not a field, so the results
	// function adds it, as slogtest allows for a value a handler stores
	// elsewhere. A zero record time cannot be told apart there, since the
	// producer stamps such records (TestZeroTime checks it).
	t.Run("default", func(t *testing.T) {
		slogtest.Run(t,
			func(t *testing.T) slog.Handler {
				if strings.HasSuffix(t.Name(), "/zero-time") {
					t.Skip("every SLS log has a time: the producer stamps records with a zero time; see TestZeroTime")
				}
				return New(e.p, "app", nil)
			},
			func(t *testing.T) map[string]any {
				l := e.one(t)
				if _, ok := l.Fields[slog.TimeKey]; ok {
					t.Errorf("time is a field by default: %s", sorted(l.Fields))
				}
				m := nest(t, l.Fields)
				m[slog.TimeKey] = l.Time
				return m
			})
	})
}

// nest turns dotted keys into nested maps: {"a.b": "c"} is {"a": {"b": "c"}}.
func nest(t *testing.T, fields map[string]string) map[string]any {
	t.Helper()
	root := map[string]any{}
	for k, v := range fields {
		m := root
		parts := strings.Split(k, ".")
		for _, g := range parts[:len(parts)-1] {
			sub, ok := m[g].(map[string]any)
			if !ok {
				if _, clash := m[g]; clash {
					t.Fatalf("key %q is both a value and a group", g)
				}
				sub = map[string]any{}
				m[g] = sub
			}
			m = sub
		}
		leaf := parts[len(parts)-1]
		if _, clash := m[leaf]; clash {
			t.Fatalf("key %q is both a value and a group", k)
		}
		m[leaf] = v
	}
	return root
}
