package record

// The encoder as it was before duplicate keys were found with a bitmap and
// strings were checked for escaping while being copied: the baseline that
// BenchmarkEncoder measures the current one against, in the same process.
// TestBaselineAgrees keeps it honest.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// baselineAppendObject appends one JSON object holding the static fields followed by
// the record's fields, and returns the extended buffer.
//
// Duplicate keys are resolved deterministically: the last occurrence wins, so
// a record's field overrides a static field of the same name, and a later
// field overrides an earlier one. Keys and values are escaped as JSON strings;
// invalid UTF-8 is replaced by U+FFFD.
func baselineAppendObject[F Pair](dst []byte, st *Static, fields []F) []byte {
	var static []Field
	if st != nil {
		static = st.fields
	}
	if len(static)+len(fields) > 64 {
		return baselineAppendObjectMap(dst, static, fields)
	}
	dst = append(dst, '{')
	first := true
	for i := range static {
		if baselineInFields(static[i].Key, fields) {
			continue
		}
		// Encoded here, not taken from the Static, which the new
		// encoder built: the two sides share no encoding code.
		dst = baselineAppendPair(dst, static[i], first)
		first = false
	}
	for i := range fields {
		f := Field(fields[i])
		if baselineInFields(f.Key, fields[i+1:]) {
			continue
		}
		dst = baselineAppendPair(dst, f, first)
		first = false
	}
	return append(dst, '}')
}

func baselineAppendPair(dst []byte, f Field, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = baselineAppendString(dst, f.Key)
	dst = append(dst, ':')
	return baselineAppendString(dst, f.Value)
}

func baselineInFields[F Pair](k string, fs []F) bool {
	for i := range fs {
		if Field(fs[i]).Key == k {
			return true
		}
	}
	return false
}

// baselineAppendObjectMap is baselineAppendObject for many fields, where pairwise duplicate
// checks would cost more than a map.
func baselineAppendObjectMap[F Pair](dst []byte, static []Field, fields []F) []byte {
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
		dst = baselineAppendPair(dst, f, first)
		first = false
	}
	return append(dst, '}')
}

