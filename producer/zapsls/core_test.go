package zapsls_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
	"go.uber.org/multierr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/zapsls"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// setup starts an emulator with one single-shard logstore "app" (so stored
// order is logging order) and a producer on it. Linger is a minute (the most franz-go allows): nothing is
// sent unless something flushes, which is what the Sync, Panic and Fatal
// tests need to prove.
func setup(t *testing.T, adjust ...func(*producer.Config)) (*slstest.Server, *producer.Producer) {
	t.Helper()
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := testproducer.New(t, s, append([]func(*producer.Config){func(c *producer.Config) { c.Linger = time.Minute }}, adjust...)...)
	// Close runs here first (the later cleanup), to check it drains cleanly.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, p
}

// synced syncs logger and returns what the logstore holds right after.
func synced(t *testing.T, s *slstest.Server, logger *zap.Logger) []slstest.Log {
	t.Helper()
	if err := logger.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return s.Logs("app")
}

// byMsg indexes logs by their message; messages must be unique.
func byMsg(t *testing.T, logs []slstest.Log) map[string]map[string]string {
	t.Helper()
	m := make(map[string]map[string]string, len(logs))
	for _, l := range logs {
		msg := l.Fields["msg"]
		if _, dup := m[msg]; dup {
			t.Fatalf("message %q stored twice", msg)
		}
		m[msg] = l.Fields
	}
	return m
}

// equalFields compares stored fields with want, reporting every difference.
func equalFields(t *testing.T, name string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: field %q missing, want %q (got %v)", name, k, v, got)
		} else if g != v {
			t.Errorf("%s: field %q = %q, want %q", name, k, g, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected field %q = %q", name, k, v)
		}
	}
}

type user struct {
	Name string
	ID   int
}

func (u user) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("name", u.Name)
	enc.AddInt("id", u.ID)
	return nil
}

// richError has a %+v form that differs from Error, like pkg/errors.
type richError struct{ msg string }

func (e richError) Error() string { return e.msg }
func (e richError) Format(s fmt.State, verb rune) {
	if verb == 'v' && s.Flag('+') {
		fmt.Fprintf(s, "%s\n  at handler.go:42", e.msg)
		return
	}
	fmt.Fprint(s, e.msg)
}

type nilStringer struct{ s string }

func (n *nilStringer) String() string { return n.s }

