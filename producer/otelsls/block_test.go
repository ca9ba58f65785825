package otelsls_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/otelsls"
	"github.com/slskafka/slskafka/slstest"
)

// With the endpoint down and the buffer full, no call waits longer than
// the producer's MaxBlock (its default) plus 50 ms: neither a logging call
// through a SimpleProcessor, nor an Export of a whole batch. In a synctest
// bubble, so durations are exact.
func TestCallsWaitAtMostMaxBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const bound = producer.DefaultMaxBlock + 50*time.Millisecond
		s := slstest.New(t, slstest.Config{InMemory: true})
		down := testproducer.NewOutage(s)
		p := testproducer.New(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.MaxBufferedBytes = 64 << 10
			c.Logger = slog.New(slog.DiscardHandler)
		})
		exp, err := otelsls.New(p, "app", nil)
		if err != nil {
			t.Fatal(err)
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
		l := lp.Logger("test")
		msg := strings.Repeat("m", 200)
		for i := 0; p.Stats().Dropped < 3; i++ {
			if i == 10_000 {
				t.Fatalf("%d records logged into a 64 KiB buffer, none refused", i)
			}
			var r otellog.Record
			r.SetBody(attribute.StringValue(msg))
			r.SetSeverity(otellog.SeverityInfo)
			if i%2 == 1 {
				r.SetSeverity(otellog.SeverityError)
			}
			start := time.Now()
			l.Emit(context.Background(), r)
			if took := time.Since(start); took > bound {
				t.Fatalf("call %d took %v with the buffer full", i, took)
			}
		}

		batch := make([]sdklog.Record, 100)
		for i := range batch {
			batch[i].SetBody(attribute.StringValue(msg))
			batch[i].SetSeverity(otellog.SeverityError)
		}
		start := time.Now()
		err = exp.Export(context.Background(), batch)
		if took := time.Since(start); took > bound || !errors.Is(err, producer.ErrBufferFull) || !strings.Contains(err.Error(), "100 of 100") {
			t.Errorf("Export of %d records: %v after %v, want ErrBufferFull for all within %v", len(batch), err, took, bound)
		}
		down.Up()
		if err := lp.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// A record whose observed time the caller set (a bridge replaying old
// records) is shipped like any other: the Processor's wait window follows
// the clock, not that time, so it never hands Log a context that ended.
func TestProcessorIgnoresCallersObservedTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true})
		p := testproducer.New(t, s, func(c *producer.Config) { c.DialContext = s.DialContext })
		proc, err := otelsls.NewProcessor(p, "app", &otelsls.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		for i := range 3 {
			var r sdklog.Record
			r.SetBody(attribute.StringValue("replayed"))
			r.SetObservedTimestamp(old)
			if err := proc.OnEmit(context.Background(), &r); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			time.Sleep(2 * time.Second) // fake time: past the window's timeout
		}
		if err := proc.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Delivered != 3 || st.Invalid != 0 {
			t.Errorf("3 records with an old observed time: %+v", st)
		}
	})
}
