package writersls

import (
	"testing"

	"github.com/slskafka/slskafka/internal/race"
)

// Write does not allocate, for JSON lines with nesting, escapes and a
// level, text lines, and lines joined across Writes; what shipping
// allocates is the producer's (here a nil producer, which refuses at
// once). CI runs this without -race too: go test -count=1 -run 'Allocs$' ./...
func TestWriteAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are meaningless under the race detector; run without -race")
	}
	w := New(nil, "app", nil)
	for _, c := range []struct {
		name   string
		pieces []string
	}{
		{"zerolog", []string{`{"level":"warn","service":"shop","req":{"method":"GET","path":"/api/orders"},"took":84,"time":"2026-12-07T01:02:03Z","message":"slow request"}` + "\n"}},
		{"logrus-escaped", []string{`{"level":"warning","msg":"GET /search?q=a\u0026b \"quoted\"\tdone \ud83d\ude00","url":"/a\u003cb"}` + "\n"}},
		{"text", []string{"2026/12/07 01:02:03 served 3 requests\n"}},
		{"several", []string{"{\"a\":1}\nplain\n{\"b\":[1,2]}\n"}},
		{"pieces", []string{`{"level":"info",`, `"message":"joined"}` + "\nnext", " line\n"}},
	} {
		var pieces [][]byte
		for _, p := range c.pieces {
			pieces = append(pieces, []byte(p))
		}
		write := func() {
			for _, p := range pieces {
				w.Write(p)
			}
		}
		write() // warm the pool and the held line's array
		if allocs := testing.AllocsPerRun(1000, write); allocs != 0 {
			t.Errorf("%s: Write allocates %v times per line, want 0", c.name, allocs)
		}
	}
}
