package slogsls

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/slskafka/slskafka/producer"
)

// state renders one record (or one WithAttrs call) into fields.
//
// Rendered keys and values are appended to buf, and the fields point into it
// with unsafe.String. That is safe because buf is only ever appended to while
// the fields are in use: when append moves buf to a larger array, the old one
// is left as it was and stays alive through the strings that point into it.
// buf is reused only after putState, once the producer has encoded the fields
// (Log keeps none of them); WithAttrs copies its fields out (appendOwned).
type state struct {
	h      *Handler
	buf    []byte
	fields []producer.Field
	key    []byte   // dotted prefix of the open groups
	groups []string // the open groups, kept only when ReplaceAttr is set

	js  bytes.Buffer
	enc *json.Encoder
}

var statePool = sync.Pool{New: func() any {
	s := &state{
		buf:    make([]byte, 0, 1024),
		fields: make([]producer.Field, 0, 32),
	}
	s.enc = json.NewEncoder(&s.js)
	s.enc.SetEscapeHTML(false)
	return s
}}

func getState(h *Handler) *state {
	s := statePool.Get().(*state)
	s.h = h
	return s
}

// maxPooledBuf keeps one huge record from pinning its buffer in the pool.
const maxPooledBuf = 64 << 10

func putState(s *state) {
	if cap(s.buf) > maxPooledBuf || cap(s.fields) > 1024 || s.js.Cap() > maxPooledBuf {
		return
	}
	clear(s.fields) // drop references to old buffers and user strings
	clear(s.groups)
	s.h = nil
	s.buf = s.buf[:0]
	s.fields = s.fields[:0]
	s.key = s.key[:0]
	s.groups = s.groups[:0]
	s.js.Reset()
	statePool.Put(s)
}

// since returns the bytes appended to buf since off as a string that
// aliases buf.
func (s *state) since(off int) string {
	if off == len(s.buf) {
		return ""
	}
	return unsafe.String(&s.buf[off], len(s.buf)-off)
}

func (s *state) add(key, value string) {
	s.fields = append(s.fields, producer.Field{Key: key, Value: value})
}

// isEmpty reports whether a is the zero Attr, which handlers ignore.
func isEmpty(a slog.Attr) bool {
	return a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil
}

// appendAttr resolves a, passes it through ReplaceAttr, and adds it under
// the open groups.
func (s *state) appendAttr(a slog.Attr) {
	a.Value = a.Value.Resolve()
	if rep := s.h.opts.ReplaceAttr; rep != nil && a.Value.Kind() != slog.KindGroup {
		a = rep(s.groups, a)
		a.Value = a.Value.Resolve()
	}
	s.appendReplaced(a)
}

// appendReplaced adds a resolved, replaced attribute: a group's members
// under the key prefix "group.", anything else as one field.
func (s *state) appendReplaced(a slog.Attr) {
	if isEmpty(a) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return
		}
		if a.Key == "" { // inline
			for _, m := range attrs {
				s.appendAttr(m)
			}
			return
		}
		n := len(s.key)
		s.key = append(s.key, a.Key...)
		s.key = append(s.key, '.')
		rep := s.h.opts.ReplaceAttr != nil
		if rep {
			s.groups = append(s.groups, a.Key)
		}
		for _, m := range attrs {
			s.appendAttr(m)
		}
		s.key = s.key[:n]
		if rep {
			s.groups = s.groups[:len(s.groups)-1]
		}
		return
	}
	key := a.Key
	if len(s.key) > 0 {
		off := len(s.buf)
		s.buf = append(s.buf, s.key...)
		s.buf = append(s.buf, a.Key...)
		key = s.since(off)
	}
	s.add(key, s.value(a.Value))
}

// value renders a resolved, non-group value; see the table in the package
// documentation.
func (s *state) value(v slog.Value) string {
	off := len(s.buf)
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		s.buf = strconv.AppendInt(s.buf, v.Int64(), 10)
	case slog.KindUint64:
		s.buf = strconv.AppendUint(s.buf, v.Uint64(), 10)
	case slog.KindFloat64:
		s.buf = strconv.AppendFloat(s.buf, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		if v.Bool() {
			return "true"
		}
		return "false"
	case slog.KindDuration:
		s.buf = append(s.buf, v.Duration().String()...) // String is inlined: no allocation
	case slog.KindTime:
		s.buf = v.Time().AppendFormat(s.buf, time.RFC3339Nano)
	default: // KindAny; KindLogValuer and KindGroup are resolved by now
		s.appendAny(v.Any())
	}
	return s.since(off)
}

// appendAny appends the rendering of an arbitrary value to buf.
func (s *state) appendAny(x any) {
	off := len(s.buf)
	defer func() {
		// A method with a value receiver called through a nil pointer,
		// or one that panics: render what slog renders.
		if r := recover(); r != nil {
			s.buf = s.buf[:off]
			if v := reflect.ValueOf(x); v.Kind() == reflect.Pointer && v.IsNil() {
				s.buf = append(s.buf, "null"...)
				return
			}
			s.buf = fmt.Appendf(s.buf, "!PANIC: %v", r)
		}
	}()
	switch x := x.(type) {
	case nil:
		s.buf = append(s.buf, "null"...)
		return
	case error:
		s.buf = append(s.buf, x.Error()...)
		return
	case []byte:
		s.buf = append(s.buf, x...)
		return
	case *slog.Source:
		s.buf = appendSource(s.buf, x)
		return
	case encoding.TextMarshaler:
		if t, err := x.MarshalText(); err == nil {
			s.buf = append(s.buf, t...)
			return
		}
	}
	s.js.Reset()
	if err := s.enc.Encode(x); err != nil {
		s.buf = fmt.Appendf(s.buf, "%+v", x)
		return
	}
	js := bytes.TrimSuffix(s.js.Bytes(), []byte{'\n'})
	if len(js) > 0 && js[0] == '"' {
		var str string
		if json.Unmarshal(js, &str) == nil {
			s.buf = append(s.buf, str...)
			return
		}
	}
	s.buf = append(s.buf, js...)
}

func (s *state) sourceString(src *slog.Source) string {
	off := len(s.buf)
	s.buf = appendSource(s.buf, src)
	return s.since(off)
}

func appendSource(b []byte, src *slog.Source) []byte {
	b = append(b, src.File...)
	b = append(b, ':')
	return strconv.AppendInt(b, int64(src.Line), 10)
}
