package fieldbuf

import (
	"bytes"
	"encoding/json"
)

// AppendJSONText appends js, the JSON encoding of a value that has no text
// form of its own (a struct, a map, a named string type), as a field
// stores it: a JSON string as the string, without its quotes, so that a
// value of a named string type is stored like a string; anything else as
// it is. Both adapters store such values this way.
func AppendJSONText(dst, js []byte) []byte {
	if len(js) >= 2 && js[0] == '"' {
		// encoding/json escapes only with a backslash: without one,
		// the text between the quotes is the string.
		if bytes.IndexByte(js, '\\') < 0 {
			return append(dst, js[1:len(js)-1]...)
		}
		var str string
		if json.Unmarshal(js, &str) == nil {
			return append(dst, str...)
		}
	}
	return append(dst, js...)
}