func TestFieldTypes(t *testing.T) {
	s, p := setup(t)
	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel))

	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	tests := []struct {
		name   string
		fields []zap.Field
		want   map[string]string
	}{
		{"string", []zap.Field{zap.String("k", `say "hi"`)}, map[string]string{"k": `say "hi"`}},
		{"empty key under a namespace", []zap.Field{zap.Namespace("ns"), zap.String("", "v")}, map[string]string{"ns.": "v"}},
		{"ints", []zap.Field{zap.Int("i", -42), zap.Int64("i64", math.MinInt64), zap.Int8("i8", 127),
			zap.Uint64("u64", math.MaxUint64), zap.Uint8("u8", 255), zap.Uintptr("p", 0x10)},
			map[string]string{"i": "-42", "i64": "-9223372036854775808", "i8": "127",
				"u64": "18446744073709551615", "u8": "255", "p": "16"}},
		{"floats", []zap.Field{zap.Float64("f", 1.5), zap.Float32("f32", 0.1), zap.Float64("big", 1e21),
			zap.Float64("nan", math.NaN()), zap.Float64("inf", math.Inf(1)), zap.Float64("ninf", math.Inf(-1))},
			map[string]string{"f": "1.5", "f32": "0.1", "big": "1000000000000000000000",
				"nan": "NaN", "inf": "+Inf", "ninf": "-Inf"}},
		{"complex", []zap.Field{zap.Complex128("c", 1+2i), zap.Complex64("c64", 1.5-0.5i)},
			map[string]string{"c": "1+2i", "c64": "1.5-0.5i"}},
		{"bools", []zap.Field{zap.Bool("t", true), zap.Bool("f", false)},
			map[string]string{"t": "true", "f": "false"}},
		{"duration", []zap.Field{zap.Duration("d", 1500*time.Millisecond), zap.Duration("z", 0)},
			map[string]string{"d": "1.5s", "z": "0s"}},
		{"time", []zap.Field{zap.Time("t", ts), zap.Time("cst", ts.In(time.FixedZone("CST", 8*3600)))},
			map[string]string{"t": "2024-05-06T07:08:09.123456789Z", "cst": "2024-05-06T15:08:09.123456789+08:00"}},
		{"binary", []zap.Field{zap.Binary("b", []byte{0, 1, 2, 0xff})}, map[string]string{"b": "AAEC/w=="}},
		{"bytestring", []zap.Field{zap.ByteString("b", []byte("héllo\n"))}, map[string]string{"b": "héllo\n"}},
		{"stringer", []zap.Field{zap.Stringer("ip", netip.MustParseAddr("10.0.0.1")),
			zap.Stringer("nil", (*nilStringer)(nil))},
			map[string]string{"ip": "10.0.0.1", "nil": "<nil>"}},
		{"reflect", []zap.Field{zap.Reflect("r", struct {
			A int
			B string
		}{1, "<b>&"}), zap.Any("m", map[string]int{"x": 1}), zap.Reflect("nil", nil)},
			map[string]string{"r": `{"A":1,"B":"<b>&"}`, "m": `{"x":1}`, "nil": "null"}},
		{"named string type", []zap.Field{zap.Any("color", color("red")), zap.Reflect("quoted", color("say \"hi\"\\\n"))},
			map[string]string{"color": "red", "quoted": "say \"hi\"\\\n"}},
		{"reflect error", []zap.Field{zap.Reflect("ch", make(chan int))},
			map[string]string{"chError": "json: unsupported type: chan int"}},
		{"arrays", []zap.Field{zap.Ints("ints", []int{1, 2, 3}), zap.Strings("strs", []string{"a", `"b"`}),
			zap.Durations("ds", []time.Duration{time.Second, 2 * time.Millisecond}),
			zap.Times("ts", []time.Time{ts}), zap.Bools("empty", nil),
			zap.Objects("users", []user{{"ann", 1}, {"bob", 2}})},
			map[string]string{"ints": "[1,2,3]", "strs": `["a","\"b\""]`, "ds": `["1s","2ms"]`,
				"ts": `["2024-05-06T07:08:09.123456789Z"]`, "empty": "[]",
				"users": `[{"name":"ann","id":1},{"name":"bob","id":2}]`}},
		{"error", []zap.Field{zap.Error(errors.New("disk full"))}, map[string]string{"error": "disk full"}},
		{"nil error", []zap.Field{zap.Error(nil)}, map[string]string{}},
		{"wrapped error", []zap.Field{zap.Error(fmt.Errorf("save: %w", errors.New("disk full")))},
			map[string]string{"error": "save: disk full"}},
		{"verbose error", []zap.Field{zap.Error(richError{"boom"})},
			map[string]string{"error": "boom", "errorVerbose": "boom\n  at handler.go:42"}},
		{"named error", []zap.Field{zap.NamedError("cause", errors.New("eof"))}, map[string]string{"cause": "eof"}},
		{"multierr", []zap.Field{zap.Error(multierr.Combine(errors.New("a"), errors.New("b")))},
			map[string]string{"error": "a; b", "errorCauses": `[{"error":"a"},{"error":"b"}]`}},
		{"object", []zap.Field{zap.Object("user", user{"ann", 7})},
			map[string]string{"user.name": "ann", "user.id": "7"}},
		{"dict", []zap.Field{zap.Dict("http", zap.Int("status", 200), zap.Dict("req", zap.String("method", "GET")))},
			map[string]string{"http.status": "200", "http.req.method": "GET"}},
		{"inline", []zap.Field{zap.Inline(user{"bob", 8})}, map[string]string{"name": "bob", "id": "8"}},
		{"namespace", []zap.Field{zap.String("before", "1"), zap.Namespace("ns"), zap.String("a", "2"),
			zap.Namespace("inner"), zap.Object("u", user{"cy", 9})},
			map[string]string{"before": "1", "ns.a": "2", "ns.inner.u.name": "cy", "ns.inner.u.id": "9"}},
		{"namespace inside object ends with it", []zap.Field{zap.Object("o", zapcore.ObjectMarshalerFunc(
			func(enc zapcore.ObjectEncoder) error {
				enc.OpenNamespace("deep")
				enc.AddInt("x", 1)
				return nil
			})), zap.Int("after", 2)},
			map[string]string{"o.deep.x": "1", "after": "2"}},
		{"empty namespace", []zap.Field{zap.Namespace(""), zap.Int("x", 1)}, map[string]string{"x": "1"}},
		{"skip", []zap.Field{zap.Skip()}, map[string]string{}},
		{"object error", []zap.Field{zap.Object("o", zapcore.ObjectMarshalerFunc(
			func(enc zapcore.ObjectEncoder) error {
				enc.AddInt("x", 1)
				return errors.New("half done")
			}))},
			map[string]string{"o.x": "1", "oError": "half done"}},
		{"array error", []zap.Field{zap.Array("a", zapcore.ArrayMarshalerFunc(
			func(enc zapcore.ArrayEncoder) error {
				enc.AppendInt(1)
				return errors.New("stopped")
			}))},
			map[string]string{"a": "[1]", "aError": "stopped"}},
		{"last key wins", []zap.Field{zap.String("k", "first"), zap.String("k", "second")},
			map[string]string{"k": "second"}},
	}
	for _, tt := range tests {
		logger.Info(tt.name, tt.fields...)
	}
	got := byMsg(t, synced(t, s, logger))
	if len(got) != len(tests) {
		t.Errorf("stored %d logs, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		want := map[string]string{"level": "INFO", "msg": tt.name}
		for k, v := range tt.want {
			want[k] = v
		}
		equalFields(t, tt.name, got[tt.name], want)
	}
}

