// Package fieldbuf holds what the slog handler (producer/slogsls) and the zap
// core (producer/zapsls) share: a buffer of fields whose strings alias one
// byte slice, the limits on what a pool may keep of it, and the copy that
// gives a derived logger fields of its own.
//
// Like every internal package it does not import producer: its field type
// is any record.Pair, producer.Field for the adapters.
package fieldbuf

import (
	"encoding/hex"
	"strings"
	"unsafe"

	"go.opentelemetry.io/otel/trace"

	"github.com/slskafka/slskafka/internal/record"
)

// MaxPooledBytes and MaxPooledFields bound the capacities a pooled Buffer
// may keep, so that one huge record does not pin its memory in a pool.
const (
	MaxPooledBytes  = 64 << 10
	MaxPooledFields = 1024
)

// Buffer holds the fields of one record (or one With call). Formatted keys
// and values are appended to Buf and handed out as strings that alias it
// (Since). That is safe because bytes already in Buf are never changed while
// those strings are in use: an append writes past them, or moves Buf to a
// new array and leaves the old one as it was, kept alive by the strings.
// Truncate Buf (Reset) only once nothing uses the strings any more:
// producer.Producer.Log keeps none of them when it returns, and AppendOwned
// copies them for a longer life.
type Buffer[F record.Pair] struct {
	Fields []F
	Buf    []byte
}

// Since returns Buf[start:] as a string that aliases Buf.
func (b *Buffer[F]) Since(start int) string {
	if start == len(b.Buf) {
		return ""
	}
	return unsafe.String(&b.Buf[start], len(b.Buf)-start)
}

// Add adds a field.
func (b *Buffer[F]) Add(key, value string) {
	b.Fields = append(b.Fields, F{Key: key, Value: value})
}

// AddSince adds a field whose value is Buf[start:]. Resolve the key before
// formatting the value, since Key may append to Buf too.
func (b *Buffer[F]) AddSince(key string, start int) { b.Add(key, b.Since(start)) }

// BadKey stands in for an empty key outside any group or namespace: SLS
// keys are 1 to 128 bytes, so the producer refuses an empty one, and one
// attribute should not cost the whole log line. It is slog's own marker for
// an attribute without a proper key.
const BadKey = "!BADKEY"

// Key returns prefix+key, appending it to Buf unless prefix is empty, or
// BadKey for an empty key without a prefix.
func (b *Buffer[F]) Key(prefix []byte, key string) string {
	if len(prefix) == 0 {
		if key == "" {
			return BadKey
		}
		return key
	}
	start := len(b.Buf)
	b.Buf = append(b.Buf, prefix...)
	b.Buf = append(b.Buf, key...)
	return b.Since(start)
}

// AddTrace adds the trace and span id of sc in lower-case hex, under
// traceKey and spanKey; an empty key leaves that id out. sc must be valid.
func (b *Buffer[F]) AddTrace(sc trace.SpanContext, traceKey, spanKey string) {
	if traceKey != "" {
		id := sc.TraceID()
		start := len(b.Buf)
		b.Buf = hex.AppendEncode(b.Buf, id[:])
		b.AddSince(traceKey, start)
	}
	if spanKey != "" {
		id := sc.SpanID()
		start := len(b.Buf)
		b.Buf = hex.AppendEncode(b.Buf, id[:])
		b.AddSince(spanKey, start)
	}
}

// Reset empties b for reuse and reports whether it is small enough to go
// back to a pool; if not, b is left as it is, for the collector.
func (b *Buffer[F]) Reset() bool {
	if cap(b.Buf) > MaxPooledBytes || cap(b.Fields) > MaxPooledFields {
		return false
	}
	clear(b.Fields) // do not pin the last record's strings
	b.Fields = b.Fields[:0]
	b.Buf = b.Buf[:0]
	return true
}

// Extend returns a new array holding inherited followed by owned copies of
// added (see AppendOwned), with no room to spare: a logger derived from a
// parent never shares the parent's array, and appending to the result
// copies it, so siblings derived from one parent never see each other's
// fields.
func Extend[F record.Pair](inherited, added []F) []F {
	fields := make([]F, len(inherited), len(inherited)+len(added))
	copy(fields, inherited)
	return AppendOwned(fields, added)
}

// AppendOwned appends copies of fields to dst and returns it. The copies'
// keys and values share one new string, so they stay valid whatever happens
// to the memory fields point into (a Buffer, the caller's byte slices).
func AppendOwned[F record.Pair](dst, fields []F) []F {
	n := 0
	for _, f := range fields {
		f := record.Field(f)
		n += len(f.Key) + len(f.Value)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, f := range fields {
		f := record.Field(f)
		sb.WriteString(f.Key)
		sb.WriteString(f.Value)
	}
	all, off := sb.String(), 0
	for _, f := range fields {
		f := record.Field(f)
		k := all[off : off+len(f.Key)]
		off += len(f.Key)
		dst = append(dst, F{Key: k, Value: all[off : off+len(f.Value)]})
		off += len(f.Value)
	}
	return dst
}
