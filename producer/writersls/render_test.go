package writersls

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slskafka/slskafka/producer"
)

func renderLine(line string) ([]producer.Field, slog.Level) {
	s := getState()
	defer putState(s)
	level := s.render([]byte(line), DefaultLevelKey)
	return slices.Clone(s.Fields), level
}

func TestRender(t *testing.T) {
	for _, c := range []struct {
		line  string
		want  string // key=value, space separated, in order
		level slog.Level
	}{
		{`{"level":"info","message":"hi"}`, `level=info message=hi`, slog.LevelInfo},
		{`{"level":"warn","user":{"id":42,"name":"ann"},"tags":["a","b"],"message":"slow"}`,
			`level=warn user.id=42 user.name=ann tags=["a","b"] message=slow`, slog.LevelWarn},
		{` { "a" : { "b" : { "c" : true } } , "n" : null , "f" : -1.5e3 } `, `a.b.c=true n=null f=-1.5e3`, slog.LevelInfo},
		{`{"esc":"tab\tquote\"uni\u00e9","k\"ey":"v","p":{"q\\r":"s"}}`, "esc=tab\tquote\"unié k\"ey=v p.q\\r=s", slog.LevelInfo},
		{`{"u":"\ud83d\ude00|\ud800|\ud800\u0041|\u003ca\u0026b\u003E\/"}`, "u=\U0001F600|\uFFFD|\uFFFDA|<a&b>/", slog.LevelInfo},
		{`{"arr":[{"x":"]}"},[1,2],"}"],"after":1}`, `arr=[{"x":"]}"},[1,2],"}"] after=1`, slog.LevelInfo},
		{`{"":"bare","g":{"":"in"},"empty":{}}`, `!BADKEY=bare g.=in`, slog.LevelInfo},
		{`{"level":"warning"}`, `level=warning`, slog.LevelWarn},
		{`{"level":"ERROR"}`, `level=ERROR`, slog.LevelError},
		{`{"level":"trace"}`, `level=trace`, slog.LevelDebug - 4},
		{`{"level":"fatal"}`, `level=fatal`, slog.LevelError + 4},
		{`{"level":"panic"}`, `level=panic`, slog.LevelError + 4},
		{`{"level":"WARN+2"}`, `level=WARN+2`, slog.LevelWarn + 2},
		{`{"level":"DEBUG-1"}`, `level=DEBUG-1`, slog.LevelDebug - 1},
		{`{"level":"verbose"}`, `level=verbose`, slog.LevelInfo},
		{`{"level":"warn+x"}`, `level=warn+x`, slog.LevelInfo},
		{`{"level":3}`, `level=3`, slog.LevelInfo},
		{`{"ctx":{"level":"error"}}`, `ctx.level=error`, slog.LevelInfo},
		// Not a JSON object: the whole line is the content.
		{`2026/12/07 plain text`, `content=2026/12/07 plain text`, slog.LevelInfo},
		{`{"broken":`, `content={"broken":`, slog.LevelInfo},
		{`{"a":1} trailing`, `content={"a":1} trailing`, slog.LevelInfo},
		{`[1,2]`, `content=[1,2]`, slog.LevelInfo},
		{`{}`, `content={}`, slog.LevelInfo},
		{`{"e":{}}`, `content={"e":{}}`, slog.LevelInfo},
		{`time="2026-12-07T01:00:00Z" level=error msg=x`, `content=time="2026-12-07T01:00:00Z" level=error msg=x`, slog.LevelInfo},
	} {
		fields, level := renderLine(c.line)
		var got []string
		for _, f := range fields {
			got = append(got, f.Key+"="+f.Value)
		}
		if strings.Join(got, " ") != c.want || level != c.level {
			t.Errorf("%s:\n got %s (%v)\nwant %s (%v)", c.line, strings.Join(got, " "), level, c.want, c.level)
		}
	}
}

// FuzzRender checks the walk against encoding/json: every valid object
// becomes the fields of its flattened decoding, anything else the content,
// and no line panics.
func FuzzRender(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,{"c":"]"}]},"d":"\u00e9\"","":null}`, `{"x":1e5,"y":false}`, `{"u":"\ud83d\ude00 \ud800 \udc00x \ud800\u0041 \u003c\u0026\/\b\f\n\r\t"}`, `plain`, `{"a":`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r") || !utf8.ValidString(line) || strings.TrimSpace(line) == "" {
			return // the writer splits lines; the producer replaces invalid UTF-8
		}
		fields, _ := renderLine(line)
		var obj map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if !json.Valid([]byte(strings.TrimLeft(line, " \t"))) || dec.Decode(&obj) != nil || obj == nil {
			if len(fields) != 1 || fields[0].Key != ContentKey || fields[0].Value != line {
				t.Fatalf("%q: not an object, rendered %v", line, fields)
			}
			return
		}
		if repeatsKey(line) {
			return // encoding/json replaces a repeated object; the fields of both are kept
		}
		want, arrays := map[string]string{}, map[string]bool{}
		flatten(want, arrays, "", obj)
		if len(want) == 0 {
			want[ContentKey] = line
		}
		got := map[string]string{}
		for _, f := range fields {
			got[f.Key] = f.Value
			if arrays[f.Key] {
				got[f.Key] = normalized(t, f.Value)
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%q:\n got %v\nwant %v", line, got, want)
		}
	})
}

func flatten(dst map[string]string, arrays map[string]bool, prefix string, obj map[string]any) {
	for k, v := range obj {
		key := prefix + k
		if key == "" {
			key = "!BADKEY"
		}
		switch v := v.(type) {
		case map[string]any:
			flatten(dst, arrays, prefix+k+".", v)
		case string:
			dst[key] = v
		case nil:
			dst[key] = "null"
		case json.Number:
			dst[key] = v.String()
		case bool:
			dst[key] = fmt.Sprint(v)
		default:
			js, _ := json.Marshal(v)
			dst[key], arrays[key] = string(js), true
		}
	}
}

// normalized is the JSON text js re-encoded, as flatten encodes arrays.
func normalized(t *testing.T, js string) string {
	var v any
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("an array field is not JSON: %q: %v", js, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// repeatsKey reports whether an object in the valid JSON line has a key
// twice.
func repeatsKey(line string) bool {
	dec := json.NewDecoder(strings.NewReader(line))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // the next string token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, isKey := tok.(string); isKey && top != nil && top.obj && top.key {
			if top.keys[k] {
				return true
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}
