package slogsls

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/slskafka/slskafka/internal/fieldbuf"
	"github.com/slskafka/slskafka/producer"
)

// Keys of the trace fields added when the context carries a span.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

// Options configure a Handler. The zero value (or nil) logs Info and above,
// with the keys "level", "msg" and "source", and no time field.
type Options struct {
	// Level is the minimum level logged. Nil means slog.LevelInfo. A
	// *slog.LevelVar changes it while the program runs.
	Level slog.Leveler

	// AddSource adds the position of the logging call, "file:line", under
	// SourceKey. Records without a PC have no source. For the function name
	// too, have ReplaceAttr return slog.Group(slog.SourceKey, "function",
	// src.Function, "file", src.File, "line", src.Line) for it: fields
	// source.function, source.file, source.line.
	AddSource bool

	// ReplaceAttr rewrites or drops attributes before they are rendered,
	// with the contract of slog.HandlerOptions.ReplaceAttr: it is called
	// for every non-group attribute with the groups that contain it (which
	// it must not retain or modify), after LogValuer resolution; a zero
	// Attr drops the attribute; a group it returns is flattened.
	//
	// The built-ins are passed first, with no groups and with slog's keys
	// (slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey), so a
	// function written for slog.JSONHandler works unchanged; a built-in
	// whose key it leaves as is is then written under LevelKey, MessageKey,
	// SourceKey or TimeKey. The level is a slog.Level and the source a
	// *slog.Source. The time (omitted when zero) is passed even when
	// TimeKey is empty: if it returns a time.Time, that becomes the log
	// time; if it drops it, the record has no time (the producer stamps
	// it). TraceIDKey and SpanIDKey are passed too, as strings.
	ReplaceAttr func(groups []string, a slog.Attr) slog.Attr

	// LevelKey, MessageKey and SourceKey are the field names of the level,
	// the message and the source. Defaults slog.LevelKey ("level"),
	// slog.MessageKey ("msg") and slog.SourceKey ("source").
	LevelKey, MessageKey, SourceKey string

	// TimeKey, if set, makes the handler write the record time itself,
	// under this key, as slog.JSONHandler does (RFC 3339 with nanoseconds,
	// in the time's zone, or what ReplaceAttr makes of it). The producer
	// already keeps every record's time to the nanosecond in a field of
	// its own (producer.Config.TimeField, "time" by default), which a
	// field of the record with the same key replaces: set TimeKey to that
	// key for slog's format, or turn the producer's off, else the time is
	// stored under both. Default "": the handler writes none.
	TimeKey string

	// OnError is called with every error the producer returns from Log
	// (ErrClosed, ErrBufferFull, ErrRecordTooLarge, ...): records that were
	// not accepted and are lost. It is called on the goroutine that
	// logged, after the record was refused; it must not log through this
	// handler. Whether OnError is set or not, refusals are counted
	// (Refused) and Handle returns the error.
	OnError func(error)
}

// Handler is a slog.Handler that ships records to an SLS logstore through a
// producer. It is safe for concurrent use; handlers derived from it with
// WithAttrs and WithGroup share its producer and refusal count.
type Handler struct {
	p        *producer.Producer
	logstore string
	opts     Options
	refused  *atomic.Int64

	// pre holds the fields of WithAttrs, rendered once. The slice is never
	// appended to in place: every derived handler gets its own array.
	pre []producer.Field
	// prefix is the dotted key prefix of the open groups ("a.b."); groups
	// lists their names for ReplaceAttr, and is nil without it.
	// len(groups) == cap(groups).
	prefix string
	groups []string
}

// New returns a handler that ships records to logstore through p. opts may
// be nil. Closing p is the caller's job; records logged after that are
// refused with producer.ErrClosed.
func New(p *producer.Producer, logstore string, opts *Options) *Handler {
	h := &Handler{p: p, logstore: logstore, refused: new(atomic.Int64)}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.Level == nil {
		h.opts.Level = slog.LevelInfo
	}
	if h.opts.LevelKey == "" {
		h.opts.LevelKey = slog.LevelKey
	}
	if h.opts.MessageKey == "" {
		h.opts.MessageKey = slog.MessageKey
	}
	if h.opts.SourceKey == "" {
		h.opts.SourceKey = slog.SourceKey
	}
	return h
}

// Refused returns how many records the producer refused, summed over this
// handler, the handler it was derived from and every handler derived from
// them.
func (h *Handler) Refused() int64 { return h.refused.Load() }

// Enabled reports whether level is at or above Options.Level.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.opts.Level.Level()
}

