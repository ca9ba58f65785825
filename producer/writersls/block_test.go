package writersls

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// With the endpoint down and the buffer full, no Write waits longer than
// the producer's MaxBlock (its default) plus 50 ms, even one of many
// lines: once a line is refused for want of space, the rest of the Write
// is refused with it. Every refused line is counted and passed to OnError.
// In a synctest bubble, so durations are exact.
func TestWritesWaitAtMostMaxBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const bound = producer.DefaultMaxBlock + 50*time.Millisecond
		s := slstest.New(t, slstest.Config{InMemory: true})
		down := testproducer.NewOutage(s)
		p := testproducer.New(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.MaxBufferedBytes = 64 << 10
		})
		var onError int
		w := New(p, "app", &Options{OnError: func(err error) {
			if !errors.Is(err, producer.ErrBufferFull) {
				t.Errorf("OnError(%v), want ErrBufferFull", err)
			}
			onError++
		}})
		line := `{"level":"error","msg":"` + strings.Repeat("m", 200) + `"}` + "\n"
		many := []byte(strings.Repeat(line, 1000))
		for i := range 20 {
			start := time.Now()
			if n, err := w.Write(many); n != len(many) || err != nil {
				t.Fatalf("Write %d = %d, %v", i, n, err)
			}
			if took := time.Since(start); took > bound {
				t.Fatalf("Write %d of %d lines took %v with the buffer full", i, 1000, took)
			}
		}
		st := p.Stats()
		// Every line refused was offered to the producer and counted by it.
		if st.Dropped == 0 || w.Refused() != 20*1000-st.Accepted || int64(onError) != w.Refused() || st.Dropped != w.Refused() {
			t.Errorf("refused %d, OnError %d, stats %+v", w.Refused(), onError, st)
		}
		down.Up()
	})
}
