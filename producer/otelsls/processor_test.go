package otelsls_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/otelsls"
	"github.com/slskafka/slskafka/slstest"
)

func newProcessor(t *testing.T, p *producer.Producer, opts *otelsls.Options) *otelsls.Processor {
	t.Helper()
	proc, err := otelsls.NewProcessor(p, "app", opts)
	if err != nil {
		t.Fatal(err)
	}
	return proc
}

// The same bridge record stores the same fields through the Processor as
// through a BatchProcessor around the Exporter.
func TestProcessorStoresWhatExporterStores(t *testing.T) {
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"))
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	var stored []map[string]string
	for _, name := range []string{"processor", "batch(exporter)"} {
		s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 1}}, nil)
		var proc sdklog.Processor = newProcessor(t, p, nil)
		if name != "processor" {
			proc = sdklog.NewBatchProcessor(newExporter(t, p, nil))
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(proc))
		logger := otelslog.NewLogger("shop", otelslog.WithLoggerProvider(lp))
		logger.InfoContext(ctx, "order placed", "order_id", 1042, "paid", true, "req", map[string]any{"method": "POST"})
		if err := lp.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		logs := s.Logs("app")
		if len(logs) != 1 {
			t.Fatalf("%s: %d logs stored, want 1", name, len(logs))
		}
		stored = append(stored, logs[0].Fields)
	}
	if stored[0]["msg"] != "order placed" || stored[0]["service.name"] != "checkout" || stored[0]["trace_id"] == "" || stored[0]["order_id"] != "1042" {
		t.Errorf("processor stored %v", stored[0])
	}
	if !maps.Equal(stored[0], stored[1]) {
		t.Errorf("processor stored\n%v\nexporter stored\n%v", stored[0], stored[1])
	}
}

// OnEmit keeps nothing of the record: a processor registered after it,
// which the SDK hands the same record, changes it without changing what is
// stored; and a cancelled logging context does not lose it.
func TestProcessorDoesNotRetainRecord(t *testing.T) {
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 1}}, nil)
	proc := newProcessor(t, p, nil)
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(proc), sdklog.WithProcessor(mutator{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the request that logged it ended
	otelslog.NewLogger("x", otelslog.WithLoggerProvider(lp)).InfoContext(ctx, "original", "k", "v1")
	if err := lp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	logs := s.Logs("app")
	if len(logs) != 1 || logs[0].Fields["msg"] != "original" || logs[0].Fields["k"] != "v1" {
		t.Errorf("logs = %v, want the record as emitted", logs)
	}
}

// mutator changes every record it is handed.
type mutator struct{}

func (mutator) OnEmit(_ context.Context, r *sdklog.Record) error {
	r.SetBody(attribute.StringValue("changed"))
	r.SetAttributes(attribute.String("k", "v2"))
	return nil
}
func (mutator) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (mutator) Shutdown(context.Context) error                         { return nil }
func (mutator) ForceFlush(context.Context) error                       { return nil }

// With SLS stalled and the buffer full (Block), OnEmit returns once its
// timeout has passed, with an error the SDK reports, and the producer
// counts the record as not accepted.
func TestProcessorBoundsItsWait(t *testing.T) {
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 1}}, func(c *producer.Config) {
		c.MaxBufferedBytes = 64 << 10
		c.Linger = time.Millisecond
		c.ShedAt = -1 // the records are INFO: they would be shed at 80%
	})
	s.SetLatency(time.Hour) // acknowledges nothing: the buffer fills
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		p.Close(ctx) // give up on what is buffered: SLS is stalled
	}()
	proc := newProcessor(t, p, &otelsls.Options{Timeout: 200 * time.Millisecond})
	var r sdklog.Record
	r.SetBody(attribute.StringValue(strings.Repeat("x", 1000)))
	var err error
	start := time.Now()
	for range 400 { // 400 kB > 64 KiB
		r.SetObservedTimestamp(time.Now())
		if err = proc.OnEmit(context.Background(), &r); err != nil {
			break
		}
	}
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("OnEmit on a full buffer = %v, want the emit timeout", err)
	}
	if took > 20*time.Second { // the bound is 200 ms; slack for a loaded machine
		t.Errorf("OnEmit took %v with a 200 ms bound", took)
	}
}

// After Shutdown, OnEmit refuses records with producer.ErrClosed; Shutdown
// and ForceFlush then do nothing.
func TestProcessorShutdown(t *testing.T) {
	_, p := newProducer(t, slstest.Config{}, nil)
	proc := newProcessor(t, p, nil)
	if err := proc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var r sdklog.Record
	r.SetBody(attribute.StringValue("late"))
	if err := proc.OnEmit(context.Background(), &r); !errors.Is(err, producer.ErrClosed) {
		t.Errorf("OnEmit after Shutdown = %v, want ErrClosed", err)
	}
	if err := proc.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
	if err := proc.ForceFlush(context.Background()); err != nil {
		t.Errorf("ForceFlush after Shutdown = %v", err)
	}
	if _, err := otelsls.NewProcessor(p, "Bad Logstore", nil); err == nil {
		t.Error("NewProcessor accepted an invalid logstore")
	}
}