// WithAttrs returns a handler whose records also carry attrs, rendered now
// under the open groups.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	s := getState(h)
	s.prefix = append(s.prefix, h.prefix...)
	s.groups = append(s.groups, h.groups...) // nil without ReplaceAttr
	for _, a := range attrs {
		s.appendAttr(a)
	}
	if len(s.Fields) == 0 {
		putState(s)
		return h
	}
	pre := fieldbuf.Extend(h.pre, s.Fields)
	putState(s)
	h2 := *h
	h2.pre = pre
	return &h2
}

// WithGroup returns a handler that puts the record's attributes, and those
// added later with WithAttrs, in group name: their keys get the prefix
// "name.". An empty name returns h.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	if h.opts.ReplaceAttr != nil {
		h2.groups = slices.Concat(h.groups, []string{name}) // len == cap: appends copy
	}
	return &h2
}

// Handle renders r into one flat record and hands it to the producer. It
// returns the producer's error if the record was not accepted; see the
// package documentation.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	s, logTime := h.render(ctx, r)
	// Log encodes the fields before it returns and keeps none of them, so
	// they may point into the state until putState. It gets no ctx: a
	// record must not be lost because the request that logged it ended,
	// and Log reads no values (render took the span already).
	err := h.p.Log(context.Background(), h.logstore, producer.Record{Time: logTime, Level: r.Level, Fields: s.Fields})
	putState(s)
	if err != nil {
		h.refused.Add(1)
		if h.opts.OnError != nil {
			h.opts.OnError(err)
		}
	}
	return err
}

// render renders r into the fields of a pooled state and returns it with
// the log time. The caller must putState it.
func (h *Handler) render(ctx context.Context, r slog.Record) (*state, time.Time) {
	s := getState(h)
	rep := h.opts.ReplaceAttr

	// Built-ins, at the top level.
	logTime := r.Time
	if !r.Time.IsZero() && (rep != nil || h.opts.TimeKey != "") {
		logTime = s.appendTime(r.Time)
	}
	if rep == nil {
		s.Add(h.opts.LevelKey, r.Level.String())
		s.Add(h.opts.MessageKey, r.Message)
	} else {
		s.appendBuiltin(slog.Any(slog.LevelKey, r.Level), h.opts.LevelKey)
		s.appendBuiltin(slog.String(slog.MessageKey, r.Message), h.opts.MessageKey)
	}
	if h.opts.AddSource && r.PC != 0 {
		if src := r.Source(); src != nil {
			if rep == nil {
				s.Add(h.opts.SourceKey, s.sourceString(src))
			} else {
				s.appendBuiltin(slog.Any(slog.SourceKey, src), h.opts.SourceKey)
			}
		}
	}
	// context.Background (what slog.Logger passes for calls without a
	// context) carries no span: skip the lookup, a tenth of render.
	if sc := spanContext(ctx); sc.IsValid() {
		if rep == nil {
			s.AddTrace(sc, TraceIDKey, SpanIDKey)
		} else {
			// Real strings: ReplaceAttr may keep what it is given.
			s.appendBuiltin(slog.String(TraceIDKey, sc.TraceID().String()), TraceIDKey)
			s.appendBuiltin(slog.String(SpanIDKey, sc.SpanID().String()), SpanIDKey)
		}
	}

	// WithAttrs fields, then the record's own attributes in the open groups.
	s.Fields = append(s.Fields, h.pre...)
	s.prefix = append(s.prefix, h.prefix...)
	s.groups = append(s.groups, h.groups...) // nil without ReplaceAttr
	r.Attrs(func(a slog.Attr) bool {
		s.appendAttr(a)
		return true
	})
	return s, logTime
}

// spanContext is trace.SpanContextFromContext, skipping the lookup for
// context.Background.
func spanContext(ctx context.Context) trace.SpanContext {
	if ctx == context.Background() {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(ctx)
}

// appendTime passes the record time through ReplaceAttr, writes it as a
// field if TimeKey is set, and returns the log time.
func (s *state) appendTime(t time.Time) time.Time {
	a := slog.Time(slog.TimeKey, t.Round(0)) // no monotonic reading, as slog
	if rep := s.h.opts.ReplaceAttr; rep != nil {
		a = rep(nil, a)
		a.Value = resolve(a.Value)
		if isEmpty(a) {
			return time.Time{}
		}
	}
	if a.Value.Kind() == slog.KindTime {
		t = a.Value.Time()
	}
	if key := s.h.opts.TimeKey; key != "" {
		if a.Key == slog.TimeKey {
			a.Key = key
		}
		s.appendReplaced(a, a.Value.Kind())
	}
	return t
}

// appendBuiltin passes a top-level built-in attribute through ReplaceAttr
// and writes it under key if ReplaceAttr kept slog's key.
func (s *state) appendBuiltin(a slog.Attr, key string) {
	builtin := a.Key
	a = s.h.opts.ReplaceAttr(nil, a)
	a.Value = resolve(a.Value)
	if a.Key == builtin {
		a.Key = key
	}
	s.appendReplaced(a, a.Value.Kind())
}
