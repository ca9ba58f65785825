package writersls

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/slskafka/slskafka/internal/fieldbuf"
	"github.com/slskafka/slskafka/producer"
)

// state renders one line into the fields of its fieldbuf.Buffer. A field's
// key and value alias the line where the JSON text is the string itself
// (no escapes, no prefix), and Buf otherwise (see fieldbuf.Buffer why
// that is safe). The state goes back to the pool only after Log, which
// keeps none of the strings.
type state struct {
	fieldbuf.Buffer[producer.Field]
	prefix []byte // dotted prefix of the enclosing objects, "a.b."
}

var statePool = sync.Pool{New: func() any {
	return &state{Buffer: fieldbuf.Buffer[producer.Field]{
		Buf:    make([]byte, 0, 512),
		Fields: make([]producer.Field, 0, 16),
	}}
}}

func getState() *state { return statePool.Get().(*state) }

func putState(s *state) {
	if cap(s.prefix) > fieldbuf.MaxPooledBytes || !s.Reset() {
		return // too big to keep
	}
	s.prefix = s.prefix[:0]
	statePool.Put(s)
}

// render renders line into s's fields and returns its level: a JSON
// object's members, flattened, or the whole line under ContentKey.
func (s *state) render(line []byte, levelKey string) slog.Level {
	obj := bytes.TrimLeft(line, " \t")
	// json.Valid first, so that the walk below reads only valid JSON and
	// a line that merely starts with "{" is stored as text.
	if len(obj) > 0 && obj[0] == '{' && json.Valid(obj) {
		var level slog.Level
		s.object(obj, 0, levelKey, &level)
		if len(s.Fields) > 0 {
			return level
		}
	}
	s.Fields = s.Fields[:0]
	s.Add(ContentKey, str(line))
	return slog.LevelInfo
}

// object adds the members of the object that starts at js[i] and returns
// the offset after it. Members of nested objects get the key prefix
// "name.", as slogsls flattens groups; empty objects add nothing. The
// string value of levelKey at the top level sets *level.
func (s *state) object(js []byte, i int, levelKey string, level *slog.Level) int {
	i++ // '{'
	top := len(s.prefix) == 0
	for {
		i = skipSpace(js, i)
		switch js[i] {
		case '}':
			return i + 1
		case ',':
			i = skipSpace(js, i+1)
		}
		kEnd := endString(js, i)
		rawKey := js[i:kEnd]
		i = skipSpace(js, kEnd) + 1 // ':'
		i = skipSpace(js, i)
		if js[i] == '{' {
			n := len(s.prefix)
			s.prefix = appendUnquoted(s.prefix, rawKey)
			s.prefix = append(s.prefix, '.')
			i = s.object(js, i, levelKey, level)
			s.prefix = s.prefix[:n]
			continue
		}
		key := s.key(rawKey)
		vEnd := endValue(js, i)
		raw := js[i:vEnd]
		i = vEnd
		if raw[0] != '"' {
			s.Add(key, str(raw)) // a number, true, false, null or an array: its JSON text
			continue
		}
		value := s.text(raw)
		if top && key == levelKey {
			*level = parseLevel(value)
		}
		s.Add(key, value)
	}
}

// key returns the field key for the JSON string rawKey under the open
// prefix. An empty key at the top level is fieldbuf.BadKey, as in slogsls:
// SLS keys cannot be empty.
func (s *state) key(rawKey []byte) string {
	if len(s.prefix) == 0 {
		if k := s.text(rawKey); k != "" {
			return k
		}
		return fieldbuf.BadKey
	}
	start := len(s.Buf)
	s.Buf = append(s.Buf, s.prefix...)
	s.Buf = appendUnquoted(s.Buf, rawKey)
	return s.Since(start)
}

// text returns the string that the JSON string raw encodes: raw's own
// bytes without the quotes when it has no escapes (zerolog and logrus
// escape only what they must), decoded into Buf otherwise.
func (s *state) text(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return str(raw[1 : len(raw)-1])
	}
	start := len(s.Buf)
	s.Buf = appendUnquoted(s.Buf, raw)
	return s.Since(start)
}

// appendUnquoted appends the string that the valid JSON string raw
// encodes, decoding escapes as encoding/json does (an unpaired surrogate
// becomes U+FFFD) without its allocations: logrus escapes <, > and & in
// every URL.
func appendUnquoted(dst, raw []byte) []byte {
	raw = raw[1 : len(raw)-1]
	for {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:i]...)
		c := raw[i+1]
		raw = raw[i+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw)
			raw = raw[4:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
					r2 = hex4(raw[2:])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					raw = raw[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
}

// hex4 decodes the four hex digits that start b.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// The scanners below read JSON that json.Valid accepted, so they need not
// check what they read.

func skipSpace(js []byte, i int) int {
	for i < len(js) && (js[i] == ' ' || js[i] == '\t' || js[i] == '\n' || js[i] == '\r') {
		i++
	}
	return i
}

// endString returns the offset after the string that starts at js[i].
func endString(js []byte, i int) int {
	for i++; ; i++ {
		switch js[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// endValue returns the offset after the value that starts at js[i].
func endValue(js []byte, i int) int {
	switch js[i] {
	case '"':
		return endString(js, i)
	case '[', '{':
		depth := 0
		for ; ; i++ {
			switch js[i] {
			case '"':
				i = endString(js, i) - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for ; i < len(js); i++ { // a number, true, false or null
		switch js[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}

// levels are the level names of zerolog, logrus and slog, with the
// slog.Level each stands for. zerolog's panic is above its fatal, logrus's
// below: both are one level above error here.
var levels = [...]struct {
	name  string
	level slog.Level
}{
	{"info", slog.LevelInfo},
	{"debug", slog.LevelDebug},
	{"warn", slog.LevelWarn},
	{"warning", slog.LevelWarn},
	{"error", slog.LevelError},
	{"trace", slog.LevelDebug - 4},
	{"fatal", slog.LevelError + 4},
	{"panic", slog.LevelError + 4},
}

// parseLevel returns the level a level name stands for, in any case, with
// slog's optional offset ("WARN+2"); anything else is slog.LevelInfo.
func parseLevel(name string) slog.Level {
	base, offset := name, 0
	if i := strings.IndexAny(name, "+-"); i > 0 {
		n, err := strconv.Atoi(name[i:])
		if err != nil {
			return slog.LevelInfo
		}
		base, offset = name[:i], n
	}
	for _, l := range levels {
		if strings.EqualFold(base, l.name) {
			return l.level + slog.Level(offset)
		}
	}
	return slog.LevelInfo
}
