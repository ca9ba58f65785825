package record

import (
	"strings"
	"testing"
)

// plain8 flags exactly the bytes JSON strings cannot carry as they are,
// whatever the bytes around them.
func TestPlain8(t *testing.T) {
	for _, fill := range []byte{'a', ' ', '~', 0x7f, '!', '#', '[', ']'} {
		for b := range 256 {
			for pos := range 8 {
				x := lsb * uint64(fill)
				x = x&^(0xff<<(8*pos)) | uint64(b)<<(8*pos)
				want := b < 0x20 || b == '"' || b == '\\' || b >= 0x80
				if got := plain8(x) != msb; got != want {
					t.Fatalf("byte %#x at %d among %q: special = %v, want %v", b, pos, fill, got, want)
				}
			}
		}
	}
}

// AppendString keeps what dst held and writes nothing past the string,
// whether dst has room or must grow, plain or not.
func TestAppendStringInPlace(t *testing.T) {
	for n := range 40 {
		for _, s := range []string{strings.Repeat("p", n), strings.Repeat("p", n) + "\"", "\n" + strings.Repeat("p", n)} {
			want := "head" + string(baselineAppendString(nil, s))
			for _, room := range []int{0, len(want), 2 * len(want)} {
				buf := make([]byte, 4, 4+room)
				copy(buf, "head")
				got := AppendString(buf, s)
				if string(got) != want {
					t.Fatalf("%q with room %d: got %s, want %s", s, room, got, want)
				}
				if cap(buf) > len(got) {
					if spare := buf[len(got):cap(buf)]; strings.Trim(string(spare), "\x00") != "" {
						t.Fatalf("%q with room %d: wrote %q past the string", s, room, spare)
					}
				}
			}
		}
	}
}
