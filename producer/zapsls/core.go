package zapsls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/fieldbuf"
	"github.com/slskafka/slskafka/internal/record"
	"github.com/slskafka/slskafka/producer"
)

// DefaultSyncTimeout bounds Sync, and the flush after a DPanic, Panic or
// Fatal entry, when Options.SyncTimeout is zero.
const DefaultSyncTimeout = 5 * time.Second

// Omit, as an Options key, leaves that part of the entry out.
const Omit = "-"

// Options configures a core. The zero value, like a nil *Options, selects
// every default.
type Options struct {
	// LevelKey names the level field, such as "INFO". Default "level".
	LevelKey string
	// MessageKey names the message field. Default "msg".
	MessageKey string
	// NameKey names the logger-name field, present when the logger is
	// named. Default "logger".
	NameKey string
	// CallerKey names the caller field, "pkg/file.go:42" (or the full path
	// with FullCaller), present when the logger adds the caller
	// (zap.AddCaller). Default "caller".
	CallerKey string
	// FullCaller stores the caller's full file path rather than its last
	// directory and file name.
	FullCaller bool
	// FunctionKey, if set, names a field holding the caller's function
	// name. Default: omitted, as in zap's production encoder config.
	FunctionKey string
	// StacktraceKey names the stack trace field, present when the logger
	// adds one (zap.AddStacktrace). Default "stacktrace".
	StacktraceKey string
	// TraceIDKey and SpanIDKey name the fields that Context adds.
	// Default "trace_id" and "span_id".
	TraceIDKey, SpanIDKey string

	// SyncTimeout bounds Sync, and the flush that follows a DPanic, Panic
	// or Fatal entry. Default 5 s (DefaultSyncTimeout).
	SyncTimeout time.Duration
}

// keys are the resolved entry keys; "" omits.
type keys struct {
	level, msg, name, caller, function, stack, traceID, spanID string
	fullCaller                                                 bool
}

func key(set, def string) string {
	switch set {
	case "":
		return def
	case Omit:
		return ""
	}
	return set
}

// NewCore returns a core that ships every entry enab enables to logstore
// through p, with the default Options.
func NewCore(p *producer.Producer, logstore string, enab zapcore.LevelEnabler) zapcore.Core {
	return NewCoreWithOptions(p, logstore, enab, nil)
}

// NewCoreWithOptions is NewCore with options; nil selects the defaults.
func NewCoreWithOptions(p *producer.Producer, logstore string, enab zapcore.LevelEnabler, opts *Options) zapcore.Core {
	if opts == nil {
		opts = &Options{}
	}
	c := &core{
		enab:     enab,
		p:        p,
		logstore: logstore,
		timeout:  opts.SyncTimeout,
		keys: &keys{
			level:      key(opts.LevelKey, "level"),
			msg:        key(opts.MessageKey, "msg"),
			name:       key(opts.NameKey, "logger"),
			caller:     key(opts.CallerKey, "caller"),
			function:   key(opts.FunctionKey, ""),
			stack:      key(opts.StacktraceKey, "stacktrace"),
			traceID:    key(opts.TraceIDKey, "trace_id"),
			spanID:     key(opts.SpanIDKey, "span_id"),
			fullCaller: opts.FullCaller,
		},
	}
	if c.timeout <= 0 {
		c.timeout = DefaultSyncTimeout
	}
	return c
}

// core is immutable once built: With returns a new one, so cores are safe
// for concurrent use without locks.
type core struct {
	enab     zapcore.LevelEnabler
	p        *producer.Producer
	logstore string
	timeout  time.Duration
	keys     *keys

	// fields were added by With, encoded once; their strings are owned by
	// this core and its descendants and never change.
	fields []producer.Field
	// prefix is the open namespaces, "a.b.", that fields logged later go
	// under.
	prefix string
	// obj is fields encoded for the fast path (object.go), nil if there
	// are none; slow is set when they hold one the fast path does not
	// write, or a namespace is open: then every entry takes the Field
	// path.
	obj  *record.Object
	slow bool
}

var _ zapcore.Core = (*core)(nil)

func (c *core) Enabled(l zapcore.Level) bool { return c.enab.Enabled(l) }

// Level lets zapcore.LevelOf (and zap.Logger.Level) ask the core for its
// minimum level without probing every level.
func (c *core) Level() zapcore.Level { return zapcore.LevelOf(c.enab) }

// With encodes fields once. The clone gets its own slice when fields add
// any, so sibling loggers built from one parent never see each other's
// fields; what fields leave unchanged (the parent's fields, its namespaces)
// is shared.
func (c *core) With(fields []zapcore.Field) zapcore.Core {
	if len(fields) == 0 {
		return c
	}
	e := getEncoder()
	defer e.free()
	e.prefix = append(e.prefix, c.prefix...)
	c.addFields(e, fields)

	clone := *c
	if string(e.prefix) != c.prefix {
		clone.prefix = string(e.prefix)
	}
	if len(e.Fields) > 0 {
		// The new keys and values point into the pooled encoder or the
		// caller's values: Extend copies them into a string the clone owns.
		clone.fields = fieldbuf.Extend(c.fields, e.Fields)
	} else if clone.prefix == c.prefix {
		return c // nothing changed: zap.Skip, a Context without a span
	}
	if !clone.slow {
		clone.obj = c.withObject(fields)
		clone.slow = clone.obj == nil || clone.prefix != ""
	}
	return &clone
}

func (c *core) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