// color is a named string type: zap.Any reflects it.
type color string

// countingStringer counts how often it is rendered.
type countingStringer struct{ n atomic.Int32 }

func (c *countingStringer) String() string { c.n.Add(1); return "counted" }

func TestWith(t *testing.T) {
	s, p := setup(t)
	root := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel))

	counter := &countingStringer{}
	parent := root.With(zap.String("service", "shop"), zap.Stringer("once", counter))
	// Siblings from one parent: each must see only its own field, however
	// the parent's slice is laid out.
	a := parent.With(zap.String("branch", "a"))
	b := parent.With(zap.String("branch", "b"), zap.Int("extra", 1))
	aa := a.With(zap.String("leaf", "aa"))
	ns := parent.With(zap.Namespace("req"), zap.String("id", "r1"))
	nsChild := ns.With(zap.Int("attempt", 2))

	parent.Info("parent")
	a.Info("a")
	b.Info("b")
	aa.Info("aa", zap.Int("n", 3))
	ns.Info("ns", zap.Int("status", 200))
	nsChild.Info("nsChild", zap.Namespace("db"), zap.Int("rows", 5))
	parent.Info("parent again")
	root.Info("root")
	// A call-site field overrides a With field of the same name.
	a.Info("override", zap.String("branch", "call site"))

	got := byMsg(t, synced(t, s, root))
	base := func(msg string, kv ...string) map[string]string {
		m := map[string]string{"level": "INFO", "msg": msg}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	common := []string{"service", "shop", "once", "counted"}
	with := func(msg string, kv ...string) map[string]string {
		return base(msg, append(append([]string{}, common...), kv...)...)
	}
	equalFields(t, "parent", got["parent"], with("parent"))
	equalFields(t, "a", got["a"], with("a", "branch", "a"))
	equalFields(t, "b", got["b"], with("b", "branch", "b", "extra", "1"))
	equalFields(t, "aa", got["aa"], with("aa", "branch", "a", "leaf", "aa", "n", "3"))
	equalFields(t, "ns", got["ns"], with("ns", "req.id", "r1", "req.status", "200"))
	equalFields(t, "nsChild", got["nsChild"], with("nsChild", "req.id", "r1", "req.attempt", "2", "req.db.rows", "5"))
	equalFields(t, "parent again", got["parent again"], with("parent again"))
	equalFields(t, "root", got["root"], base("root"))
	equalFields(t, "override", got["override"], with("override", "branch", "call site"))

	if n := counter.n.Load(); n != 1 {
		t.Errorf("With field rendered %d times, want once", n)
	}
}

