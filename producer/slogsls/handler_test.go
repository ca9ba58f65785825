package slogsls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sls is an emulator with one single-shard logstore "app" (so stored order
// is logged order) and a producer connected to it.
type sls struct {
	t      testing.TB
	s      *slstest.Server
	p      *producer.Producer
	stored int // logs read so far
}

func newSLS(t testing.TB, mutate func(*producer.Config)) *sls {
	t.Helper()
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	return &sls{t: t, s: s, p: testproducer.New(t, s, mutate)}
}

// next flushes the producer and returns the n logs stored since the last
// call; it fails the test if there are more or fewer.
func (e *sls) next(t testing.TB, n int) []slstest.Log {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	logs, err := e.s.WaitLogs(ctx, "app", e.stored+n)
	if err != nil {
		t.Fatalf("waiting for %d logs: %v", e.stored+n, err)
	}
	if len(logs) != e.stored+n {
		t.Fatalf("stored %d logs, want %d", len(logs)-e.stored, n)
	}
	logs = logs[e.stored:]
	e.stored += n
	return logs
}

// one returns the one log stored since the last call.
func (e *sls) one(t testing.TB) slstest.Log {
	t.Helper()
	return e.next(t, 1)[0]
}

// none checks that nothing was stored since the last call.
func (e *sls) none(t testing.TB) {
	t.Helper()
	e.next(t, 0)
}

func equalFields(t *testing.T, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("fields:\n got %s\nwant %s", sorted(got), sorted(want))
	}
}

func sorted(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s=%q ", k, m[k])
	}
	return b.String()
}

