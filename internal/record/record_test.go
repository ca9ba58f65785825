package record

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

type myField struct{ Key, Value string }

func decode(t testing.TB, b []byte) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("output %q is not a JSON object of strings: %v", b, err)
	}
	return m
}

func TestAppendObject(t *testing.T) {
	static := []Field{{"host", "web-1"}, {"service", "api"}}
	fields := []myField{{"msg", "hello \"world\"\n"}, {"service", "override"}, {"n", "1"}, {"n", "2"}}
	got := string(AppendObject(nil, NewStatic(static), fields))
	want := `{"host":"web-1","msg":"hello \"world\"\n","service":"override","n":"2"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(AppendObject[myField](nil, nil, nil)); got != "{}" {
		t.Errorf("empty = %s", got)
	}
	// Among static fields too the last occurrence wins, in its place.
	dup := NewStatic([]Field{{"a", "1"}, {"b", "2"}, {"a", "3"}})
	if got := string(AppendObject(nil, dup, []myField{{"c", "4"}})); got != `{"b":"2","a":"3","c":"4"}` {
		t.Errorf("duplicate static keys: got %s", got)
	}
}

func TestAppendObjectManyDuplicates(t *testing.T) {
	var fields []myField
	for i := range 200 {
		fields = append(fields, myField{Key: string(rune('a' + i%26)), Value: strings.Repeat("x", i)})
	}
	m := decode(t, AppendObject(nil, nil, fields))
	if len(m) != 26 {
		t.Fatalf("keys = %d, want 26", len(m))
	}
	for i := 174; i < 200; i++ {
		k := string(rune('a' + i%26))
		if len(m[k]) != i {
			t.Errorf("key %s kept value of length %d, want the last (%d)", k, len(m[k]), i)
		}
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          `"plain"`,
		"tab\tq\"b\\":    `"tab\tq\"b\\"`,
		"\x00\x1f":       `"\u0000\u001f"`,
		"bad\xffutf8":    `"bad\ufffdutf8"`,
		"中文":             `"中文"`,
		"line\u2028sep":  `"line\u2028sep"`,
		"para\u2029sep":  `"para\u2029sep"`,
		"<html>&amp;</>": `"<html>&amp;</>"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAppendObjectAllocs(t *testing.T) {
	fields := []myField{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}, {"f", "6"}}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = AppendObject(buf[:0], nil, fields) }); n != 0 {
		t.Errorf("allocs = %v, want 0", n)
	}
}

func FuzzAppendObject(f *testing.F) {
	f.Add("k", "v", "k2", "v2")
	f.Add("", "", "k", "k")
	f.Add("\xff", "\x00\"\\", "\u2028", "日本")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		fields := []myField{{k1, v1}, {k2, v2}}
		out := AppendObject(nil, NewStatic([]Field{{"static", "s"}, {"static", "s"}}), fields)
		// encoding/json would quietly repair invalid UTF-8 or an
		// unescaped U+2028 on decoding; the encoder must not emit them.
		if !utf8.Valid(out) || strings.ContainsAny(string(out), "\u2028\u2029") {
			t.Fatalf("output %q holds invalid UTF-8 or a raw line separator", out)
		}
		m := decode(t, out)
		want := map[string]string{"static": "s"}
		want[valid(k1)] = valid(v1)
		want[valid(k2)] = valid(v2)
		if len(m) != len(want) {
			t.Fatalf("decoded %v, want %v (from %q)", m, want, out)
		}
		for k, v := range want {
			if m[k] != v {
				t.Fatalf("key %q = %q, want %q (from %q)", k, m[k], v, out)
			}
		}
	})
}

// valid mirrors the encoder's replacement of invalid UTF-8.
// Each invalid byte becomes one U+FFFD, as encoding/json does.
func valid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for an invalid byte
		i += size
	}
	return b.String()
}

func BenchmarkAppendObject(b *testing.B) {
	fields := []myField{
		{"level", "INFO"}, {"msg", "request served"}, {"method", "GET"},
		{"path", "/api/v1/orders/12345"}, {"status", "200"}, {"latency_ms", "12.5"},
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendObject(buf[:0], nil, fields)
	}
	b.SetBytes(int64(len(buf)))
}

// Every special byte at every offset of strings of every length up to 40
// (short strings, the 16-byte steps, the 8-byte step and the overlapping
// tail) encodes exactly as encoding/json encodes it.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", "\n", "\x7f", "\xff", "é", "\u2028", "日"}
	for _, sp := range specials {
		for n := range 40 {
			for pos := range n + 1 {
				s := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				want, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				if got := AppendString(nil, s); string(got) != string(want) {
					t.Fatalf("%q: got %s, want %s", s, got, want)
				}
			}
		}
	}
}

func BenchmarkEncodingJSONBaseline(b *testing.B) {
	m := map[string]string{"level": "INFO", "msg": "request served", "method": "GET",
		"path": "/api/v1/orders/12345", "status": "200", "latency_ms": "12.5"}
	b.ReportAllocs()
	for b.Loop() {
		json.Marshal(m)
	}
}
