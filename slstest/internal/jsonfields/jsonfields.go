// Package jsonfields expands a JSON object into the fields of one log, as
// the emulator stores a record on a "<logstore>.json" topic and as the
// conformance kit reads back a log that a consumer returned as JSON.
package jsonfields

import (
	"bytes"
	"encoding/json"
)

// Expand returns one field per top-level key of the JSON object value:
// strings unquoted, nested objects and arrays as compact JSON text,
// numbers, booleans and null in their JSON spelling. ok is false if value
// is not exactly one JSON object.
func Expand(value []byte) (fields map[string]string, ok bool) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return nil, false
	}
	out := make(map[string]string, len(obj))
	for k, raw := range obj {
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, false
			}
			out[k] = s
		case len(raw) > 0 && (raw[0] == '{' || raw[0] == '['):
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return nil, false
			}
			out[k] = buf.String()
		default:
			out[k] = string(raw)
		}
	}
	return out, true
}
