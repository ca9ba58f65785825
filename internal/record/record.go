// Package record encodes log records as the flat JSON objects that SLS
// expands into fields.
//
// The encoder appends into a caller-owned buffer and never allocates for
// records of up to 64 fields; it is the hot path of every Log call.
package record

import (
	"slices"
	"sync/atomic"
	"time"
	"unsafe"
)

// Field is one key/value pair of a log record.
type Field struct{ Key, Value string }

// Pair is any struct type with the shape of Field: the public packages
// declare their own Field type with this shape, and the internal packages
// take any of them rather than import a public one.
type Pair interface{ ~struct{ Key, Value string } }

// asFields returns fields as a []Field sharing their array: a Pair has
// Field's underlying type, so the two have the same memory layout.
func asFields[F Pair](fields []F) []Field {
	return unsafe.Slice((*Field)(unsafe.Pointer(unsafe.SliceData(fields))), len(fields))
}

// Static is the fields added to every record, deduplicated (the last
// occurrence wins) and encoded once, so that a record pays only for its
// own fields. The nil *Static has no fields.
type Static struct {
	fields  []Field
	encoded [][]byte // fields[i] as "key":"value"
	hashes  []uint64 // keyHash(fields[i].Key)
	joined  []byte   // the encoded fields, comma-separated

	// timeKey, if set, is the field AppendRecord writes the record's time
	// to, after the static fields; timePrefix is its "key":" and
	// timeHash keyHash(timeKey).
	timeKey    string
	timePrefix []byte
	timeHash   uint64
	second     atomic.Pointer[secondCache] // the last second written
}

// NewStatic returns fields, deduplicated and encoded.
func NewStatic(fields []Field) *Static { return NewStaticTime(fields, "") }

// NewStaticTime is NewStatic with a time field: AppendRecord writes the
// record's time (AppendTime) under timeKey, after the static fields, as
// the last of them: it replaces a static field of the same key, and a
// record's own field of that key replaces it. An empty timeKey writes no
// time.
func NewStaticTime(fields []Field, timeKey string) *Static {
	st := &Static{timeKey: timeKey}
	if timeKey != "" {
		st.timePrefix = append(AppendString(nil, timeKey), ':', '"')
		st.timeHash = keyHash(timeKey)
	}
	for i, f := range fields {
		if inFields(f.Key, fields[i+1:]) || timeKey != "" && f.Key == timeKey {
			continue
		}
		enc := appendPair(nil, f.Key, f.Value)
		st.fields = append(st.fields, f)
		st.encoded = append(st.encoded, enc)
		st.hashes = append(st.hashes, keyHash(f.Key))
		if len(st.joined) > 0 {
			st.joined = append(st.joined, ',')
		}
		st.joined = append(st.joined, enc...)
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
	return AppendRecord(dst, st, time.Time{}, fields)
}

// AppendRecord is AppendObject with the record's time t written to st's
// time field (NewStaticTime), unless t is zero or a field of the record
// has that key.
func AppendRecord[F Pair](dst []byte, st *Static, t time.Time, fields []F) []byte {
	if st == nil {
		st = &noStatic
	}
	fs := asFields(fields)
	if len(fs) > maxSetFields {
		static := st.fields
		if st.timeKey != "" && !t.IsZero() {
			static = append(slices.Clip(static), Field{st.timeKey, string(AppendTime(nil, t))})
		}
		return appendObjectMap(dst, static, fs)
	}
	return appendObject(dst, st, t, fs)
}

var noStatic Static

// pairwiseFields is the most fields whose keys are compared pairwise: up
// to six comparisons, most of which stop at the lengths, cost less than
// the bitmap.
const pairwiseFields = 4

// appendObject is AppendObject for up to maxSetFields fields.
//
// Most records have no duplicate keys, and comparing every key with every
// later one costs n²/2 string comparisons to learn that. Instead one pass
// marks each key's hash in a bitmap (keySet) and notes the bits marked
// twice. Usually none is, and then no key has a later duplicate: the
// fields are written without a check. Otherwise only a key whose bit was
// marked twice is compared with the later ones. A static field is
// compared with the record's keys only if its bit is marked.
func appendObject(dst []byte, st *Static, t time.Time, fields []Field) []byte {
	if len(fields) <= pairwiseFields {
		return appendFields(dst, st, t, fields, nil)
	}
	var ks keySet
	if ks.mark(fields) {
		// Two keys share a bit: note which bits, so that only their
		// keys are compared. Rare: a second pass costs less than
		// keeping track in the first.
		ks = keySet{}
		for i := range fields {
			ks.add(keyHash(fields[i].Key))
		}
	}
	return appendFields(dst, st, t, fields, &ks)
}

// appendFields appends the object. With a nil ks, every key is compared
// with the later ones; else none if ks has no bit twice, or only those
// whose bit ks has twice.
func appendFields(dst []byte, st *Static, t time.Time, fields []Field, ks *keySet) []byte {
	dst = append(dst, '{')
	first := true
	if len(st.fields) > 0 {
		dst, first = appendStatic(dst, st, func(i int) bool { return overrides(st, i, fields, ks) })
	}
	if st.timeKey != "" && !t.IsZero() && !((ks == nil || ks.has(st.timeHash)) && inFields(st.timeKey, fields)) {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, st.timePrefix...)
		dst = append(st.appendTime(dst, t), '"')
		first = false
	}
	if ks != nil && !ks.anyTwice() {
		// No key occurs twice: the usual record, written without a
		// comparison.
		for i := range fields {
			if !first {
				dst = append(dst, ',')
			}
			dst = appendPair(dst, fields[i].Key, fields[i].Value)
			first = false
		}
		return append(dst, '}')
	}
	for i := range fields {
		f := &fields[i]
		if (ks == nil || ks.twice(keyHash(f.Key))) && inFields(f.Key, fields[i+1:]) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		dst = appendPair(dst, f.Key, f.Value)
		first = false
	}
	return append(dst, '}')
}

