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

	"github.com/slskafka/slskafka/internal/fieldbuf"
	"github.com/slskafka/slskafka/producer"
)

// state renders one record (or one WithAttrs call) into the fields of its
// fieldbuf.Buffer, whose strings alias its buffer (see there why that is
// safe). The buffer is reused only after putState, once the producer has
// encoded the fields (Log keeps none of them); WithAttrs copies its fields
// out (fieldbuf.AppendOwned).
type state struct {
	fieldbuf.Buffer[producer.Field]
	h      *Handler
	prefix []byte   // dotted prefix of the open groups, "a.b."
	groups []string // the open groups, kept only when ReplaceAttr is set

	js  bytes.Buffer
	enc *json.Encoder
}

var statePool = sync.Pool{New: func() any {
	s := &state{Buffer: fieldbuf.Buffer[producer.Field]{
		Buf:    make([]byte, 0, 1024),
		Fields: make([]producer.Field, 0, 32),
	}}
	s.enc = json.NewEncoder(&s.js)
	s.enc.SetEscapeHTML(false)
	return s
}}

func getState(h *Handler) *state {
	s := statePool.Get().(*state)
	s.h = h
	return s
}

func putState(s *state) {
	if s.js.Cap() > fieldbuf.MaxPooledBytes || !s.Reset() {
		return // too big to keep
	}
	clear(s.groups)
	s.h = nil
	s.prefix = s.prefix[:0]
	s.groups = s.groups[:0]
	s.js.Reset()
	statePool.Put(s)
}

// isEmpty reports whether a is the zero Attr, which handlers ignore. It
// is inlined: most keys are not empty.
func isEmpty(a slog.Attr) bool { return a.Key == "" && isNil(a.Value) }

func isNil(v slog.Value) bool { return v.Kind() == slog.KindAny && v.Any() == nil }

// appendAttr resolves a, passes it through ReplaceAttr, and adds it under
// the open groups.
func (s *state) appendAttr(a slog.Attr) {
	kind := a.Value.Kind()
	if kind == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
		kind = a.Value.Kind()
	}
	if rep := s.h.opts.ReplaceAttr; rep != nil && kind != slog.KindGroup {
		a = rep(s.groups, a)
		a.Value = resolve(a.Value)
		kind = a.Value.Kind()
	}
	s.appendReplaced(a, kind)
}

// resolve is Value.Resolve, which defers a recover even for a value that
// is no LogValuer, called only for one.
func resolve(v slog.Value) slog.Value {
	if v.Kind() == slog.KindLogValuer {
		return v.Resolve()
	}
	return v
}

// appendReplaced adds a resolved, replaced attribute whose value is of
// kind: a group's members under the key prefix "group.", anything else as
// one field.
func (s *state) appendReplaced(a slog.Attr, kind slog.Kind) {
	if kind == slog.KindGroup {
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
		n := len(s.prefix)
		s.prefix = append(s.prefix, a.Key...)
		s.prefix = append(s.prefix, '.')
		rep := s.h.opts.ReplaceAttr != nil
		if rep {
			s.groups = append(s.groups, a.Key)
		}
		for _, m := range attrs {
			s.appendAttr(m)
		}
		s.prefix = s.prefix[:n]
		if rep {
			s.groups = s.groups[:len(s.groups)-1]
		}
		return
	}
	if isEmpty(a) {
		return
	}
	key := s.Key(s.prefix, a.Key)
	s.Add(key, s.value(a.Value, kind))
}

// value renders a resolved, non-group value of kind; see the table in the
// package documentation.
func (s *state) value(v slog.Value, kind slog.Kind) string {
	off := len(s.Buf)
	switch kind {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		s.Buf = strconv.AppendInt(s.Buf, v.Int64(), 10)
	case slog.KindUint64:
		s.Buf = strconv.AppendUint(s.Buf, v.Uint64(), 10)
	case slog.KindFloat64:
		s.Buf = strconv.AppendFloat(s.Buf, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		if v.Bool() {
			return "true"
		}
		return "false"
	case slog.KindDuration:
		s.Buf = append(s.Buf, v.Duration().String()...) // String is inlined: no allocation
	case slog.KindTime:
		s.Buf = v.Time().AppendFormat(s.Buf, time.RFC3339Nano)
	default: // KindAny; KindLogValuer and KindGroup are resolved by now
		s.appendAny(v.Any())
	}
	return s.Since(off)
}

// appendAny appends the rendering of an arbitrary value to buf.
func (s *state) appendAny(x any) {
	off := len(s.Buf)
	defer func() {
		// A method with a value receiver called through a nil pointer,
		// or one that panics: render what slog renders.
		if r := recover(); r != nil {
			s.Buf = s.Buf[:off]
			if v := reflect.ValueOf(x); v.Kind() == reflect.Pointer && v.IsNil() {
				s.Buf = append(s.Buf, "null"...)
				return
			}
			s.Buf = fmt.Appendf(s.Buf, "!PANIC: %v", r)
		}
	}()
	switch x := x.(type) {
	case nil:
		s.Buf = append(s.Buf, "null"...)
		return
	case error:
		s.Buf = append(s.Buf, x.Error()...)
		return
	case []byte:
		s.Buf = append(s.Buf, x...)
		return
	case *slog.Source:
		s.Buf = appendSource(s.Buf, x)
		return
	case encoding.TextAppender: // slog.Level, netip.Addr, ...: no allocation
		if b, err := x.AppendText(s.Buf); err == nil {
			s.Buf = b
			return
		}
		s.Buf = s.Buf[:off]
	case encoding.TextMarshaler:
		if t, err := x.MarshalText(); err == nil {
			s.Buf = append(s.Buf, t...)
			return
		}
	}
	s.js.Reset()
	if err := s.enc.Encode(x); err != nil {
		// As slog.JSONHandler does. Not fmt's %+v: it prints fields JSON
		// leaves out (json:"-", unexported), where secrets live.
		s.Buf = append(s.Buf, "!ERROR:"...)
		s.Buf = append(s.Buf, err.Error()...)
		return
	}
	s.Buf = fieldbuf.AppendJSONText(s.Buf, bytes.TrimSuffix(s.js.Bytes(), []byte{'\n'}))
}

func (s *state) sourceString(src *slog.Source) string {
	off := len(s.Buf)
	s.Buf = appendSource(s.Buf, src)
	return s.Since(off)
}

func appendSource(b []byte, src *slog.Source) []byte {
	b = append(b, src.File...)
	b = append(b, ':')
	return strconv.AppendInt(b, int64(src.Line), 10)
}
