//go:build unix

package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir) // never returns
	}
	goleak.VerifyTestMain(m)
}

// small are options for tests: 64 KiB segments (about 190 records of
// 340 bytes), 8 of them, no background sync.
func small(t testing.TB, dir string) Options {
	return Options{Dir: dir, SegmentBytes: 64 << 10, MaxBytes: 8 * 64 << 10, Sync: -1, Logger: slog.New(&warnings{t: t})}
}

func open(t testing.TB, o Options) *Spool {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rec is a test record: its value names its number, padded to about the
// size of a typical access log line.
func rec(i int) Record {
	v := fmt.Appendf(nil, `{"id":"%08d","msg":"`, i)
	v = append(v, bytes.Repeat([]byte("x"), 300-len(v)-2)...)
	v = append(v, `"}`...)
	return Record{Topic: "app.json", Time: time.Unix(1700000000, int64(i)), Value: v}
}

// idOf returns the number of a value made by rec.
func idOf(t testing.TB, v []byte) int {
	t.Helper()
	if len(v) < 16 || !bytes.HasPrefix(v, []byte(`{"id":"`)) {
		t.Fatalf("not a test record: %q", v)
	}
	n, err := strconv.Atoi(string(v[7:15]))
	if err != nil {
		t.Fatalf("not a test record: %q", v)
	}
	return n
}

// drain returns the numbers of every record Next hands out, in order,
// checking each against rec.
func drain(t testing.TB, s *Spool) (ids []int, entries []Entry) {
	t.Helper()
	for {
		e, ok, err := s.Next(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return ids, entries
		}
		i := idOf(t, e.Value)
		if want := rec(i); e.Topic != want.Topic || !e.Time.Equal(want.Time) || !bytes.Equal(e.Value, want.Value) {
			t.Fatalf("record %d came back as %q %v %q", i, e.Topic, e.Time, e.Value)
		}
		ids = append(ids, i)
		entries = append(entries, e)
	}
}

// waitFor waits, without polling on a timer, until cond holds: cond is
// checked each time the spool reclaims space.
func waitFor(t testing.TB, s *Spool, what string, cond func(Stats) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second) // a bound, not a synchronisation
	for {
		ch := s.Space()
		if cond(s.Stats()) {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waiting for %s: stats %+v", what, s.Stats())
		}
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// warnings is a slog handler that collects warnings for a test.
type warnings struct {
	t   testing.TB
	mu  sync.Mutex
	got []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	w.mu.Lock()
	w.got = append(w.got, b.String())
	w.mu.Unlock()
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.got...)
}

func warningsOf(o Options) *warnings { return o.Logger.Handler().(*warnings) }

// syncAll is what the syncer does every Options.Sync, for a test to run
// when it chooses.
func (s *Spool) syncAll() error { return s.dur.all(s.tab.segments()) }

func mustFull(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
}
