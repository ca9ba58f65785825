// Package record encodes log records as the flat JSON objects that SLS
// expands into fields.
//
// The encoder appends into a caller-owned buffer and never allocates for
// records of up to 64 fields; it is the hot path of every Log call.
package record

import (
	"slices"
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

// Static is the fields added to every record, deduplicated (the last
// occurrence wins) and encoded once, so that a record pays only for its
// own fields. The nil *Static has no fields.
type Static struct {
	fields  []Field
	encoded [][]byte // fields[i] as "key":"value"
}

// NewStatic returns fields, deduplicated and encoded.
func NewStatic(fields []Field) *Static {
	st := &Static{}
	for i, f := range fields {
		if inFields(f.Key, fields[i+1:]) {
			continue
		}
		st.fields = append(st.fields, f)
		st.encoded = append(st.encoded, appendPair(nil, f, true))
	}
	return st
}

// AppendObject appends one JSON object holding the static fields followed by
// the record's fields, and returns the extended buffer.
//
// Duplicate keys are resolved deterministically: the last occurrence wins, so
// a record's field overrides a static field of the same name, and a later
// field overrides an earlier one. Keys and values are escaped as JSON strings;
// invalid UTF-8 is replaced by U+FFFD.
func AppendObject[F Pair](dst []byte, st *Static, fields []F) []byte {
	var static []Field
	if st != nil {
		static = st.fields
	}
	if len(static)+len(fields) > dedupMapThreshold {
		return appendObjectMap(dst, static, fields)
	}
	dst = append(dst, '{')
	first := true
	for i := range static {
		if inFields(static[i].Key, fields) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, st.encoded[i]...)
		first = false
	}
	for i := range fields {
		f := Field(fields[i])
		if inFields(f.Key, fields[i+1:]) {
			continue
		}
		dst = appendPair(dst, f, first)
		first = false
	}
	return append(dst, '}')
}

func appendPair(dst []byte, f Field, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = AppendString(dst, f.Key)
	dst = append(dst, ':')
	return AppendString(dst, f.Value)
}

func inFields[F Pair](k string, fs []F) bool {
	for i := range fs {
		if Field(fs[i]).Key == k {
			return true
		}
	}
	return false
}

// appendObjectMap is AppendObject for many fields, where pairwise duplicate
// checks would cost more than a map.
func appendObjectMap[F Pair](dst []byte, static []Field, fields []F) []byte {
	all := make([]Field, 0, len(static)+len(fields))
	all = append(all, static...)
	for i := range fields {
		all = append(all, Field(fields[i]))
	}
	last := make(map[string]int, len(all))
	for i, f := range all {
		last[f.Key] = i
	}
	dst = append(dst, '{')
	first := true
	for i, f := range all {
		if last[f.Key] != i {
			continue
		}
		dst = appendPair(dst, f, first)
		first = false
	}
	return append(dst, '}')
}

const hex = "0123456789abcdef"

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// load8 reads the eight bytes of s (len(s) == 8), little endian; the
// compiler turns this into one load.
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// special8 returns a word whose byte i has its top bit set if byte i of x
// needs attention: a control character, quote, backslash or non-ASCII
// byte. Each term is the classic SWAR "has a byte less than n" / "has a
// zero byte" test; borrows can mark the wrong byte, but never mark one
// when no byte qualifies, and only whether any does matters.
func special8(x uint64) uint64 {
	ctl := (x - lsb*0x20) &^ x
	q := x ^ (lsb * '"')
	quote := (q - lsb) &^ q
	bs := x ^ (lsb * '\\')
	backslash := (bs - lsb) &^ bs
	return (ctl | quote | backslash | x) & msb
}

// load4 reads the four bytes of s (len(s) == 4), little endian.
func load4(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// plain8 reports whether none of the eight bytes in x needs attention.
func plain8(x uint64) bool { return special8(x) == 0 }

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
	// Log text is mostly printable ASCII: check it in bulk, copy it once.
	if !plain(s) {
		return appendEscaped(dst, s)
	}
	n := len(dst)
	dst = slices.Grow(dst, len(s)+2)[:n+len(s)+2]
	dst[n] = '"'
	copy(dst[n+1:], s)
	dst[len(dst)-1] = '"'
	return dst
}

// plain reports whether s is printable ASCII other than '"' and '\\'
// throughout, 16 bytes per step; the last step overlaps the one before
// instead of going byte by byte.
func plain(s string) bool {
	if len(s) < 8 {
		if len(s) < 4 {
			for i := 0; i < len(s); i++ {
				if b := s[i]; b >= utf8.RuneSelf || !safe[b] {
					return false
				}
			}
			return true
		}
		// Two overlapping four-byte loads cover 4 to 7 bytes.
		x := uint64(load4(s[:4])) | uint64(load4(s[len(s)-4:]))<<32
		return special8(x) == 0
	}
	var bad uint64
	i := 0
	for ; len(s)-i >= 16; i += 16 {
		bad |= special8(load8(s[i:i+8])) | special8(load8(s[i+8:i+16]))
	}
	if len(s)-i >= 8 {
		bad |= special8(load8(s[i : i+8]))
	}
	bad |= special8(load8(s[len(s)-8:]))
	return bad&msb == 0
}

// appendEscaped is AppendString for strings that need escapes or hold
// non-ASCII text.
func appendEscaped(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start, i := 0, 0
	for i < len(s) {
		i += plainPrefix(s[i:])
		if i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
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
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size // valid multi-byte UTF-8 is copied as is
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainPrefix returns how many leading bytes of s are printable ASCII other
// than '"' and '\\', which JSON strings carry unescaped.
func plainPrefix(s string) int {
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		if !plain8(load8(s[i : i+8])) {
			break
		}
	}
	for ; i < len(s); i++ {
		if b := s[i]; b >= utf8.RuneSelf || !safe[b] {
			break
		}
	}
	return i
}