func TestFlatRecord(t *testing.T) {
	e := newSLS(t, nil)
	l := slog.New(New(e.p, "app", nil))
	// Long past, well beyond the producer's DeliveryTimeout: the log time
	// is not the time the record was logged.
	when := time.Date(2024, 5, 1, 12, 34, 56, 789_000_000, time.UTC)

	l.WithGroup("req").With("id", 7).LogAttrs(context.Background(), slog.LevelWarn, "slow request",
		slog.Group("http", "method", "GET", slog.Group("", "inline", true), slog.Group("empty")),
		slog.Any("", nil), // empty: ignored
		slog.Group("", slog.Group("user", "name", "ann")),
	)
	got := e.one(t)
	equalFields(t, got.Fields, map[string]string{
		"level":           "WARN",
		"msg":             "slow request",
		"req.id":          "7",
		"req.http.method": "GET",
		"req.http.inline": "true",
		"req.user.name":   "ann",
	})

	// The record time is the log time, not a field.
	r := slog.NewRecord(when, slog.LevelInfo+2, "m", 0)
	if err := New(e.p, "app", nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	got = e.one(t)
	equalFields(t, got.Fields, map[string]string{"level": "INFO+2", "msg": "m"})
	if want := when.Truncate(time.Second); !got.Time.Equal(want) { // __time__ is whole seconds
		t.Errorf("log time %v, want %v", got.Time, want)
	}
}

func TestZeroTime(t *testing.T) {
	e := newSLS(t, nil)
	for _, opts := range []*Options{nil, {TimeKey: "time"}} {
		before := time.Now().Truncate(time.Second) // __time__ is whole seconds
		r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
		if err := New(e.p, "app", opts).Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		got := e.one(t)
		after := time.Now()
		equalFields(t, got.Fields, map[string]string{"level": "INFO", "msg": "m"})
		// The producer stamps a record without time when it accepts it.
		if got.Time.Before(before) || got.Time.After(after) {
			t.Errorf("log time %v, want the time it was logged, between %v and %v", got.Time, before, after)
		}
	}
}

func TestTimeKey(t *testing.T) {
	e := newSLS(t, nil)
	when := time.Now().In(time.FixedZone("CST", 8*3600))
	r := slog.NewRecord(when, slog.LevelInfo, "m", 0)
	if err := New(e.p, "app", &Options{TimeKey: "ts"}).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	got := e.one(t)
	equalFields(t, got.Fields, map[string]string{"ts": when.Format(time.RFC3339Nano), "level": "INFO", "msg": "m"})
	if !got.Time.Equal(when.Truncate(time.Second)) { // __time__ is whole seconds
		t.Errorf("log time %v, want %v", got.Time, when)
	}
}

// Handlers branched from one parent at every depth must not share the
// arrays that hold their attributes or groups: each branch appends after
// branching and must see only its own attributes.
func TestBranchesDoNotAlias(t *testing.T) {
	e := newSLS(t, nil)
	var seen sync.Map // key -> groups passed to ReplaceAttr
	h := New(e.p, "app", &Options{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		seen.Store(a.Key+"@"+strings.Join(groups, "."), true)
		return a
	}})

	// Three groups deep, with attributes at each level.
	var base slog.Handler = h
	for _, g := range []string{"a", "b", "c"} {
		base = base.WithGroup(g).WithAttrs([]slog.Attr{slog.String("at", g)})
	}
	// Branch at each depth, then append to every branch.
	x := base.WithAttrs([]slog.Attr{slog.Int("x", 1)})
	y := base.WithAttrs([]slog.Attr{slog.Int("y", 2)})
	gx := x.WithGroup("gx").WithAttrs([]slog.Attr{slog.String("k", "x")})
	gy := y.WithGroup("gy").WithAttrs([]slog.Attr{slog.String("k", "y")})
	gx2 := gx.WithGroup("d").WithAttrs([]slog.Attr{slog.String("k", "x2")})
	gy2 := gy.WithGroup("d").WithAttrs([]slog.Attr{slog.String("k", "y2")})
	gz := x.WithGroup("gz") // a second branch of x
	gz2 := gz.WithAttrs([]slog.Attr{slog.String("k", "z")})

	for _, l := range []slog.Handler{gx2, gy2, gz2} {
		slog.New(l).Info("m", "r", 1)
	}
	common := map[string]string{"level": "INFO", "msg": "m", "a.at": "a", "a.b.at": "b", "a.b.c.at": "c"}
	want := []map[string]string{
		{"a.b.c.x": "1", "a.b.c.gx.k": "x", "a.b.c.gx.d.k": "x2", "a.b.c.gx.d.r": "1"},
		{"a.b.c.y": "2", "a.b.c.gy.k": "y", "a.b.c.gy.d.k": "y2", "a.b.c.gy.d.r": "1"},
		{"a.b.c.x": "1", "a.b.c.gz.k": "z", "a.b.c.gz.r": "1"},
	}
	for i, got := range e.next(t, 3) {
		maps.Copy(want[i], common)
		equalFields(t, got.Fields, want[i])
	}
	for _, k := range []string{"r@a.b.c.gx.d", "r@a.b.c.gy.d", "r@a.b.c.gz", "k@a.b.c.gx.d", "k@a.b.c.gy"} {
		if _, ok := seen.Load(k); !ok {
			t.Errorf("ReplaceAttr was not called for %s", k)
		}
	}

	// Every handler's groups are full (len == cap), so an append in one
	// branch can never write into another's array.
	for _, l := range []slog.Handler{base, x, y, gx, gy, gx2, gy2, gz, gz2} {
		hh := l.(*Handler)
		if len(hh.groups) != cap(hh.groups) || len(hh.pre) != cap(hh.pre) {
			t.Errorf("handler %q: groups len %d cap %d, pre len %d cap %d", hh.prefix,
				len(hh.groups), cap(hh.groups), len(hh.pre), cap(hh.pre))
		}
	}
}

