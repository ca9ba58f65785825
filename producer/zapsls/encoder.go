package zapsls

import (
	"encoding/base64"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/fieldbuf"
	"github.com/slskafka/slskafka/producer"
)

// encoder flattens zap fields into producer fields. It implements
// zapcore.ObjectEncoder so that zapcore.Field.AddTo and ObjectMarshalers do
// the type switch.
//
// Formatted values and prefixed keys are appended to the embedded
// fieldbuf.Buffer and alias it (see there why that is safe). They are used
// until producer.Producer.Log returns (Log does not retain them) or copied by
// With (core.With); only then is the encoder freed.
type encoder struct {
	fieldbuf.Buffer[producer.Field]
	prefix []byte // "ns." for each open namespace or object, outermost first

	// jm and jf render an array or reflected value through jsonEncoder
	// (addJSON) without allocating: jf[0] is an inline field of jm.
	jm jsonMarshaler
	jf [1]zapcore.Field
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

func getEncoder() *encoder { return encoderPool.Get().(*encoder) }

func (e *encoder) free() {
	if !e.Reset() {
		return // too big to keep
	}
	e.prefix = e.prefix[:0]
	encoderPool.Put(e)
}

// key returns key inside the open namespaces.
func (e *encoder) key(key string) string { return e.Key(e.prefix, key) }

func (e *encoder) AddString(key, value string) { e.Add(e.key(key), value) }

func (e *encoder) AddByteString(key string, value []byte) {
	k := e.key(key)
	start := len(e.Buf)
	e.Buf = append(e.Buf, value...)
	e.AddSince(k, start)
}

func (e *encoder) AddBinary(key string, value []byte) {
	k := e.key(key)
	start := len(e.Buf)
	e.Buf = base64.StdEncoding.AppendEncode(e.Buf, value)
	e.AddSince(k, start)
}

func (e *encoder) AddBool(key string, value bool) {
	k := e.key(key)
	start := len(e.Buf)
	e.Buf = strconv.AppendBool(e.Buf, value)
	e.AddSince(k, start)
}

func (e *encoder) AddInt64(key string, value int64) {
	k := e.key(key)
	start := len(e.Buf)
	e.Buf = strconv.AppendInt(e.Buf, value, 10)
	e.AddSince(k, start)
}

func (e *encoder) AddUint64(key string, value uint64) {
	k := e.key(key)
	start := len(e.Buf)
	e.Buf = strconv.AppendUint(e.Buf, value, 10)
	e.AddSince(k, start)
}

func (e *encoder) AddInt(key string, value int)         { e.AddInt64(key, int64(value)) }
func (e *encoder) AddInt32(key string, value int32)     { e.AddInt64(key, int64(value)) }
func (e *encoder) AddInt16(key string, value int16)     { e.AddInt64(key, int64(value)) }
func (e *encoder) AddInt8(key string, value int8)       { e.AddInt64(key, int64(value)) }
func (e *encoder) AddUint(key string, value uint)       { e.AddUint64(key, uint64(value)) }
func (e *encoder) AddUint32(key string, value uint32)   { e.AddUint64(key, uint64(value)) }
func (e *encoder) AddUint16(key string, value uint16)   { e.AddUint64(key, uint64(value)) }
func (e *encoder) AddUint8(key string, value uint8)     { e.AddUint64(key, uint64(value)) }
func (e *encoder) AddUintptr(key string, value uintptr) { e.AddUint64(key, uint64(value)) }

// Floats are formatted as zap's JSON encoder formats them: the shortest
// decimal that round-trips, no exponent; NaN, +Inf and -Inf by name.
func (e *encoder) addFloat(key string, value float64, bitSize int) {
	k := e.key(key)
	start := len(e.Buf)
	e.Buf = strconv.AppendFloat(e.Buf, value, 'f', -1, bitSize)
	e.AddSince(k, start)
}

func (e *encoder) AddFloat64(key string, value float64) { e.addFloat(key, value, 64) }
func (e *encoder) AddFloat32(key string, value float32) { e.addFloat(key, float64(value), 32) }

func (e *encoder) addComplex(key string, value complex128, bitSize int) {
	k := e.key(key)
	start := len(e.Buf)
	r, i := real(value), imag(value)
	e.Buf = strconv.AppendFloat(e.Buf, r, 'f', -1, bitSize)
	if i >= 0 {
		e.Buf = append(e.Buf, '+')
	}
	e.Buf = strconv.AppendFloat(e.Buf, i, 'f', -1, bitSize)
	e.Buf = append(e.Buf, 'i')
	e.AddSince(k, start)
}

func (e *encoder) AddComplex128(key string, value complex128) { e.addComplex(key, value, 64) }
func (e *encoder) AddComplex64(key string, value complex64) {
	e.addComplex(key, complex128(value), 32)
}

func (e *encoder) AddDuration(key string, value time.Duration) {
	k := e.key(key)
	start := len(e.Buf)
	// Duration.String is inlined and its result used only here, so the
	// string it builds stays on the stack.
	e.Buf = append(e.Buf, value.String()...)
	e.AddSince(k, start)
}

func (e *encoder) AddTime(key string, value time.Time) {
	k := e.key(key)
	start := len(e.Buf)
	e.Buf = value.AppendFormat(e.Buf, time.RFC3339Nano)
	e.AddSince(k, start)
}

// AddObject flattens the object: its fields get the prefix "key.". An empty
// key inlines them. Namespaces the object opens end with it, as in zap's JSON
// encoder.
func (e *encoder) AddObject(key string, m zapcore.ObjectMarshaler) error {
	n := len(e.prefix)
	e.OpenNamespace(key)
	err := m.MarshalLogObject(e)
	e.prefix = e.prefix[:n]
	return err
}

// OpenNamespace puts the fields that follow under the prefix "key.". An empty
// key is ignored, like an empty slog group.
func (e *encoder) OpenNamespace(key string) {
	if key == "" {
		return
	}
	e.prefix = append(e.prefix, key...)
	e.prefix = append(e.prefix, '.')
}

// AddArray stores the array as compact JSON text: SLS expands one level
// only, and an array has no keys to flatten into. Like zap's JSON encoder,
// it keeps what a failing marshaler appended; the error is returned, so the
// field gets its "<key>Error" field too.
func (e *encoder) AddArray(key string, m zapcore.ArrayMarshaler) error {
	e.jm = jsonMarshaler{arr: m}
	return e.addJSON(key)
}

// AddReflected stores the value as compact JSON text, encoded as zap's JSON
// encoder does (encoding/json, HTML characters not escaped), or, if that is
// a JSON string (a named string type), as the string (AppendJSONText). If
// encoding fails, nothing is stored but the "<key>Error" field.
func (e *encoder) AddReflected(key string, value any) error {
	e.jm = jsonMarshaler{val: value, reflected: true}
	return e.addJSON(key)
}

// jsonEncoder renders arrays and reflected values. Nested values render as
// they do at the top level: durations as strings, times as RFC 3339. It is
// shared: EncodeEntry does not change its receiver.
var jsonEncoder = zapcore.NewJSONEncoder(zapcore.EncoderConfig{
	EncodeDuration: zapcore.StringDurationEncoder,
	EncodeTime:     zapcore.RFC3339NanoTimeEncoder,
	SkipLineEnding: true,
})

// jsonMarshaler adds one array or reflected value under the empty key. It
// keeps the error rather than returning it: zap would add it to the JSON
// object as an "Error" field.
type jsonMarshaler struct {
	arr       zapcore.ArrayMarshaler
	val       any
	reflected bool
	err       error
}

func (m *jsonMarshaler) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if m.reflected {
		m.err = enc.AddReflected("", m.val)
	} else {
		m.err = enc.AddArray("", m.arr)
	}
	return nil
}

// addJSON renders e.jm with jsonEncoder, which writes {"":VALUE}, and adds
// VALUE under key. It returns the marshaler's error; a reflected value that
// failed wrote nothing and is not added.
func (e *encoder) addJSON(key string) error {
	e.jf[0] = zapcore.Field{Type: zapcore.InlineMarshalerType, Interface: &e.jm}
	out, err := jsonEncoder.EncodeEntry(zapcore.Entry{}, e.jf[:])
	merr := e.jm.err
	reflected := e.jm.reflected
	e.jm = jsonMarshaler{} // do not pin the value
	if err != nil {
		return err
	}
	defer out.Free()
	if merr != nil && reflected {
		return merr
	}
	k := e.key(key)
	start := len(e.Buf)
	const head = len(`{"":`)
	if b := out.Bytes(); len(b) > head {
		e.Buf = fieldbuf.AppendJSONText(e.Buf, b[head:len(b)-1])
	}
	e.AddSince(k, start)
	return merr
}

var _ zapcore.ObjectEncoder = (*encoder)(nil)
