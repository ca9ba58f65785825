package zapsls

import (
	"encoding/base64"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/producer"
)

// encoder flattens zap fields into producer fields. It implements
// zapcore.ObjectEncoder so that zapcore.Field.AddTo and ObjectMarshalers do
// the type switch.
//
// Formatted values and prefixed keys live in buf and are handed out as
// strings with unsafe.String. That is safe because bytes already written to
// buf are never changed while the strings are in use: append either writes
// past them or copies to a new array, leaving the old one as it was. The
// strings are used until producer.Producer.Log returns (Log does not retain
// them) or copied by With (see core.With); only then is the encoder reset and
// pooled.
type encoder struct {
	fields []producer.Field
	buf    []byte
	prefix []byte // "ns." for each open namespace or object, outermost first
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// maxPooledBytes keeps one huge entry's buffer from being pinned in the pool.
const maxPooledBytes = 64 << 10

func getEncoder() *encoder { return encoderPool.Get().(*encoder) }

func (e *encoder) free() {
	clear(e.fields) // do not pin the strings of the last entry
	e.fields = e.fields[:0]
	e.buf = e.buf[:0]
	e.prefix = e.prefix[:0]
	if cap(e.buf) > maxPooledBytes {
		e.buf = nil
	}
	if cap(e.fields) > 1024 {
		e.fields = nil
	}
	encoderPool.Put(e)
}

// since returns buf[start:] as a string that shares buf's memory.
func (e *encoder) since(start int) string {
	if start == len(e.buf) {
		return ""
	}
	return unsafe.String(&e.buf[start], len(e.buf)-start)
}

// key returns key inside the open namespaces.
func (e *encoder) key(key string) string {
	if len(e.prefix) == 0 {
		return key
	}
	start := len(e.buf)
	e.buf = append(e.buf, e.prefix...)
	e.buf = append(e.buf, key...)
	return e.since(start)
}

// add adds a field whose key is already resolved.
func (e *encoder) add(key, value string) {
	e.fields = append(e.fields, producer.Field{Key: key, Value: value})
}

// addBuf adds a field whose value is buf[start:]; the key must be resolved
// before the value is formatted, since key may append to buf too.
func (e *encoder) addBuf(key string, start int) {
	e.add(key, e.since(start))
}

func (e *encoder) AddString(key, value string) { e.add(e.key(key), value) }

func (e *encoder) AddByteString(key string, value []byte) {
	k := e.key(key)
	start := len(e.buf)
	e.buf = append(e.buf, value...)
	e.addBuf(k, start)
}

func (e *encoder) AddBinary(key string, value []byte) {
	k := e.key(key)
	start := len(e.buf)
	e.buf = base64.StdEncoding.AppendEncode(e.buf, value)
	e.addBuf(k, start)
}

func (e *encoder) AddBool(key string, value bool) {
	k := e.key(key)
	start := len(e.buf)
	e.buf = strconv.AppendBool(e.buf, value)
	e.addBuf(k, start)
}

func (e *encoder) AddInt64(key string, value int64) {
	k := e.key(key)
	start := len(e.buf)
	e.buf = strconv.AppendInt(e.buf, value, 10)
	e.addBuf(k, start)
}

func (e *encoder) AddUint64(key string, value uint64) {
	k := e.key(key)
	start := len(e.buf)
	e.buf = strconv.AppendUint(e.buf, value, 10)
	e.addBuf(k, start)
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
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, value, 'f', -1, bitSize)
	e.addBuf(k, start)
}

func (e *encoder) AddFloat64(key string, value float64) { e.addFloat(key, value, 64) }
func (e *encoder) AddFloat32(key string, value float32) { e.addFloat(key, float64(value), 32) }

func (e *encoder) addComplex(key string, value complex128, bitSize int) {
	k := e.key(key)
	start := len(e.buf)
	r, i := real(value), imag(value)
	e.buf = strconv.AppendFloat(e.buf, r, 'f', -1, bitSize)
	if i >= 0 {
		e.buf = append(e.buf, '+')
	}
	e.buf = strconv.AppendFloat(e.buf, i, 'f', -1, bitSize)
	e.buf = append(e.buf, 'i')
	e.addBuf(k, start)
}

func (e *encoder) AddComplex128(key string, value complex128) { e.addComplex(key, value, 64) }
func (e *encoder) AddComplex64(key string, value complex64) {
	e.addComplex(key, complex128(value), 32)
}

func (e *encoder) AddDuration(key string, value time.Duration) {
	e.add(e.key(key), value.String())
}

func (e *encoder) AddTime(key string, value time.Time) {
	k := e.key(key)
	start := len(e.buf)
	e.buf = value.AppendFormat(e.buf, time.RFC3339Nano)
	e.addBuf(k, start)
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
// it keeps what a failing marshaler appended.
func (e *encoder) AddArray(key string, m zapcore.ArrayMarshaler) error {
	j := jsonEncoder.Clone()
	err := j.AddArray("", m)
	if jerr := e.addJSON(key, j); err == nil {
		err = jerr
	}
	return err
}

// AddReflected stores the value as compact JSON text, encoded as zap's JSON
// encoder does (encoding/json, HTML characters not escaped).
func (e *encoder) AddReflected(key string, value any) error {
	j := jsonEncoder.Clone()
	if err := j.AddReflected("", value); err != nil {
		return err
	}
	return e.addJSON(key, j)
}

// jsonEncoder renders arrays and reflected values. Nested values render as
// they do at the top level: durations as strings, times as RFC 3339.
var jsonEncoder = zapcore.NewJSONEncoder(zapcore.EncoderConfig{
	EncodeDuration: zapcore.StringDurationEncoder,
	EncodeTime:     zapcore.RFC3339NanoTimeEncoder,
	SkipLineEnding: true,
})

// addJSON adds the one field j holds, under the empty key: j renders
// {"":VALUE} and VALUE is kept.
func (e *encoder) addJSON(key string, j zapcore.Encoder) error {
	out, err := j.EncodeEntry(zapcore.Entry{}, nil)
	if err != nil {
		return err
	}
	k := e.key(key)
	start := len(e.buf)
	b := out.Bytes()
	const head = len(`{"":`)
	if len(b) >= head+1 {
		e.buf = append(e.buf, b[head:len(b)-1]...)
	}
	out.Free()
	e.addBuf(k, start)
	return nil
}

var _ zapcore.ObjectEncoder = (*encoder)(nil)
