package otelsls

import (
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/slskafka/slskafka/producer"
)

// Keys of the fields every record may carry besides its attributes.
const (
	LevelKey          = "level"           // severity text
	SeverityNumberKey = "severity_number" // OpenTelemetry severity, 1 to 24
	MessageKey        = "msg"             // the body
	EventNameKey      = "event_name"
	TraceIDKey        = "trace_id" // lower-case hex, as slogsls and zapsls write it
	SpanIDKey         = "span_id"
	ScopeNameKey      = "otel.scope.name"    // the instrumentation scope (logger name)
	ScopeVersionKey   = "otel.scope.version" // and its version, when set
)

// state renders one record at a time into fields whose strings alias buf.
// That is safe because bytes in buf are never changed while those strings
// are in use: appends write past them or move buf to a new array, and buf
// is truncated (reset) only after producer.Log, which keeps no field, has
// returned.
type state struct {
	buf    []byte
	fields []producer.Field
	prefix []byte // dotted prefix of the open maps, "a.b."
}

// maxPooled bounds what a pooled state keeps, so that one huge record does
// not pin its memory.
const maxPooled = 64 << 10

var statePool = sync.Pool{New: func() any {
	return &state{buf: make([]byte, 0, 1024), fields: make([]producer.Field, 0, 32)}
}}

func getState() *state { return statePool.Get().(*state) }

func putState(s *state) {
	if cap(s.buf) > maxPooled || cap(s.fields) > maxPooled/16 {
		return
	}
	s.reset()
	statePool.Put(s)
}

func (s *state) reset() {
	clear(s.fields) // do not pin the last record's strings
	s.fields = s.fields[:0]
	s.buf = s.buf[:0]
	s.prefix = s.prefix[:0]
}

// since returns buf[start:] as a string that aliases buf.
func (s *state) since(start int) string {
	if start == len(s.buf) {
		return ""
	}
	return unsafe.String(&s.buf[start], len(s.buf)-start)
}

func (s *state) add(key, value string) {
	s.fields = append(s.fields, producer.Field{Key: key, Value: value})
}

// render returns r as a producer record: the resource's fields, the
// built-ins, then the attributes.
func (s *state) render(r *sdklog.Record, res []producer.Field) producer.Record {
	s.fields = append(s.fields, res...)
	if scope := r.InstrumentationScope(); scope.Name != "" {
		s.add(ScopeNameKey, scope.Name)
		if scope.Version != "" {
			s.add(ScopeVersionKey, scope.Version)
		}
	}
	sev := r.Severity()
	switch text := r.SeverityText(); {
	case text != "":
		s.add(LevelKey, text)
	case sev != 0:
		s.add(LevelKey, sev.String())
	}
	if sev != 0 {
		start := len(s.buf)
		s.buf = strconv.AppendInt(s.buf, int64(sev), 10)
		s.add(SeverityNumberKey, s.since(start))
	}
	if body := r.Body(); body.Type() != attribute.EMPTY {
		s.value(MessageKey, body)
	}
	if name := r.EventName(); name != "" {
		s.add(EventNameKey, name)
	}
	if id := r.TraceID(); id.IsValid() {
		start := len(s.buf)
		s.buf = hex.AppendEncode(s.buf, id[:])
		s.add(TraceIDKey, s.since(start))
	}
	if id := r.SpanID(); id.IsValid() {
		start := len(s.buf)
		s.buf = hex.AppendEncode(s.buf, id[:])
		s.add(SpanIDKey, s.since(start))
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		s.value(string(kv.Key), kv.Value)
		return true
	})
	t := r.Timestamp()
	if t.IsZero() {
		t = r.ObservedTimestamp()
	}
	return producer.Record{Time: t, Level: slogLevel(sev), Fields: s.fields}
}

// slogLevel maps an OpenTelemetry severity onto slog's levels as the
// OpenTelemetry slog bridge maps them the other way (severity = level + 9):
// TRACE1 -8, DEBUG1 -4, INFO1 0, WARN1 4, ERROR1 8, FATAL1 12. A record
// without a severity is INFO, the producer's zero Level.
func slogLevel(sev otellog.Severity) slog.Level {
	if sev == 0 {
		return slog.LevelInfo
	}
	return slog.Level(int(sev) - 9)
}

// value adds v under the open maps' prefix and key: a map's members as
// fields of their own, anything else as one field.
func (s *state) value(key string, v attribute.Value) {
	if v.Type() == attribute.MAP {
		n := len(s.prefix)
		s.prefix = append(s.prefix, key...)
		s.prefix = append(s.prefix, '.')
		for _, kv := range v.AsMap() {
			s.value(string(kv.Key), kv.Value)
		}
		s.prefix = s.prefix[:n]
		return
	}
	if len(s.prefix) > 0 {
		start := len(s.buf)
		s.buf = append(s.buf, s.prefix...)
		s.buf = append(s.buf, key...)
		key = s.since(start)
	}
	start := len(s.buf)
	switch v.Type() {
	case attribute.STRING:
		s.add(key, v.AsString())
		return
	case attribute.BOOL:
		s.buf = strconv.AppendBool(s.buf, v.AsBool())
	case attribute.INT64:
		s.buf = strconv.AppendInt(s.buf, v.AsInt64(), 10)
	case attribute.FLOAT64:
		s.buf = strconv.AppendFloat(s.buf, v.AsFloat64(), 'g', -1, 64)
	default: // slices, bytes, empty: OpenTelemetry's rendering for non-OTLP protocols
		s.add(key, v.String())
		return
	}
	s.add(key, s.since(start))
}

// resourceFields is a resource rendered into fields that own their strings.
type resourceFields struct {
	res    *resource.Resource
	fields []producer.Field
}

// resource returns the fields of r's resource, rendering them the first
// time a resource is seen.
func (e *Exporter) resource(r *sdklog.Record) []producer.Field {
	res := r.Resource()
	if res == nil || res.Len() == 0 {
		return nil
	}
	if rf := e.res.Load(); rf != nil && rf.res == res {
		return rf.fields
	}
	s := getState()
	for it := res.Iter(); it.Next(); {
		kv := it.Attribute()
		s.value(string(kv.Key), kv.Value)
	}
	rf := &resourceFields{res: res, fields: make([]producer.Field, len(s.fields))}
	for i, f := range s.fields {
		rf.fields[i] = producer.Field{Key: string([]byte(f.Key)), Value: string([]byte(f.Value))}
	}
	putState(s)
	e.res.Store(rf)
	return rf.fields
}