// Write hands the entry to the producer and returns Log's error: nil once
// the record is accepted. Entries above Error are flushed before Write
// returns, since the program may be about to exit, whether or not the
// producer accepted them; then Write returns Log's and Sync's errors.
func (c *core) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	var err error
	written := false
	if !c.slow && fastFields(fields) {
		written, err = c.writeObject(ent, fields)
	}
	if !written {
		err = c.writeFields(ent, fields)
	}
	if ent.Level > zapcore.ErrorLevel {
		// Even if this entry was refused, the ones before it must reach
		// SLS before zap panics or exits.
		return errors.Join(err, c.Sync())
	}
	return err
}

// writeFields is Write's Field path: every entry the fast path
// (writeObject) does not take.
func (c *core) writeFields(ent zapcore.Entry, fields []zapcore.Field) error {
	e := c.encode(ent, fields)
	defer e.free()
	return c.p.Log(context.Background(), c.logstore, producer.Record{Time: ent.Time, Level: slogLevel(ent.Level), Fields: e.Fields})
}

// slogLevel maps a zap level onto slog's, for the producer's level-aware
// shedding (producer.Config.ShedLevel): Debug, Info, Warn and Error are
// slog's, and DPanic, Panic and Fatal are 12, 13 and 14, as OpenTelemetry's
// zap bridge maps them to FATAL1 to FATAL3 and its slog bridge maps FATAL1
// to 12.
func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l <= zapcore.ErrorLevel:
		return slog.Level(4 * int(l)) // Info 0, Warn 4, Error 8
	}
	return slog.LevelError + 4 + slog.Level(l-zapcore.DPanicLevel)
}

// Sync waits until every record the producer accepted is delivered, at most
// Options.SyncTimeout. It flushes the whole producer, so it also waits for
// records other cores or callers logged through it.
func (c *core) Sync() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := c.p.Flush(ctx); err != nil {
		return fmt.Errorf("zapsls: sync: %w", err)
	}
	return nil
}

// encode returns a pooled encoder holding the record's fields: the entry's,
// then With's, then the call site's, then the stack trace, which is where
// zap's JSON encoder puts it. Free it once the fields are used.
func (c *core) encode(ent zapcore.Entry, fields []zapcore.Field) *encoder {
	e := getEncoder()
	c.addEntry(e, ent)
	e.Fields = append(e.Fields, c.fields...)
	e.prefix = append(e.prefix, c.prefix...)
	c.addFields(e, fields)
	if ent.Stack != "" && c.keys.stack != "" {
		e.Add(c.keys.stack, ent.Stack)
	}
	return e
}

// entryWriter is where addEntry writes the entry's own fields: the Field
// path's encoder or the fast path's objectEncoder.
type entryWriter interface {
	// put adds value under key, outside any namespace.
	put(key, value string)
	// putCaller adds c as appendCaller writes it.
	putCaller(key string, c zapcore.EntryCaller, full bool)
}

func (e *encoder) put(key, value string) { e.Add(key, value) }

func (e *encoder) putCaller(key string, c zapcore.EntryCaller, full bool) {
	start := len(e.Buf)
	e.Buf = appendCaller(e.Buf, c, full)
	e.AddSince(key, start)
}

// addEntry adds the entry's own fields in the order zap's JSON encoder
// writes them.
func (c *core) addEntry(w entryWriter, ent zapcore.Entry) {
	k := c.keys
	if k.level != "" {
		// Upper case, as slogsls and slog.JSONHandler write it: one
		// spelling in a logstore both feed.
		w.put(k.level, ent.Level.CapitalString())
	}
	if k.name != "" && ent.LoggerName != "" {
		w.put(k.name, ent.LoggerName)
	}
	if ent.Caller.Defined {
		if k.caller != "" {
			w.putCaller(k.caller, ent.Caller, k.fullCaller)
		}
		if k.function != "" && ent.Caller.Function != "" {
			w.put(k.function, ent.Caller.Function)
		}
	}
	if k.msg != "" {
		w.put(k.msg, ent.Message)
	}
}

// appendCaller appends what EntryCaller.TrimmedPath (or FullPath) returns,
// without allocating.
func appendCaller(b []byte, c zapcore.EntryCaller, full bool) []byte {
	file := c.File
	if !full {
		if i := strings.LastIndexByte(file, '/'); i >= 0 {
			if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
				file = file[j+1:]
			}
		}
	}
	b = append(b, file...)
	b = append(b, ':')
	return strconv.AppendInt(b, int64(c.Line), 10)
}

// addFields encodes fields into e; Context fields become trace fields.
//
// The commonest types are added here as Field.AddTo adds them, with the
// same calls, but without copying each 64-byte field for AddTo's value
// receiver and calling e through the ObjectEncoder interface: a fifth of
// the core's own cost for a typical entry. Every other type goes through
// AddTo.
func (c *core) addFields(e *encoder, fields []zapcore.Field) {
	for i := range fields {
		f := &fields[i]
		switch f.Type {
		case zapcore.StringType:
			e.AddString(f.Key, f.String)
		case zapcore.Int64Type:
			e.AddInt64(f.Key, f.Integer)
		case zapcore.Int32Type:
			e.AddInt64(f.Key, int64(int32(f.Integer)))
		case zapcore.DurationType:
			e.AddDuration(f.Key, time.Duration(f.Integer))
		case zapcore.BoolType:
			e.AddBool(f.Key, f.Integer == 1)
		case zapcore.SkipType:
			if ctx, ok := contextOf(f); ok {
				c.addTrace(e, ctx)
			}
		default:
			f.AddTo(e)
		}
	}
}