// baselineAppendString appends s as a quoted JSON string. Control characters are
// escaped, invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped so
// the output is also valid JavaScript.
func baselineAppendString(dst []byte, s string) []byte {
	// Log text is mostly printable ASCII: check it in bulk, copy it once.
	if !baselinePlain(s) {
		return baselineAppendEscaped(dst, s)
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
func baselinePlain(s string) bool {
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
		return baselineSpecial8(x) == 0
	}
	var bad uint64
	i := 0
	for ; len(s)-i >= 16; i += 16 {
		bad |= baselineSpecial8(load8(s[i:i+8])) | baselineSpecial8(load8(s[i+8:i+16]))
	}
	if len(s)-i >= 8 {
		bad |= baselineSpecial8(load8(s[i : i+8]))
	}
	bad |= baselineSpecial8(load8(s[len(s)-8:]))
	return bad&msb == 0
}

// baselineAppendEscaped is baselineAppendString for strings that need escapes or hold
// non-ASCII text.
func baselineAppendEscaped(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start, i := 0, 0
	for i < len(s) {
		i += baselinePlainPrefix(s[i:])
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

// baselinePlainPrefix returns how many leading bytes of s are printable ASCII other
// than '"' and '\\', which JSON strings carry unescaped.
func baselinePlainPrefix(s string) int {
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		if baselineSpecial8(load8(s[i:i+8])) != 0 {
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

// benchRecords are the records BenchmarkEncoder encodes: one field, a
// typical access-log line (six fields, about 235 bytes), and a wide record
// of 40 fields.
func benchRecords() map[string][]Field {
	wide := make([]Field, 0, 40)
	for i := range 40 {
		wide = append(wide, Field{
			Key:   fmt.Sprintf("%s_%d", []string{"http.req", "db.query", "user", "span", "k8s.pod"}[i%5], i),
			Value: strings.Repeat("value ", 1+i%4) + strconv.Itoa(i*7919),
		})
	}
	return map[string][]Field{
		"1-field": {{"msg", "request served"}},
		"6-field": {
			{"level", "INFO"}, {"msg", "request served to client after authorization and rate limiting"},
			{"method", "GET"}, {"path", "/api/v1/orders/1234567/items?page=2&size=50"},
			{"status", "200"}, {"user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
		},
		"40-field": wide,
		// Text that needs escapes part of the way in, and non-ASCII text.
		"6-field-escapes": {
			{"level", "WARN"}, {"msg", "upstream said \"busy\"\nretrying in 1s"},
			{"method", "POST"}, {"path", "/api/v1/orders/1234567/items?page=2&size=50"},
			{"user", "张伟 <zhang.wei@example.com>"}, {"body", `{"id":1042,"items":["a","b"],"note":"gift"}`},
		},
	}
}

// BenchmarkEncoder runs the encoder and the baseline on the same records,
// one after the other in one process, so that their ratio holds on a noisy
// machine. -count would run each one N times in a row; for ratios per
// round, run the whole benchmark several times instead:
//
//	for i in 1 2 3 4 5; do go test -run '^$' -bench Encoder -benchtime 300ms ./internal/record; done
func BenchmarkEncoder(b *testing.B) {
	static := NewStatic([]Field{{"host", "web-1"}, {"service", "api"}})
	recs := benchRecords()
	for _, name := range []string{"1-field", "6-field", "6-field-escapes", "40-field"} {
		fields := recs[name]
		for _, st := range []struct {
			name string
			st   *Static
		}{{"", nil}, {"+2static", static}} {
			buf := make([]byte, 0, 4096)
			b.Run(name+st.name+"/baseline", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					buf = baselineAppendObject(buf[:0], st.st, fields)
				}
				b.SetBytes(int64(len(buf)))
			})
			b.Run(name+st.name+"/new", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					buf = AppendObject(buf[:0], st.st, fields)
				}
				b.SetBytes(int64(len(buf)))
			})
		}
	}
}

// The encoder writes exactly what the baseline writes, for records with
// and without duplicate keys (among themselves and with static fields),
// keys that share a hash, text that needs escapes, and more fields than a
// keySet serves.
func TestBaselineAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Few distinct keys make duplicates common; "aXc"/"aYc" share their
	// length, first, middle and last byte, and so their hash.
	keys := []string{"", "a", "b", "msg", "level", "aXbXc", "aYbYc", "static", "host", "k\"ey", "键", "a\xffc", "long.key.with.dots"}
	values := []string{"", "v", "plain text value", "tab\there", "quote\"back\\slash", "日本語テキスト", "bad\xffutf8", "line\u2028sep", strings.Repeat("0123456789", 7)}
	statics := []*Static{nil, NewStatic(nil), NewStatic([]Field{{"host", "web-1"}, {"static", "s"}}), NewStatic([]Field{{"msg", "m"}, {"host", "h"}, {"msg", "m2"}}),
		// Statics that need escaping, and invalid UTF-8.
		NewStatic([]Field{{"quote\"key", "line\nbreak"}, {"env", "\u2028\x00\xff<>&"}, {"\xc3", "tab\t"}})}
	for range 20000 {
		n := rng.IntN(12)
		if rng.IntN(10) == 0 {
			n = rng.IntN(90)
		}
		fields := make([]Field, n)
		for i := range fields {
			fields[i] = Field{keys[rng.IntN(len(keys))], values[rng.IntN(len(values))]}
		}
		st := statics[rng.IntN(len(statics))]
		want := baselineAppendObject([]byte("prefix"), st, fields)
		got := AppendObject([]byte("prefix"), st, fields)
		if string(got) != string(want) {
			t.Fatalf("fields %q:\ngot  %s\nwant %s", fields, got, want)
		}
	}
	for _, sp := range []string{"\"", "\\", "\x00", "\x7f", "\xff", "é", "\u2029"} {
		for n := range 70 {
			for pos := range n + 1 {
				s := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				if got, want := AppendString([]byte("x"), s), baselineAppendString([]byte("x"), s); string(got) != string(want) {
					t.Fatalf("%q: got %s, want %s", s, got, want)
				}
			}
		}
	}
}

// baselineSpecial8 is the word test the baseline used: a word whose byte
// has its top bit set if the byte needs escaping (borrows may mark the
// wrong byte, never a word without one).
func baselineSpecial8(x uint64) uint64 {
	ctl := (x - lsb*0x20) &^ x
	q := x ^ (lsb * '"')
	quote := (q - lsb) &^ q
	bs := x ^ (lsb * '\\')
	backslash := (bs - lsb) &^ bs
	return (ctl | quote | backslash | x) & msb
}

// FuzzMatchesBaseline splits the input at '=' and '&' into keys and values
// (so the fuzzer makes duplicates easily) and checks that the encoder
// writes what the baseline writes.
func FuzzMatchesBaseline(f *testing.F) {
	f.Add("a=1&b=2&a=3")
	f.Add("msg=\"quoted\\\"&level=\xff&long=0123456789abcdef0123\n")
	f.Add("host=web&host=api&=empty&k=日本\u2028")
	st := NewStatic([]Field{{"host", "web-1"}, {"service", "api"}})
	escaped := NewStatic([]Field{{"host\"", "we\nb\xff"}, {"k", "\u2028<"}})
	f.Fuzz(func(t *testing.T, in string) {
		var fields []Field
		for _, kv := range strings.Split(in, "&") {
			k, v, _ := strings.Cut(kv, "=")
			fields = append(fields, Field{k, v})
		}
		for _, s := range []*Static{nil, st, escaped} {
			want := baselineAppendObject(nil, s, fields)
			if got := AppendObject(nil, s, fields); string(got) != string(want) {
				t.Fatalf("%q:\ngot  %s\nwant %s", in, got, want)
			}
		}
	})
}