// With fields must not depend on memory the caller or the pool reuses.
func TestWithCopiesValues(t *testing.T) {
	s, p := setup(t)
	buf := []byte("original")
	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel)).
		With(zap.ByteString("bytes", buf), zap.Int("num", 12345), zap.Namespace("ns"), zap.Int("inner", 678))
	copy(buf, "CHANGED!")
	// Busy the encoder pool with other entries.
	for i := range 50 {
		zap.New(zapsls.NewCore(p, "app", zap.DebugLevel)).Info(fmt.Sprint("noise ", i), zap.Int("num", 99999), zap.Int("inner", 999))
	}
	logger.Info("check")
	got := byMsg(t, synced(t, s, logger))
	equalFields(t, "check", got["check"], map[string]string{
		"level": "INFO", "msg": "check", "bytes": "original", "num": "12345", "ns.inner": "678",
	})
}

func TestLevels(t *testing.T) {
	s, p := setup(t)
	level := zap.NewAtomicLevelAt(zap.WarnLevel)
	core := zapsls.NewCore(p, "app", level)
	if core.Enabled(zap.InfoLevel) || !core.Enabled(zap.WarnLevel) || !core.Enabled(zap.ErrorLevel) {
		t.Error("Enabled does not follow the level enabler")
	}
	// Asked directly (zapcore.LevelOf would also find warn by probing).
	if lc, ok := core.(interface{ Level() zapcore.Level }); !ok || lc.Level() != zap.WarnLevel {
		t.Errorf("core implements Level() %v; want it, returning warn", ok)
	}
	if ce := core.Check(zapcore.Entry{Level: zap.InfoLevel}, nil); ce != nil {
		t.Error("Check added the core for a disabled level")
	}
	if ce := core.Check(zapcore.Entry{Level: zap.WarnLevel}, nil); ce == nil {
		t.Error("Check skipped an enabled level")
	}
	if core.With([]zap.Field{zap.Int("x", 1)}).Enabled(zap.InfoLevel) {
		t.Error("With lost the level")
	}

	logger := zap.New(core)
	logger.Debug("debug")
	logger.Info("info")
	logger.Warn("warn")
	logger.Error("error")
	level.SetLevel(zap.DebugLevel) // changes at run time
	logger.Debug("debug later")

	var got []string
	for _, l := range synced(t, s, logger) {
		got = append(got, l.Fields["level"]+":"+l.Fields["msg"])
	}
	want := []string{"WARN:warn", "ERROR:error", "DEBUG:debug later"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored %v, want %v", got, want)
	}
}

func TestSyncDrains(t *testing.T) {
	s, p := setup(t)
	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel))
	const n = 500
	for i := range n {
		logger.Info("line", zap.Int("i", i))
	}
	logs := synced(t, s, logger) // Linger is a minute: only Sync sends them
	if len(logs) != n {
		t.Fatalf("after Sync the logstore holds %d logs, want %d", len(logs), n)
	}
	for i, l := range logs {
		if l.Fields["i"] != fmt.Sprint(i) {
			t.Fatalf("log %d has i=%s", i, l.Fields["i"])
		}
	}
}

func TestSyncTimeout(t *testing.T) {
	s, p := setup(t, func(c *producer.Config) { c.RetryBackoff = 10 * time.Millisecond })
	s.SetLatency(time.Minute)
	defer s.SetLatency(0)
	logger := zap.New(zapsls.NewCoreWithOptions(p, "app", zap.DebugLevel, &zapsls.Options{SyncTimeout: 50 * time.Millisecond}))
	logger.Info("slow")
	start := time.Now()
	err := logger.Sync()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sync = %v, want a deadline error", err)
	}
	// Bounded by SyncTimeout, not by the default: a generous margin for
	// slow machines, still far from DefaultSyncTimeout.
	if d := time.Since(start); d >= zapsls.DefaultSyncTimeout/2 {
		t.Errorf("Sync returned after %v, want about the 50ms SyncTimeout", d)
	}
	// The record is still buffered, not lost: once SLS answers promptly, a
	// Sync with the default bound delivers it.
	s.SetLatency(0)
	s.DropConnections() // abandon the slow request; the producer retries it
	if err := zapsls.NewCore(p, "app", zap.DebugLevel).Sync(); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if logs := s.Logs("app"); len(logs) == 0 {
		t.Fatal("the record was not delivered after the latency went away")
	}
}