// Many goroutines log through handlers branched from one parent; every
// record must arrive with exactly its own fields (run with -race).
func TestConcurrentBranches(t *testing.T) {
	e := newSLS(t, nil)
	base := slog.New(New(e.p, "app", nil)).WithGroup("svc").With("v", 1)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			l := base.WithGroup(fmt.Sprintf("w%d", w)).With("w", w)
			for i := range each {
				l.Info("tick", "i", i, slog.Group("g", "wi", fmt.Sprintf("%d-%d", w, i)))
			}
		})
	}
	wg.Wait()
	for _, got := range e.next(t, workers*each) {
		var w, i int
		var wk string
		for k := range got.Fields {
			if strings.HasSuffix(k, ".w") {
				wk = strings.TrimSuffix(k, ".w")
			}
		}
		if _, err := fmt.Sscanf(got.Fields[wk+".g.wi"], "%d-%d", &w, &i); err != nil {
			t.Fatalf("log %s: %v", sorted(got.Fields), err)
		}
		equalFields(t, got.Fields, map[string]string{
			"level": "INFO", "msg": "tick", "svc.v": "1",
			fmt.Sprintf("svc.w%d.w", w):    fmt.Sprint(w),
			fmt.Sprintf("svc.w%d.i", w):    fmt.Sprint(i),
			fmt.Sprintf("svc.w%d.g.wi", w): fmt.Sprintf("%d-%d", w, i),
		})
	}
}

func TestLevelVar(t *testing.T) {
	e := newSLS(t, nil)
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	l := slog.New(New(e.p, "app", &Options{Level: &lv}))

	l.Info("dropped")
	l.Warn("kept")
	got := e.one(t)
	if got.Fields["msg"] != "kept" {
		t.Errorf("stored %q, want only the warning", got.Fields["msg"])
	}

	lv.Set(slog.LevelDebug)
	l.Debug("debug now")
	if got := e.one(t); got.Fields["msg"] != "debug now" || got.Fields["level"] != "DEBUG" {
		t.Errorf("stored %s", sorted(got.Fields))
	}

	lv.Set(slog.LevelError)
	l.Warn("dropped")
	e.none(t)

	// The default is Info.
	d := slog.New(New(e.p, "app", nil))
	d.Debug("dropped")
	e.none(t)
	if !d.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Info is not enabled by default")
	}
}

// The keys of the built-ins apply with and without ReplaceAttr: one that
// keeps slog's key is written under the configured key.
func TestKeys(t *testing.T) {
	e := newSLS(t, nil)
	when := time.Date(2024, 5, 1, 12, 34, 56, 789_000_000, time.UTC)
	for _, rep := range []func([]string, slog.Attr) slog.Attr{nil, func(_ []string, a slog.Attr) slog.Attr { return a }} {
		h := New(e.p, "app", &Options{LevelKey: "severity", MessageKey: "message", SourceKey: "caller", TimeKey: "ts",
			AddSource: true, ReplaceAttr: rep})
		_, file, line, _ := runtime.Caller(0)
		r := slog.NewRecord(when, slog.LevelError, "boom", callerPC())
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		equalFields(t, e.one(t).Fields, map[string]string{
			"severity": "ERROR", "message": "boom", "caller": fmt.Sprintf("%s:%d", file, line+1),
			"ts": "2024-05-01T12:34:56.789Z",
		})
	}
}

// callerPC returns the PC of its caller's call, as slog.Logger records it.
func callerPC() uintptr {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	return pcs[0]
}

