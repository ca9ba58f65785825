package zapsls

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"sync"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/fieldbuf"
	"github.com/slskafka/slskafka/internal/objectlog"
	"github.com/slskafka/slskafka/internal/record"
)

// The fast path: an entry whose fields are all of the common types below,
// logged through a core with no open namespace, is written straight into
// JSON (record.Object) and handed to the producer through objectlog. The
// Field path (encode) writes each value into a producer.Field first, and
// the producer reads every field again to write its JSON: for a typical
// entry that second pass is about a third of the core's cost. Both paths
// write the same bytes (TestObjectAgreesWithFields); every other entry
// takes the Field path.

// objectEncoder is the pooled state of one fast-path Write.
type objectEncoder struct {
	obj     record.Object
	scratch []byte // a caller or an id, formatted before it is added
}

var objectPool = sync.Pool{New: func() any { return new(objectEncoder) }}

// maxPooledObject is the largest encoding whose encoder goes back to the
// pool, as fieldbuf.MaxPooledBytes for the Field path.
const maxPooledObject = 64 << 10

func (oe *objectEncoder) free() {
	if oe.obj.Size() > maxPooledObject {
		return
	}
	oe.obj.Reset()
	objectPool.Put(oe)
}

// fastType reports whether addObjectField writes fields of type t.
func fastType(t zapcore.FieldType) bool {
	switch t {
	case zapcore.StringType, zapcore.Int64Type, zapcore.Int32Type, zapcore.DurationType,
		zapcore.BoolType, zapcore.Float64Type, zapcore.ErrorType, zapcore.SkipType:
		return true
	}
	return false
}

// fastFields reports whether every field is of a type the fast path writes.
func fastFields(fields []zapcore.Field) bool {
	for i := range fields {
		if !fastType(fields[i].Type) {
			return false
		}
	}
	return true
}

// writeObject is Write's fast path. It reports false, having logged
// nothing, for an entry it cannot write as the Field path would: then
// Write takes that path.
func (c *core) writeObject(ent zapcore.Entry, fields []zapcore.Field) (bool, error) {
	oe := objectPool.Get().(*objectEncoder)
	defer oe.free()
	if !c.encodeObject(oe, ent, fields) {
		return false, nil
	}
	return true, objectlog.Log(c.p, context.Background(), c.logstore, ent.Time, slogLevel(ent.Level), &oe.obj)
}

// encodeObject is encode for the fast path: it adds the record's fields to
// oe in the same order, or reports false.
func (c *core) encodeObject(oe *objectEncoder, ent zapcore.Entry, fields []zapcore.Field) bool {
	c.addEntry(oe, ent)
	if c.obj != nil {
		oe.obj.AddObject(c.obj)
	}
	if !c.addObjectFields(oe, fields) {
		return false
	}
	if ent.Stack != "" && c.keys.stack != "" {
		oe.obj.AddString(c.keys.stack, ent.Stack)
	}
	return true
}

func (oe *objectEncoder) put(key, value string) { oe.obj.AddString(key, value) }

func (oe *objectEncoder) putCaller(key string, c zapcore.EntryCaller, full bool) {
	oe.scratch = appendCaller(oe.scratch[:0], c, full)
	oe.obj.AddString(key, bytesString(oe.scratch))
}

// addObjectFields is addFields for the fast path: fields of the types
// fastType admits, under no namespace, written as Field.AddTo has the Field
// path write them. It reports false for an error that zap would write more
// than its text for.
func (c *core) addObjectFields(oe *objectEncoder, fields []zapcore.Field) bool {
	o := &oe.obj
	for i := range fields {
		f := &fields[i]
		k := f.Key
		if k == "" {
			k = fieldbuf.BadKey // as the Field path keys it (fieldbuf.Buffer.Key)
		}
		switch f.Type {
		case zapcore.StringType:
			o.AddString(k, f.String)
		case zapcore.Int64Type:
			o.AddInt(k, f.Integer)
		case zapcore.Int32Type:
			o.AddInt(k, int64(int32(f.Integer)))
		case zapcore.DurationType:
			// Duration.String is inlined and AddString keeps no value,
			// so the string it builds stays on the stack.
			o.AddString(k, time.Duration(f.Integer).String())
		case zapcore.BoolType:
			o.AddBool(k, f.Integer == 1)
		case zapcore.Float64Type:
			o.AddFloat(k, math.Float64frombits(uint64(f.Integer)), 64)
		case zapcore.ErrorType:
			text, ok := errorText(f.Interface)
			if !ok {
				return false
			}
			o.AddString(k, text)
		case zapcore.SkipType:
			if ctx, ok := contextOf(f); ok {
				c.addTraceObject(oe, ctx)
			}
		default:
			return false
		}
	}
	return true
}

// errorText is err.Error(), when that is all zap's encodeError writes for
// err: not for an error group (it adds "<key>Causes") or a fmt.Formatter
// (it may add "<key>Verbose"), nor when Error panics (it writes "<nil>" or
// a "<key>Error" field). Then ok is false.
func errorText(v any) (text string, ok bool) {
	err, _ := v.(error)
	switch err.(type) {
	case nil, interface{ Errors() []error }, fmt.Formatter:
		return "", false
	}
	defer func() {
		if recover() != nil {
			text, ok = "", false
		}
	}()
	return err.Error(), true
}

// addTraceObject is addTrace for the fast path.
func (c *core) addTraceObject(oe *objectEncoder, ctx context.Context) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	if k := c.keys.traceID; k != "" {
		id := sc.TraceID()
		oe.scratch = hex.AppendEncode(oe.scratch[:0], id[:])
		oe.obj.AddString(k, bytesString(oe.scratch))
	}
	if k := c.keys.spanID; k != "" {
		id := sc.SpanID()
		oe.scratch = hex.AppendEncode(oe.scratch[:0], id[:])
		oe.obj.AddString(k, bytesString(oe.scratch))
	}
}

// withObject returns c's With fields and fields, encoded for the fast path,
// or nil if fields hold one it does not write.
func (c *core) withObject(fields []zapcore.Field) *record.Object {
	if !fastFields(fields) {
		return nil
	}
	oe := objectPool.Get().(*objectEncoder)
	defer oe.free()
	if c.obj != nil {
		oe.obj.AddObject(c.obj)
	}
	if !c.addObjectFields(oe, fields) {
		return nil
	}
	return oe.obj.Clone()
}

// bytesString is b as a string without a copy, for a value an Object
// copies as it adds it and does not keep.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
