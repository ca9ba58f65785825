package zapsls

import (
	"context"
	"errors"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benchEntry is the entry of BenchmarkCore: a message and five fields.
func benchEntry() (zapcore.Entry, []zapcore.Field) {
	return zapcore.Entry{Level: zap.InfoLevel, Time: time.Now(), Message: "request served"},
		[]zapcore.Field{
			zap.String("method", "POST"),
			zap.String("path", "/api/orders"),
			zap.Int("status", 402),
			zap.Duration("latency", 1234*time.Microsecond),
			zap.Error(errors.New("card declined")),
		}
}

// BenchmarkEncodeJSON encodes one field stored as JSON text: an array, an
// array of objects, and a reflected struct.
func BenchmarkEncodeJSON(b *testing.B) {
	c := NewCore(nil, "app", zap.DebugLevel).(*core)
	ent := zapcore.Entry{Level: zap.InfoLevel, Time: time.Now(), Message: "m"}
	for _, bc := range []struct {
		name  string
		field zapcore.Field
	}{
		{"array", zap.Ints("ids", []int{1, 2, 3})},
		{"objects", zap.Objects("users", []benchUser{{"ann", 1}, {"bob", 2}})},
		{"reflected", zap.Reflect("r", struct{ A, B int }{1, 2})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fields := []zapcore.Field{bc.field}
			b.ReportAllocs()
			for b.Loop() {
				c.encode(ent, fields).free()
			}
		})
	}
}

type benchUser struct {
	name string
	id   int
}

func (u benchUser) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("name", u.name)
	enc.AddInt("id", u.id)
	return nil
}

// With shares what the new fields leave unchanged: the parent's fields when
// none are added, its prefix when no namespace is opened, the parent itself
// when nothing changes.
func TestWithShares(t *testing.T) {
	parent := NewCore(nil, "app", zap.DebugLevel).With([]zapcore.Field{zap.String("a", "1"), zap.Namespace("ns")}).(*core)

	ns := parent.With([]zapcore.Field{zap.Namespace("inner")}).(*core)
	if ns.prefix != "ns.inner." || len(ns.fields) != 1 || &ns.fields[0] != &parent.fields[0] {
		t.Errorf("namespace only: prefix %q, fields %v not shared with the parent's", ns.prefix, ns.fields)
	}
	fields := parent.With([]zapcore.Field{zap.Int("b", 2)}).(*core)
	if fields.prefix != "ns." || unsafe.StringData(fields.prefix) != unsafe.StringData(parent.prefix) {
		t.Errorf("fields only: prefix %q not shared with the parent's", fields.prefix)
	}
	if len(fields.fields) != 2 || &fields.fields[0] == &parent.fields[0] {
		t.Errorf("fields only: fields %v share the parent's array", fields.fields)
	}
	if c := parent.With([]zapcore.Field{zap.Skip(), Context(context.Background())}); c != parent {
		t.Error("With of fields that add nothing returned a new core")
	}
}
