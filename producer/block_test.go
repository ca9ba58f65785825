package producer_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// With the endpoint down and the buffer full, Log under Block waits at
// most MaxBlock whatever its context, then refuses the record with
// ErrBufferFull, counted in Dropped and said once in the logs; a context
// that ends first is ErrBufferFull wrapping the context's error. In a
// synctest bubble, so the waits are measured exactly.
func TestMaxBlockBoundsLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxBlock = 300 * time.Millisecond
		s := slstest.New(t, slstest.Config{InMemory: true})
		down := testproducer.NewOutage(s)
		var logs lockedBuffer
		p := newProducer(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.MaxBufferedBytes = 64 << 10
			c.MaxBlock = maxBlock
			c.ShedAt = -1 // these INFO records fill the buffer
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		})
		var accepted int
		var err error
		for accepted < 10_000 {
			start := time.Now()
			err = p.Log(context.Background(), "app", rec("msg", strings.Repeat("m", 200)))
			if took := time.Since(start); took > maxBlock {
				t.Fatalf("Log %d took %v, MaxBlock is %v", accepted, took, maxBlock)
			}
			if err != nil {
				break
			}
			accepted++
		}
		if !errors.Is(err, producer.ErrBufferFull) || !strings.Contains(err.Error(), "MaxBlock") {
			t.Fatalf("after %d records: err = %v, want ErrBufferFull naming MaxBlock", accepted, err)
		}
		// A context that ends before MaxBlock ends the wait with its error.
		ctx, cancel := context.WithTimeout(context.Background(), maxBlock/3)
		start := time.Now()
		err = p.Log(ctx, "app", rec("msg", "late"))
		cancel()
		if took := time.Since(start); took != maxBlock/3 || !errors.Is(err, producer.ErrBufferFull) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Log with a %v context: %v after %v, want ErrBufferFull wrapping DeadlineExceeded after %[1]v", maxBlock/3, err, took)
		}
		// More refusals: one line in the logs.
		for range 3 {
			if err := p.Log(context.Background(), "app", rec("msg", "x")); !errors.Is(err, producer.ErrBufferFull) {
				t.Fatalf("err = %v, want ErrBufferFull", err)
			}
		}
		st := p.Stats()
		if st.Dropped != 5 || st.Accepted != int64(accepted) {
			t.Errorf("stats %+v, want %d accepted and 5 dropped", st, accepted)
		}
		if n := strings.Count(logs.String(), "records dropped: no buffer space"); n != 1 {
			t.Errorf("%d lines about the full buffer, want 1:\n%s", n, logs.String())
		}

		down.Up()
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := len(s.Logs("app")); got != accepted {
			t.Errorf("stored %d of %d accepted", got, accepted)
		}
	})
}