func TestReplaceAttr(t *testing.T) {
	e := newSLS(t, nil)
	// Long past: a record that keeps this time is told from one the
	// producer stamps.
	when := time.Date(2024, 5, 1, 12, 34, 56, 789_000_000, time.UTC)
	type call struct {
		groups string
		key    string
		kind   slog.Kind
	}
	var calls []call

	cases := []struct {
		name      string
		opts      Options
		wantTime  time.Time // zero: stamped by the producer
		wantField map[string]string
	}{{
		name: "rename-and-drop",
		opts: Options{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			calls = append(calls, call{strings.Join(groups, "."), a.Key, a.Value.Kind()})
			switch {
			case a.Key == slog.MessageKey && len(groups) == 0:
				a.Key = "message"
			case a.Key == "password":
				return slog.Attr{}
			case a.Key == "user":
				a.Key = "login"
			}
			return a
		}},
		wantTime: when,
		wantField: map[string]string{
			"level": "INFO", "message": "hello",
			"req.login": "ann", "req.auth.kind": "basic", "req.token": "t",
		},
	}, {
		name: "change-built-ins",
		opts: Options{TimeKey: "ts", AddSource: true, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.Time("at", a.Value.Time().Truncate(time.Second)) // new log time, renamed field
			case slog.LevelKey:
				return slog.String(slog.LevelKey, strings.ToLower(a.Value.Any().(slog.Level).String()))
			case slog.SourceKey:
				src := a.Value.Any().(*slog.Source)
				return slog.Group("src", "line", src.Line, "fn", "f") // a group is flattened
			}
			return a
		}},
		wantTime: when.Truncate(time.Second),
		wantField: map[string]string{
			"at": when.Truncate(time.Second).Format(time.RFC3339Nano), "level": "info", "msg": "hello",
			"src.fn": "f", "src.line": "LINE",
			"req.user": "ann", "req.password": "secret", "req.auth.kind": "basic", "req.token": "t",
		},
	}, {
		name: "drop-built-ins",
		opts: Options{TimeKey: "ts", ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key != "msg" {
				return slog.Attr{} // drops time, level and the top-level attrs
			}
			return a
		}},
		wantField: map[string]string{
			"msg":      "hello",
			"req.user": "ann", "req.password": "secret", "req.auth.kind": "basic", "req.token": "t",
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(e.p, "app", &c.opts).WithGroup("req").WithAttrs([]slog.Attr{slog.String("user", "ann")})
			var pcs [1]uintptr
			runtime.Callers(1, pcs[:])
			r := slog.NewRecord(when, slog.LevelInfo, "hello", pcs[0])
			r.AddAttrs(slog.String("password", "secret"), slog.Group("auth", "kind", "basic"), slog.Group("", "token", "t"))
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			got := e.one(t)
			if line, ok := got.Fields["src.line"]; ok {
				if line == "" || line == "0" {
					t.Errorf("src.line = %q", line)
				}
				got.Fields["src.line"] = "LINE"
			}
			equalFields(t, got.Fields, c.wantField)
			if c.wantTime.IsZero() {
				if d := time.Since(got.Time); d < 0 || d > time.Minute {
					t.Errorf("log time %v, want stamped now", got.Time)
				}
			} else if want := c.wantTime.Truncate(time.Second); !got.Time.Equal(want) { // __time__ is whole seconds
				t.Errorf("log time %v, want %v", got.Time, want)
			}
		})
	}

	// ReplaceAttr saw slog's built-in keys with no groups, then every
	// non-group attribute with its groups, never a group itself.
	calls = nil
	h := New(e.p, "app", &Options{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		calls = append(calls, call{strings.Join(groups, "."), a.Key, a.Value.Kind()})
		return a
	}})
	l := slog.New(h).With("w", 1).WithGroup("g").With("x", 2)
	l.Info("m", slog.Group("h", "y", 3), slog.Group("", "z", 4))
	e.one(t)
	want := []call{
		{"", "w", slog.KindInt64}, {"g", "x", slog.KindInt64}, // from With, in order
		{"", slog.TimeKey, slog.KindTime}, {"", slog.LevelKey, slog.KindAny}, {"", slog.MessageKey, slog.KindString},
		{"g.h", "y", slog.KindInt64}, {"g", "z", slog.KindInt64},
	}
	if !slices.Equal(calls, want) {
		t.Errorf("ReplaceAttr calls:\n got %v\nwant %v", calls, want)
	}
}

func TestAddSource(t *testing.T) {
	e := newSLS(t, nil)
	l := slog.New(New(e.p, "app", &Options{AddSource: true}))
	_, file, line, _ := runtime.Caller(0)
	l.Info("here") // on the line after runtime.Caller
	got := e.one(t)
	if src, want := got.Fields["source"], fmt.Sprintf("%s:%d", file, line+1); src != want {
		t.Errorf("source = %q, want %q", src, want)
	}

	// A record without a PC has no source.
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "no pc", 0)
	if err := l.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := e.one(t); got.Fields["source"] != "" {
		t.Errorf("source = %q for a record without PC", got.Fields["source"])
	}

	// Off by default.
	slog.New(New(e.p, "app", nil)).Info("m")
	if got := e.one(t); len(got.Fields) != 2 {
		t.Errorf("stored %s without AddSource", sorted(got.Fields))
	}
}

