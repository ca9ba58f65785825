package record

import (
	"encoding/binary"
	"slices"
	"unicode/utf8"
	"unsafe"
)

const hex = "0123456789abcdef"

const (
	lsb  = 0x0101010101010101
	msb  = 0x8080808080808080
	low7 = 0x7f7f7f7f7f7f7f7f
)

// load8 reads the first eight bytes of s, little endian; the compiler
// turns this into one load.
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load4 reads the first four bytes of s, little endian.
func load4(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// plain8 returns msb if none of the eight bytes of x needs attention in a
// JSON string (a control character, quote, backslash or non-ASCII byte),
// and otherwise clears the top bit of each byte that does. With the top
// bits stripped, adding to a byte never carries into the next: each term
// is exact per byte.
func plain8(x uint64) uint64 {
	y := x & low7
	notCtl := y + lsb*(0x80-0x20)         // top bit set iff y >= 0x20
	notQuote := (y ^ lsb*'"') + low7      // top bit set iff y != '"'
	notBackslash := (y ^ lsb*'\\') + low7 // top bit set iff y != '\\'
	return notCtl & notQuote & notBackslash &^ x & msb
}

// safe marks the ASCII bytes that need no escaping inside a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// AppendString appends s as a quoted JSON string. Control characters are
// escaped, invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped so
// the output is also valid JavaScript.
func AppendString(dst []byte, s string) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(s)+2)[:n+len(s)+2]
	dst[n] = '"'
	if k := copyPlain(dst[n+1:], s); k < len(s) {
		return appendEscaped(dst[:n+1+k], s[k:])
	}
	dst[len(dst)-1] = '"'
	return dst
}

// copyPlain copies the leading printable ASCII of s other than '"' and
// '\\' (what JSON strings carry as is) to dst, checking each word as it
// copies it, and returns how many bytes it copied: len(s) when s is plain
// throughout, else a count from which appendEscaped goes on (it may stop
// a few plain bytes short of the first special one). len(dst) >= len(s).
func copyPlain(dst []byte, s string) int {
	n := len(s)
	dst = dst[:n]
	switch {
	case n >= 8:
		// Eight bytes a step, then the last eight, overlapping what was
		// copied. Through pointers: with slices, the bounds checks and
		// the registers they hold cost a quarter of the time.
		src, to := unsafe.Pointer(unsafe.StringData(s)), unsafe.Pointer(unsafe.SliceData(dst))
		i := 0
		for ; n-i > 8; i += 8 {
			x := word(src, i)
			if plain8(x) != msb {
				return i
			}
			putWord(to, i, x)
		}
		x := word(src, n-8)
		if plain8(x) != msb {
			return i
		}
		putWord(to, n-8, x)
	case n >= 4:
		// Two overlapping four-byte words cover 4 to 7 bytes.
		lo, hi := load4(s), load4(s[n-4:])
		if plain8(uint64(lo)|uint64(hi)<<32) != msb {
			return 0
		}
		binary.LittleEndian.PutUint32(dst, lo)
		binary.LittleEndian.PutUint32(dst[n-4:], hi)
	case n > 0:
		// First, middle and last byte cover 1 to 3 bytes; the other five
		// bytes of the word are spaces, which pass.
		a, b, c := s[0], s[n>>1], s[n-1]
		if plain8(uint64(a)|uint64(b)<<8|uint64(c)<<16|0x2020202020<<24) != msb {
			return 0
		}
		dst[0], dst[n>>1], dst[n-1] = a, b, c
	}
	return n
}

// word reads the eight bytes at p+i, little endian, in one load where the
// machine allows unaligned loads; p+i+8 must be within the same object.
func word(p unsafe.Pointer, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:])
}

// putWord writes x to the eight bytes at p+i, little endian.
func putWord(p unsafe.Pointer, i int, x uint64) {
	binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Add(p, i))[:], x)
}

// appendEscaped appends the rest of a JSON string, s, which starts at or a
// few bytes before a byte that needs an escape or is not ASCII, and the
// closing quote.
func appendEscaped(dst []byte, s string) []byte {
	start, i := 0, 0
	for i < len(s) {
		i += plainPrefix(s[i:])
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

// plainPrefix returns how many leading bytes of s are printable ASCII other
// than '"' and '\\', which JSON strings carry unescaped.
func plainPrefix(s string) int {
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		if plain8(load8(s[i:])) != msb {
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