// recordingHook runs where zap's default fatal hook would exit, and records
// what SLS holds at that moment.
type recordingHook struct {
	s    *slstest.Server
	logs []slstest.Log
}

func (h *recordingHook) OnWrite(*zapcore.CheckedEntry, []zapcore.Field) { h.logs = h.s.Logs("app") }

func TestFatalFlushes(t *testing.T) {
	s, p := setup(t)
	hook := &recordingHook{s: s}
	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel), zap.WithFatalHook(hook))
	logger.Info("before")
	logger.Fatal("last words", zap.String("reason", "config missing"))
	if len(hook.logs) != 2 {
		t.Fatalf("when the fatal hook ran, SLS held %d logs, want 2", len(hook.logs))
	}
	equalFields(t, "fatal", hook.logs[1].Fields, map[string]string{
		"level": "FATAL", "msg": "last words", "reason": "config missing",
	})
}

// A DPanic, Panic or Fatal entry the producer refuses (here: too large)
// still flushes the entries logged before it, and Write reports the refusal.
func TestFatalRefusedFlushes(t *testing.T) {
	s, p := setup(t, func(c *producer.Config) { c.MaxRecordBytes = 200 })
	hook := &recordingHook{s: s}
	var errOut bytes.Buffer
	core := zapsls.NewCore(p, "app", zap.DebugLevel)
	logger := zap.New(core, zap.WithFatalHook(hook), zap.ErrorOutput(zapcore.AddSync(&errOut)))
	logger.Info("before")
	logger.Fatal("last words", zap.String("dump", strings.Repeat("x", 300)))
	if len(hook.logs) != 1 || hook.logs[0].Fields["msg"] != "before" {
		t.Fatalf("when the fatal hook ran, SLS held %v, want the entry before", hook.logs)
	}
	if !strings.Contains(errOut.String(), "too large") {
		t.Errorf("zap's error output = %q, want the Log error", errOut.String())
	}
	err := core.Write(zapcore.Entry{Level: zap.PanicLevel, Message: "m"}, []zap.Field{zap.String("dump", strings.Repeat("x", 300))})
	if !errors.Is(err, producer.ErrRecordTooLarge) {
		t.Errorf("Write of a refused Panic entry = %v, want ErrRecordTooLarge", err)
	}
}

func TestPanicFlushes(t *testing.T) {
	for _, level := range []zapcore.Level{zap.PanicLevel, zap.DPanicLevel} {
		t.Run(level.String(), func(t *testing.T) {
			s, p := setup(t)
			logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel), zap.Development())
			var logs []slstest.Log
			func() {
				defer func() {
					if recover() == nil {
						t.Error("no panic")
					}
					logs = s.Logs("app") // before anything else flushes
				}()
				if ce := logger.Check(level, "giving up"); ce != nil {
					ce.Write(zap.Int("attempts", 3))
				}
			}()
			if len(logs) != 1 {
				t.Fatalf("when the panic was recovered, SLS held %d logs, want 1", len(logs))
			}
			equalFields(t, "panic", logs[0].Fields, map[string]string{
				"level": level.CapitalString(), "msg": "giving up", "attempts": "3",
			})
		})
	}
}

func TestEntry(t *testing.T) {
	s, p := setup(t)
	// Kafka timestamps are milliseconds. The time must be recent: franz-go
	// times a record out DeliveryTimeout after its timestamp, so an entry
	// dated older than that would fail at once.
	at := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel),
		zap.WithClock(fixedClock(at)), zap.AddCaller(), zap.AddStacktrace(zap.ErrorLevel)).Named("api").Named("v1")

	_, file, line, _ := runtime.Caller(0)
	logger.Error("failed") // on the line after runtime.Caller
	logs := synced(t, s, logger)
	if len(logs) != 1 {
		t.Fatalf("stored %d logs, want 1", len(logs))
	}
	l := logs[0]
	if want := at.Truncate(time.Second); !l.Time.Equal(want) { // __time__ is whole seconds
		t.Errorf("log time %v, want the entry time %v", l.Time, want)
	}
	f := l.Fields
	if f["level"] != "ERROR" || f["msg"] != "failed" || f["logger"] != "api.v1" {
		t.Errorf("fields %v", f)
	}
	if c, want := f["caller"], fmt.Sprintf("%s/%s:%d", filepath.Base(filepath.Dir(file)), filepath.Base(file), line+1); c != want {
		t.Errorf("caller = %q, want %q", c, want)
	}
	if st := f["stacktrace"]; !strings.Contains(st, "TestEntry") {
		t.Errorf("stacktrace = %q, want one naming TestEntry", st)
	}
	if len(f) != 5 {
		t.Errorf("fields %v, want level, logger, caller, msg and stacktrace only", f)
	}
}

