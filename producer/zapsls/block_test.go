package zapsls_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/zapsls"
	"github.com/slskafka/slskafka/slstest"
)

// With the endpoint down and the buffer full, no logging call waits longer
// than the producer's MaxBlock (its default) plus 50 ms: the core logs with
// a context that never ends, and the application must go on serving. In a
// synctest bubble, so durations are exact.
func TestCallsWaitAtMostMaxBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true})
		down := testproducer.NewOutage(s)
		p := testproducer.New(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.MaxBufferedBytes = 64 << 10
		})
		var refused int
		l := zap.New(zapsls.NewCore(p, "app", zapcore.DebugLevel), zap.ErrorOutput(zapcore.AddSync(writerFunc(func(b []byte) (int, error) {
			refused++ // zap reports a core's Write error here
			return len(b), nil
		}))))
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
		if st := p.Stats(); int64(refused) != st.Dropped+st.Shed {
			t.Errorf("refused %d, stats %+v", refused, st)
		}
		down.Up()
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