func TestCancelledContextStillShips(t *testing.T) {
	e := newSLS(t, nil)
	l := slog.New(New(e.p, "app", nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.InfoContext(ctx, "logged after the request ended")
	if got := e.one(t); got.Fields["msg"] != "logged after the request ended" {
		t.Errorf("stored %s", sorted(got.Fields))
	}
}

func TestRefused(t *testing.T) {
	e := newSLS(t, nil)
	var reported []error
	h := New(e.p, "app", &Options{OnError: func(err error) { reported = append(reported, err) }})
	child := h.WithGroup("g").WithAttrs([]slog.Attr{slog.Int("a", 1)})
	if err := e.p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	err := child.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0))
	if !errors.Is(err, producer.ErrClosed) {
		t.Errorf("Handle after Close = %v, want ErrClosed", err)
	}
	slog.New(h).Info("also late") // slog.Logger drops the error
	if h.Refused() != 2 || child.(*Handler).Refused() != 2 {
		t.Errorf("Refused = %d, %d, want 2", h.Refused(), child.(*Handler).Refused())
	}
	if len(reported) != 2 || !errors.Is(reported[0], producer.ErrClosed) {
		t.Errorf("OnError got %v", reported)
	}
	if n := len(e.s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs", n)
	}
}

func TestRecordTooLarge(t *testing.T) {
	e := newSLS(t, func(c *producer.Config) { c.MaxRecordBytes = 200 })
	h := New(e.p, "app", nil)
	err := slog.New(h).Handler().Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, strings.Repeat("x", 300), 0))
	if !errors.Is(err, producer.ErrRecordTooLarge) || h.Refused() != 1 {
		t.Errorf("Handle = %v, Refused = %d", err, h.Refused())
	}
	// The handler keeps working.
	slog.New(h).Info("small")
	if got := e.one(t); got.Fields["msg"] != "small" {
		t.Errorf("stored %s", sorted(got.Fields))
	}
}

// SLS keys are 1 to 128 bytes: an attribute with an empty key (other than
// the zero Attr, which is ignored, and a group, which is inlined) is stored
// under !BADKEY, slog's marker, rather than costing the log line (the
// producer refuses an empty key). Under a group the key is the group's
// prefix, which is not empty.
func TestEmptyKey(t *testing.T) {
	e := newSLS(t, nil)
	h := New(e.p, "app", nil)
	if err := h.Handle(context.Background(), record("m", slog.String("", "v"))); err != nil || h.Refused() != 0 {
		t.Fatalf("Handle = %v, Refused = %d", err, h.Refused())
	}
	equalFields(t, e.one(t).Fields, map[string]string{"level": "INFO", "msg": "m", "!BADKEY": "v"})
	slog.New(h).Info("m", slog.Any("", nil), slog.Group("", "inlined", 1), slog.Group("g", "", 2))
	equalFields(t, e.one(t).Fields, map[string]string{"level": "INFO", "msg": "m", "inlined": "1", "g.": "2"})
}

// Under the Drop policy a full buffer refuses the record at once: Handle
// does not wait, whatever its context.
func TestBufferFullDrop(t *testing.T) {
	e := newSLS(t, func(c *producer.Config) {
		c.OnBufferFull = producer.Drop
		c.MaxBufferedBytes = 500
		c.Linger = time.Minute // nothing leaves the buffer until Flush
	})
	h := New(e.p, "app", nil)
	l := slog.New(h)
	var err error
	accepted := 0
	for ; accepted < 100; accepted++ {
		if err = h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "fill", 0)); err != nil {
			break
		}
	}
	if !errors.Is(err, producer.ErrBufferFull) || accepted == 0 {
		t.Fatalf("after %d records: Handle = %v, want ErrBufferFull", accepted, err)
	}
	l.Info("dropped too")
	if h.Refused() != 2 {
		t.Errorf("Refused = %d, want 2", h.Refused())
	}
	e.next(t, accepted) // Flush sends the rest
}

// record is a record with message msg and attrs.
func record(msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0)
	r.AddAttrs(attrs...)
	return r
}