func TestOptions(t *testing.T) {
	s, p := setup(t)
	core := zapsls.NewCoreWithOptions(p, "app", zap.DebugLevel, &zapsls.Options{
		LevelKey:      "severity",
		MessageKey:    "message",
		NameKey:       zapsls.Omit,
		CallerKey:     "src",
		FullCaller:    true,
		FunctionKey:   "func",
		StacktraceKey: zapsls.Omit,
		TraceIDKey:    "traceId",
		SpanIDKey:     zapsls.Omit,
	})
	span := trace.SpanFromContext(spanCtx(1, 1))
	ctx := trace.ContextWithSpan(context.Background(), span)

	logger := zap.New(core, zap.AddCaller(), zap.AddStacktrace(zap.DebugLevel)).Named("named")
	logger.Warn("hello", zapsls.Context(ctx))
	logs := synced(t, s, logger)
	if len(logs) != 1 {
		t.Fatalf("stored %d logs, want 1", len(logs))
	}
	f := logs[0].Fields
	if f["severity"] != "WARN" || f["message"] != "hello" || f["traceId"] != span.SpanContext().TraceID().String() {
		t.Errorf("fields %v", f)
	}
	if src := f["src"]; !strings.HasPrefix(src, "/") || !strings.Contains(src, "/producer/zapsls/core_test.go:") {
		t.Errorf("src = %q, want the full path", src)
	}
	if fn := f["func"]; !strings.HasSuffix(fn, "zapsls_test.TestOptions") {
		t.Errorf("func = %q", fn)
	}
	if len(f) != 5 {
		t.Errorf("fields %v, want severity, src, func, message and traceId only", f)
	}
}

// spanCtx returns a context carrying a sampled span context, as a tracer's
// span does (the core reads only the context: no OpenTelemetry SDK needed).
func spanCtx(traceID, spanID byte) context.Context {
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0: 0x4b, 15: traceID},
		SpanID:     trace.SpanID{0: 0x1e, 7: spanID},
		TraceFlags: trace.FlagsSampled,
	}))
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time                       { return time.Time(c) }
func (fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

func TestTrace(t *testing.T) {
	s, p := setup(t)
	ctx := spanCtx(1, 1)
	sc := trace.SpanContextFromContext(ctx)
	child := trace.SpanFromContext(spanCtx(1, 2)) // same trace, another span

	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel))
	logger.Info("at site", zapsls.Context(ctx))
	logger.With(zapsls.Context(ctx)).Info("with")
	logger.Info("in namespace", zap.Namespace("req"), zapsls.Context(ctx), zap.Int("n", 1))
	logger.Info("no span", zapsls.Context(context.Background()))
	logger.Info("nil ctx", zapsls.Context(nil))
	logger.Info("child", zapsls.Context(trace.ContextWithSpan(ctx, child)))

	got := byMsg(t, synced(t, s, logger))
	ids := func(msg string, kv ...string) map[string]string {
		m := map[string]string{"level": "INFO", "msg": msg, "trace_id": sc.TraceID().String(), "span_id": sc.SpanID().String()}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	equalFields(t, "at site", got["at site"], ids("at site"))
	equalFields(t, "with", got["with"], ids("with"))
	equalFields(t, "in namespace", got["in namespace"], ids("in namespace", "req.n", "1"))
	equalFields(t, "no span", got["no span"], map[string]string{"level": "INFO", "msg": "no span"})
	equalFields(t, "nil ctx", got["nil ctx"], map[string]string{"level": "INFO", "msg": "nil ctx"})
	equalFields(t, "child", got["child"], map[string]string{"level": "INFO", "msg": "child",
		"trace_id": sc.TraceID().String(), "span_id": child.SpanContext().SpanID().String()})
}

