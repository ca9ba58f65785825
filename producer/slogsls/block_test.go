package slogsls

import (
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// With the endpoint down and the buffer full, no logging call waits longer
// than the producer's MaxBlock (its default) plus 50 ms: the handler logs
// with a context that never ends, and the application must go on serving.
// In a synctest bubble, so durations are exact.
func TestCallsWaitAtMostMaxBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true})
		down := testproducer.NewOutage(s)
		p := testproducer.New(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.MaxBufferedBytes = 64 << 10
		})
		h := New(p, "app", nil)
		l := slog.New(h)
		msg := strings.Repeat("m", 200)
		for i := 0; p.Stats().Dropped < 3; i++ {
			if i == 10_000 {
				t.Fatalf("%d records logged into a 64 KiB buffer, none refused", i)
			}
			start := time.Now()
			if i%2 == 0 {
				l.Info(msg)
			} else {
				l.Error(msg)
			}
			if took := time.Since(start); took > producer.DefaultMaxBlock+50*time.Millisecond {
				t.Fatalf("call %d took %v with the buffer full", i, took)
			}
		}
		if st := p.Stats(); h.Refused() != st.Dropped+st.Shed {
			t.Errorf("refused %d, stats %+v", h.Refused(), st)
		}
		down.Up()
	})
}
