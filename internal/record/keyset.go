package record

import "math/bits"

// maxSetFields is the most fields a keySet serves; records with more find
// duplicates with a map.
const maxSetFields = 64

// keySet is a bitmap of key hashes that tells when a key may have a
// duplicate. A bit set by two keys says "maybe" (two keys can share a
// bit), a bit set once says "no" for certain; the maybes are settled by
// comparing the keys. Its 512 bits keep the chance that a key of a
// 64-field record shares its bit below one in eight (one in 70 for eight
// fields). It lives on the stack: no allocation.
type keySet struct {
	seen, again [8]uint64
}

// mark marks the hashes of the fields' keys and reports whether two share
// a bit, without noting which (again stays empty): the usual record has no
// such pair, and mark is cheaper than add for each, whose updates of
// again wait for those of seen.
func (ks *keySet) mark(fields []Field) (shared bool) {
	for i := range fields {
		b := keyHash(fields[i].Key) >> (64 - 9)
		w, bit := ks.seen[b>>6], uint64(1)<<(b&63)
		shared = shared || w&bit != 0
		ks.seen[b>>6] = w | bit
	}
	return shared
}

// add marks hash h, noting it in again if it was marked already.
func (ks *keySet) add(h uint64) {
	b := h >> (64 - 9)
	ks.again[b>>6] |= ks.seen[b>>6] & (1 << (b & 63))
	ks.seen[b>>6] |= 1 << (b & 63)
}

// has reports whether hash h's bit is marked: a key with hash h may be in
// the set.
func (ks *keySet) has(h uint64) bool {
	b := h >> (64 - 9)
	return ks.seen[b>>6]&(1<<(b&63)) != 0
}

// twice reports whether hash h's bit was marked more than once: a key with
// hash h may occur twice.
func (ks *keySet) twice(h uint64) bool {
	b := h >> (64 - 9)
	return ks.again[b>>6]&(1<<(b&63)) != 0
}

// anyTwice reports whether any bit was marked more than once: if not, no
// key occurs twice.
func (ks *keySet) anyTwice() bool {
	a := &ks.again
	return a[0]|a[1]|a[2]|a[3]|a[4]|a[5]|a[6]|a[7] != 0
}

// keyHash hashes a key from its length and up to 16 of its bytes: all of
// a key of up to 16 bytes, and the first and last eight of a longer one,
// where keys that share a prefix usually differ. It mixes them with a
// multiplication whose top bits the sets use (Fibonacci hashing). Keys
// alike in these only cost an exact comparison.
func keyHash(k string) uint64 {
	n := len(k)
	var x uint64
	switch {
	case n >= 8:
		x = load8(k) ^ bits.RotateLeft64(load8(k[n-8:]), 29)
	case n >= 4:
		x = uint64(load4(k)) | uint64(load4(k[n-4:]))<<32
	case n > 0:
		x = uint64(k[0]) | uint64(k[n>>1])<<8 | uint64(k[n-1])<<16
	}
	x ^= x>>32 ^ uint64(n)<<56
	return x * 0x9e3779b97f4a7c15
}
