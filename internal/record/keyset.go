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

// add marks hash h, noting it in again if it was marked already, and
// returns its bit.
func (ks *keySet) add(h uint64) uint16 {
	b := uint16(h >> (64 - 9))
	ks.again[b>>6] |= ks.seen[b>>6] & (1 << (b & 63))
	ks.seen[b>>6] |= 1 << (b & 63)
	return b
}

// has reports whether hash h's bit is marked: a key with hash h may be in
// the set.
func (ks *keySet) has(h uint64) bool {
	b := h >> (64 - 9)
	return ks.seen[b>>6]&(1<<(b&63)) != 0
}

// twice reports whether bit b was marked more than once: its key may occur
// twice.
func (ks *keySet) twice(b uint16) bool {
	return ks.again[b>>6]&(1<<(b&63)) != 0
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
