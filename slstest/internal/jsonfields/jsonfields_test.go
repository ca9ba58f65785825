package jsonfields

import (
	"maps"
	"testing"
)

func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  map[string]string // nil: not an object
	}{
		{`{"s":"a\"b","n":3.50,"big":12345678901234567890,"t":true,"z":null}`,
			map[string]string{"s": `a"b`, "n": "3.50", "big": "12345678901234567890", "t": "true", "z": "null"}},
		{`{"o": {"a": [1, 2]}, "arr": [ {"k":"v"} ]}`, map[string]string{"o": `{"a":[1,2]}`, "arr": `[{"k":"v"}]`}},
		{`{}`, map[string]string{}},
		{`"text"`, nil},
		{`[1,2]`, nil},
		{`null`, nil},
		{`{"a":1} {"b":2}`, nil},
		{`not json`, nil},
	} {
		got, ok := Expand([]byte(tc.value))
		if ok != (tc.want != nil) || !maps.Equal(got, tc.want) {
			t.Errorf("Expand(%s) = %v, %v; want %v", tc.value, got, ok, tc.want)
		}
	}
}
