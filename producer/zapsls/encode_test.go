package zapsls

import (
	"context"
	"errors"
	"math"
	"slices"
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

// addFields adds the types it handles itself exactly as Field.AddTo adds
// them, whatever the field holds: fields built by zap's constructors, and
// fields built by hand whose Integer is out of the type's range (AddTo
// converts it to the type first).
func TestAddFieldsAsAddTo(t *testing.T) {
	c := NewCore(nil, "app", zap.DebugLevel).(*core)
	var fields []zapcore.Field
	for _, n := range []int64{0, 1, -1, 2, 127, -128, 255, 1 << 15, -1 << 31, 1<<32 + 7, math.MaxInt64, math.MinInt64} {
		for _, typ := range []zapcore.FieldType{zapcore.StringType, zapcore.Int64Type, zapcore.Int32Type,
			zapcore.Int16Type, zapcore.Int8Type, zapcore.DurationType, zapcore.BoolType, zapcore.SkipType} {
			fields = append(fields, zapcore.Field{Key: "k", Type: typ, Integer: n, String: "s"})
		}
	}
	fields = append(fields, zap.String("s", "v"), zap.Int("i", -42), zap.Int32("i32", -5), zap.Bool("t", true),
		zap.Bool("f", false), zap.Duration("d", 1500*time.Millisecond), zap.Skip(), zap.Namespace("ns"), zap.String("in", "ns"))
	for _, ns := range []string{"", "outer"} {
		got, want := getEncoder(), getEncoder()
		if ns != "" {
			got.OpenNamespace(ns)
			want.OpenNamespace(ns)
		}
		c.addFields(got, fields)
		for _, f := range fields {
			f.AddTo(want)
		}
		if !slices.Equal(got.Fields, want.Fields) {
			t.Errorf("namespace %q: addFields added\n%v\nField.AddTo\n%v", ns, got.Fields, want.Fields)
		}
		got.free()
		want.free()
	}
}
