// Package record encodes log records as the flat JSON objects that SLS
// expands into fields.
//
// The encoder appends into a caller-owned buffer and never allocates for
// records of up to 64 fields; it is the hot path of every Log call.
package record

import (
	"unicode/utf8"
)

// Field is one key/value pair of a log record.
type Field struct{ Key, Value string }

// Pair is any struct type with the shape of Field; the public packages
// declare their own Field type with this shape.
type Pair interface{ ~struct{ Key, Value string } }

// dedupMapThreshold is the field count above which duplicate keys are found
// with a map rather than by pairwise comparison.
const dedupMapThreshold = 64

// AppendObject appends one JSON object holding the static fields followed by
// the record's fields, and returns the extended buffer.
//
// Duplicate keys are resolved deterministically: the last occurrence wins, so
// a record's field overrides a static field of the same name, and a later
// field overrides an earlier one. Keys and values are escaped as JSON strings;
// invalid UTF-8 is replaced by U+FFFD.
func AppendObject[F Pair](dst []byte, static []Field, fields []F) []byte {
	n := len(static) + len(fields)
	key := func(i int) string {
		if i < len(static) {
			return static[i].Key
		}
		return Field(fields[i-len(static)]).Key
	}
	value := func(i int) string {
		if i < len(static) {
			return static[i].Value
		}
		return Field(fields[i-len(static)]).Value
	}

	var last map[string]int
	if n > dedupMapThreshold {
		last = make(map[string]int, n)
		for i := range n {
			last[key(i)] = i
		}
	}

	dst = append(dst, '{')
	first := true
	for i := range n {
		k := key(i)
		if last != nil {
			if last[k] != i {
				continue
			}
		} else if shadowed(k, i, n, key) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, value(i))
	}
	return append(dst, '}')
}

// shadowed reports whether key k at index i appears again after i.
func shadowed(k string, i, n int, key func(int) string) bool {
	for j := i + 1; j < n; j++ {
		if key(j) == k {
			return true
		}
	}
	return false
}

const hex = "0123456789abcdef"

// safe marks the ASCII bytes that need no escaping inside a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// AppendString appends s as a quoted JSON string. Control characters are
// escaped, invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped so
// the output is also valid JavaScript.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