// In a Tee next to a console core, both get every entry; the console renders
// nothing for Context.
func TestTee(t *testing.T) {
	s, p := setup(t)
	ctx := spanCtx(3, 1)
	span := trace.SpanFromContext(ctx)

	var console bytes.Buffer
	cfg := zap.NewDevelopmentEncoderConfig()
	cfg.TimeKey = ""
	logger := zap.New(zapcore.NewTee(
		zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.AddSync(&console), zap.DebugLevel),
		zapsls.NewCore(p, "app", zap.InfoLevel),
	))
	logger = logger.With(zap.String("service", "shop"), zapsls.Context(ctx))
	logger.Debug("console only")
	logger.Info("both", zap.Namespace("http"), zap.Int("status", 200))

	logs := synced(t, s, logger)
	if len(logs) != 1 {
		t.Fatalf("SLS stored %d logs, want 1", len(logs))
	}
	equalFields(t, "both", logs[0].Fields, map[string]string{
		"level": "INFO", "msg": "both", "service": "shop", "http.status": "200",
		"trace_id": span.SpanContext().TraceID().String(), "span_id": span.SpanContext().SpanID().String(),
	})
	want := "DEBUG\tconsole only\t{\"service\": \"shop\"}\n" +
		"INFO\tboth\t{\"service\": \"shop\", \"http\": {\"status\": 200}}\n"
	if console.String() != want {
		t.Errorf("console output:\n%s\nwant:\n%s", console.String(), want)
	}
}

// Write returns Log's error; zap reports it to its ErrorOutput, never
// through the core itself.
func TestWriteError(t *testing.T) {
	s, p := setup(t)
	var errOut bytes.Buffer
	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel), zap.ErrorOutput(zapcore.AddSync(&errOut)))
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	core := zapsls.NewCore(p, "app", zap.DebugLevel)
	if err := core.Write(zapcore.Entry{Level: zap.InfoLevel, Message: "late"}, nil); !errors.Is(err, producer.ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	logger.Info("late")
	if !strings.Contains(errOut.String(), "producer closed") {
		t.Errorf("zap's error output = %q, want the Log error", errOut.String())
	}
	if err := logger.Sync(); err != nil {
		t.Errorf("Sync after Close = %v", err)
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs", n)
	}
	// Bad logstore names fail in Log, too.
	if err := zapsls.NewCore(p, "no such/logstore", zap.DebugLevel).Write(zapcore.Entry{}, nil); err == nil {
		t.Error("Write to an invalid logstore succeeded")
	}
}

// SLS keys are 1 to 128 bytes: a field with an empty key outside any
// namespace is stored under !BADKEY (as slogsls does) rather than costing
// the entry (the producer refuses an empty key). Under a namespace the key
// is the namespace's prefix, which is not empty.
func TestEmptyKey(t *testing.T) {
	s, p := setup(t)
	core := zapsls.NewCore(p, "app", zap.DebugLevel)
	if err := core.Write(zapcore.Entry{Message: "m"}, []zap.Field{zap.String("", "v")}); err != nil {
		t.Fatalf("Write of an empty key = %v", err)
	}
	logs := synced(t, s, zap.New(core))
	if len(logs) != 1 || logs[0].Fields["!BADKEY"] != "v" {
		t.Errorf("stored %v, want the value under !BADKEY", logs)
	}
}

func TestConcurrent(t *testing.T) {
	s, p := setup(t)
	logger := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel)).With(zap.String("shared", "yes"))
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			l := logger.With(zap.Int("g", g), zap.Namespace("ns"))
			for i := range each {
				l.Info("line", zap.Int("i", i), zap.Duration("d", time.Duration(i)*time.Millisecond),
					zap.Ints("arr", []int{g, i}))
			}
		})
	}
	wg.Wait()
	logs := synced(t, s, logger)
	if len(logs) != goroutines*each {
		t.Fatalf("stored %d logs, want %d", len(logs), goroutines*each)
	}
	for _, l := range logs {
		f := l.Fields
		i, _ := strconv.Atoi(f["ns.i"])
		if f["shared"] != "yes" || f["ns.arr"] != "["+f["g"]+","+f["ns.i"]+"]" ||
			f["ns.d"] != (time.Duration(i)*time.Millisecond).String() {
			t.Fatalf("fields mixed up: %v", f)
		}
	}
}
