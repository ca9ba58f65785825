package record

import (
	"strconv"
	"time"
)

// Object is a record's own fields encoded as an adapter reads them, for an
// adapter whose fields come one at a time (zapsls): each is written into
// JSON once, where AppendRecord takes a []Field that the adapter builds
// first and reads every field again.
//
// AppendRecord of an Object writes the bytes that AppendRecord writes for
// the same fields in the same order: the last of a key wins, a field
// replaces a static field or the time field of its key. Adding marks each
// key's hash (keySet), so that, as there, only a key whose bit is marked
// twice is compared with the others.
//
// The zero Object is empty and ready; Reset empties it for reuse. An
// Object keeps the keys it is given, not copies: they must not change
// until it is reset.
type Object struct {
	body []byte   // the fields, "key":"value", comma-separated
	ends []int    // where each field's pair ends in body
	keys []string // each field's key
	ks   keySet
	// empty is set when a key is empty: AppendRecord writes it like any
	// other, but the producer refuses such a record (EmptyKey).
	empty bool
}

// Reset empties o, keeping its arrays.
func (o *Object) Reset() {
	clear(o.keys) // do not pin the last record's keys
	o.body, o.ends, o.keys = o.body[:0], o.ends[:0], o.keys[:0]
	o.ks = keySet{}
	o.empty = false
}

// Size is the number of bytes the fields take, encoded.
func (o *Object) Size() int { return len(o.body) }

// EmptyKey reports whether a field was added with an empty key.
func (o *Object) EmptyKey() bool { return o.empty }

// begin notes key k of the field being added and writes the comma before
// it.
func (o *Object) begin(k string) {
	if len(o.keys) > 0 {
		o.body = append(o.body, ',')
	}
	o.ks.add(keyHash(k))
	o.keys = append(o.keys, k)
	o.empty = o.empty || k == ""
}

// end notes where the field just written ends.
func (o *Object) end() { o.ends = append(o.ends, len(o.body)) }

// AddString adds the field k with the value v.
func (o *Object) AddString(k, v string) {
	o.begin(k)
	o.body = appendPair(o.body, k, v)
	o.end()
}

// AddInt adds the field k with v in decimal, as strconv.FormatInt.
func (o *Object) AddInt(k string, v int64) {
	o.begin(k)
	o.body = append(AppendString(o.body, k), ':', '"')
	o.body = append(strconv.AppendInt(o.body, v, 10), '"')
	o.end()
}

// AddUint adds the field k with v in decimal, as strconv.FormatUint.
func (o *Object) AddUint(k string, v uint64) {
	o.begin(k)
	o.body = append(AppendString(o.body, k), ':', '"')
	o.body = append(strconv.AppendUint(o.body, v, 10), '"')
	o.end()
}

// AddBool adds the field k with "true" or "false".
func (o *Object) AddBool(k string, v bool) {
	o.begin(k)
	o.body = append(AppendString(o.body, k), ':', '"')
	o.body = append(strconv.AppendBool(o.body, v), '"')
	o.end()
}

// AddFloat adds the field k with v as strconv.FormatFloat(v, 'f', -1,
// bitSize) writes it ("NaN", "+Inf" and "-Inf" by name).
func (o *Object) AddFloat(k string, v float64, bitSize int) {
	o.begin(k)
	o.body = append(AppendString(o.body, k), ':', '"')
	o.body = append(strconv.AppendFloat(o.body, v, 'f', -1, bitSize), '"')
	o.end()
}

// AddObject adds o2's fields after o's, as if each was added to o.
func (o *Object) AddObject(o2 *Object) {
	if len(o2.keys) == 0 {
		return
	}
	if len(o.keys) > 0 {
		o.body = append(o.body, ',')
	}
	shift := len(o.body)
	o.body = append(o.body, o2.body...)
	for _, e := range o2.ends {
		o.ends = append(o.ends, e+shift)
	}
	for _, k := range o2.keys {
		o.ks.add(keyHash(k))
	}
	o.keys = append(o.keys, o2.keys...)
	o.empty = o.empty || o2.empty
}

// Clone returns a copy of o that shares nothing with it but the keys.
func (o *Object) Clone() *Object {
	return &Object{
		body:  append([]byte(nil), o.body...),
		ends:  append([]int(nil), o.ends...),
		keys:  append([]string(nil), o.keys...),
		ks:    o.ks,
		empty: o.empty,
	}
}

// AppendRecord appends one JSON object holding st's static fields, the
// time t in st's time field and o's fields, as AppendRecord(dst, st, t,
// fields) does for fields holding o's.
func (o *Object) AppendRecord(dst []byte, st *Static, t time.Time) []byte {
	if st == nil {
		st = &noStatic
	}
	if len(o.keys) > maxSetFields {
		return o.appendMap(dst, st, t)
	}
	ks := &o.ks
	dst = append(dst, '{')
	first := true
	if len(st.fields) > 0 {
		dst, first = appendStatic(dst, st, func(i int) bool { return ks.has(st.hashes[i]) && inKeys(st.fields[i].Key, o.keys) })
	}
	if st.timeKey != "" && !t.IsZero() && !(ks.has(st.timeHash) && inKeys(st.timeKey, o.keys)) {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, st.timePrefix...)
		dst = append(st.appendTime(dst, t), '"')
		first = false
	}
	if !ks.anyTwice() {
		// No key occurs twice: the fields as they were written.
		if len(o.body) > 0 {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, o.body...)
		}
		return append(dst, '}')
	}
	start := 0
	for i, k := range o.keys {
		end := o.ends[i]
		if !(ks.twice(keyHash(k)) && inKeys(k, o.keys[i+1:])) {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, o.body[start:end]...)
			first = false
		}
		start = end + 1
	}
	return append(dst, '}')
}

// appendMap is appendObjectMap for an Object: for many fields, where the
// bitmap would flag too many keys, a map finds the last of each key among
// the static fields, the time field and o's fields, in that order.
func (o *Object) appendMap(dst []byte, st *Static, t time.Time) []byte {
	withTime := st.timeKey != "" && !t.IsZero()
	timeAt, base := len(st.fields), len(st.fields)+1
	last := make(map[string]int, base+len(o.keys))
	for i, f := range st.fields {
		last[f.Key] = i
	}
	if withTime {
		last[st.timeKey] = timeAt
	}
	for i, k := range o.keys {
		last[k] = base + i
	}
	dst = append(dst, '{')
	first := true
	comma := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	for i, f := range st.fields {
		if last[f.Key] == i {
			comma()
			dst = append(dst, st.encoded[i]...)
		}
	}
	if withTime && last[st.timeKey] == timeAt {
		comma()
		dst = append(dst, st.timePrefix...)
		dst = append(st.appendTime(dst, t), '"')
	}
	start := 0
	for i, k := range o.keys {
		if last[k] == base+i {
			comma()
			dst = append(dst, o.body[start:o.ends[i]]...)
		}
		start = o.ends[i] + 1
	}
	return append(dst, '}')
}

func inKeys(k string, keys []string) bool {
	for _, key := range keys {
		if key == k {
			return true
		}
	}
	return false
}