// overrides reports whether fields hold static field i's key; with a
// non-nil ks, only a key whose hash ks has is looked for.
func overrides(st *Static, i int, fields []Field, ks *keySet) bool {
	return (ks == nil || ks.has(st.hashes[i])) && inFields(st.fields[i].Key, fields)
}

// appendStatic appends the static fields that the record does not
// override (all of them in one copy when none is, as is usual) and reports
// whether it appended none. overridden(i) reports whether the record
// holds static field i's key.
func appendStatic(dst []byte, st *Static, overridden func(i int) bool) ([]byte, bool) {
	i := 0
	for i < len(st.fields) && !overridden(i) {
		i++
	}
	if i == len(st.fields) {
		return append(dst, st.joined...), false
	}
	first := true
	for i := range st.fields {
		if overridden(i) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, st.encoded[i]...)
		first = false
	}
	return dst, first
}

// appendPair appends "key":"value".
func appendPair(dst []byte, k, v string) []byte {
	// Both strings plain, as most are: one capacity check, each byte
	// checked as it is copied.
	n := len(dst)
	dst = slices.Grow(dst, len(k)+len(v)+5)[:n+len(k)+len(v)+5]
	dst[n] = '"'
	c := copyPlain(dst[n+1:], k)
	if c < len(k) {
		dst = appendEscaped(dst[:n+1+c], k[c:])
		dst = append(dst, ':')
		return AppendString(dst, v)
	}
	n += 1 + len(k)
	dst[n], dst[n+1], dst[n+2] = '"', ':', '"'
	n += 3
	c = copyPlain(dst[n:], v)
	if c < len(v) {
		return appendEscaped(dst[:n+c], v[c:])
	}
	dst[n+len(v)] = '"'
	return dst
}

func inFields(k string, fs []Field) bool {
	for i := range fs {
		if fs[i].Key == k {
			return true
		}
	}
	return false
}

// appendObjectMap is AppendObject for many fields, where the bitmap would
// flag too many keys and their checks would cost more than a map.
func appendObjectMap(dst []byte, static, fields []Field) []byte {
	all := make([]Field, 0, len(static)+len(fields))
	all = append(all, static...)
	all = append(all, fields...)
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
		if !first {
			dst = append(dst, ',')
		}
		dst = appendPair(dst, f.Key, f.Value)
		first = false
	}
	return append(dst, '}')
}
