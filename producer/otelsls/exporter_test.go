package otelsls_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/otelsls"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newProducer starts an emulator for the test and returns it with a
// producer on it, closed when the test ends.
func newProducer(t *testing.T, cfg slstest.Config, adjust func(*producer.Config)) (*slstest.Server, *producer.Producer) {
	t.Helper()
	s := slstest.New(t, cfg)
	pc := producer.Config{
		Project: s.Project(), Endpoint: s.Endpoint(),
		Credentials: s.Credentials(), TLS: s.TLSConfig(),
		Logger: slog.New(slog.DiscardHandler),
		// The tests compare the fields the exporter writes; the
		// producer's time field is tested with the producer.
		TimeField: producer.NoTimeField,
	}
	if adjust != nil {
		adjust(&pc)
	}
	p, err := producer.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return s, p
}

func newExporter(t *testing.T, p *producer.Producer, opts *otelsls.Options) *otelsls.Exporter {
	t.Helper()
	exp, err := otelsls.New(p, "app", opts)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

var (
	traceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	spanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

// A slog logger bridged by otelslog, through a real BatchProcessor: every
// record arrives with its body, severity, attributes, trace and the
// resource's attributes.
func TestBridgeThroughBatchProcessor(t *testing.T) {
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 2}}, nil)
	exp := newExporter(t, p, nil)
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("deployment.environment", "test"))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	logger := otelslog.NewLogger("shop", otelslog.WithLoggerProvider(lp))

	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	logger.InfoContext(ctx, "order placed", "order_id", 1042, "total", 99.5, "paid", true,
		slog.Group("req", "method", "POST", slog.Group("user", "id", 7)))
	logger.With("service.name", "override").WarnContext(context.Background(), "slow query", "took", 840*time.Millisecond)

	// Shutdown exports what is queued, flushes the exporter, and shuts it
	// down: everything logged is in SLS when it returns.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := lp.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	logs := s.Logs("app")
	if len(logs) != 2 {
		t.Fatalf("stored %d logs, want 2: %v", len(logs), logs)
	}
	byMsg := map[string]map[string]string{}
	for _, l := range logs {
		byMsg[l.Fields["msg"]] = l.Fields
		if l.Time.IsZero() || time.Since(l.Time) > time.Minute {
			t.Errorf("log time %v is not the record's", l.Time)
		}
	}
	want := map[string]string{
		"service.name":           "checkout",
		"deployment.environment": "test",
		"otel.scope.name":        "shop",
		"level":                  "INFO",
		"severity_number":        "9",
		"msg":                    "order placed",
		"trace_id":               "4bf92f3577b34da6a3ce929d0e0e4736",
		"span_id":                "00f067aa0ba902b7",
		"order_id":               "1042",
		"total":                  "99.5",
		"paid":                   "true",
		"req.method":             "POST",
		"req.user.id":            "7",
	}
	if got := byMsg["order placed"]; !maps.Equal(got, want) {
		t.Errorf("fields:\n got %v\nwant %v", got, want)
	}
	warn := byMsg["slow query"]
	for k, v := range map[string]string{"level": "WARN", "severity_number": "13", "took": "840000000", "service.name": "override"} {
		if warn[k] != v {
			t.Errorf("slow query: %s = %q, want %q (fields %v)", k, warn[k], v, warn)
		}
	}
	if _, ok := warn["trace_id"]; ok {
		t.Errorf("a record without a span has a trace_id: %v", warn)
	}
	if err := exp.Export(context.Background(), nil); !errors.Is(err, sdklog.ErrExporterShutdown) {
		t.Errorf("Export after Shutdown = %v, want ErrExporterShutdown", err)
	}
}

// The OpenTelemetry log API directly: an event with a map body, slices,
// bytes, an empty value, no severity text.
func TestEventRecord(t *testing.T) {
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 1}}, nil)
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.Empty()), sdklog.WithProcessor(sdklog.NewSimpleProcessor(newExporter(t, p, nil))))
	defer lp.Shutdown(context.Background())

	var r otellog.Record
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC) // SLS keeps milliseconds
	r.SetTimestamp(at)
	r.SetEventName("checkout.completed")
	r.SetSeverity(otellog.SeverityWarn3)
	r.SetBody(attribute.MapValue(attribute.String("user", "ann"), attribute.Int("items", 3),
		attribute.Map("cart", attribute.Float64("total", 12.25))))
	r.AddAttributes(
		attribute.StringSlice("tags", []string{"web", "v1"}),
		attribute.Slice("mixed", attribute.IntValue(1), attribute.StringValue("a")),
		attribute.KeyValue{Key: "raw", Value: attribute.ByteSliceValue([]byte("hi"))},
		attribute.KeyValue{Key: "none", Value: attribute.Value{}},
		attribute.Map("empty"),
	)
	lp.Logger("events", otellog.WithInstrumentationVersion("1.2.3")).Emit(context.Background(), r)
	if err := lp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	logs := s.Logs("app")
	if len(logs) != 1 {
		t.Fatalf("stored %d logs, want 1", len(logs))
	}
	want := map[string]string{
		"otel.scope.name":    "events",
		"otel.scope.version": "1.2.3",
		"level":              "WARN3",
		"severity_number":    "15",
		"event_name":         "checkout.completed",
		"msg.user":           "ann",
		"msg.items":          "3",
		"msg.cart.total":     "12.25",
		"tags":               `["web","v1"]`,
		"mixed":              `[1,"a"]`,
		"raw":                "aGk=",
		"none":               "",
	}
	if got := logs[0].Fields; !maps.Equal(got, want) {
		t.Errorf("fields:\n got %v\nwant %v", got, want)
	}
	if want := at.Truncate(time.Second); !logs[0].Time.Equal(want) { // __time__ is whole seconds
		t.Errorf("log time %v, want %v", logs[0].Time, want)
	}
}

// A record without a timestamp gets its observed timestamp.
func TestObservedTimestamp(t *testing.T) {
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 1}}, nil)
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(newExporter(t, p, nil))))
	defer lp.Shutdown(context.Background())
	var r otellog.Record
	observed := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	r.SetObservedTimestamp(observed)
	r.SetBody(attribute.StringValue("no timestamp"))
	lp.Logger("x").Emit(context.Background(), r)
	if err := lp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if logs := s.Logs("app"); len(logs) != 1 || !logs[0].Time.Equal(observed) {
		t.Errorf("logs = %v, want one at %v", logs, observed)
	}
}

func TestNewRejects(t *testing.T) {
	_, p := newProducer(t, slstest.Config{}, nil)
	for _, tt := range []struct {
		p        *producer.Producer
		logstore string
		want     string
	}{
		{nil, "app", "otelsls: nil *producer.Producer"},
		{p, "App Logs", `otelsls: endpoint: invalid logstore name "App Logs"`},
		{p, "app.json", `without the ".json" topic suffix`},
	} {
		if _, err := otelsls.New(tt.p, tt.logstore, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%v, %q) error = %v, want one containing %q", tt.p, tt.logstore, err, tt.want)
		}
	}
}

// capture is an sdklog.Exporter that keeps clones of what it is given, to
// hand real SDK records to the exporter under test.
type capture struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (c *capture) Export(_ context.Context, rs []sdklog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range rs {
		c.records = append(c.records, rs[i].Clone())
	}
	return nil
}
func (c *capture) Shutdown(context.Context) error   { return nil }
func (c *capture) ForceFlush(context.Context) error { return nil }

// records returns n records made by a real LoggerProvider with res.
func records(t testing.TB, n int, res *resource.Resource, body string) []sdklog.Record {
	t.Helper()
	c := new(capture)
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(c)))
	logger := otelslog.NewLogger("bench", otelslog.WithLoggerProvider(lp))
	for i := range n {
		logger.Info(body, "i", i, "method", "GET", "path", "/api/orders", "status", 200, "took", 12*time.Millisecond)
	}
	if err := lp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c.records
}

// Export honours its context: with SLS stalled and the producer's buffer
// full (Block), it returns when the context ends, with the count of records
// not accepted, and Options.Timeout bounds a context without deadline.
// Under a SimpleProcessor, Export gets the context the record was logged
// with: a record logged as its request ended (already cancelled) is still
// shipped.
func TestCancelledRequestContext(t *testing.T) {
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 1}}, nil)
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(newExporter(t, p, nil))))
	defer lp.Shutdown(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client went away
	var r otellog.Record
	r.SetBody(attribute.StringValue("client disconnected"))
	lp.Logger("x").Emit(ctx, r)
	if err := lp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if logs := s.Logs("app"); len(logs) != 1 || logs[0].Fields["msg"] != "client disconnected" {
		t.Errorf("logs = %v, want the record logged with the cancelled context", logs)
	}
}

func TestExportRespectsContext(t *testing.T) {
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 1}}, func(c *producer.Config) {
		c.MaxBufferedBytes = 64 << 10
		c.Linger = time.Millisecond
		c.ShedAt = -1 // these INFO records fill the buffer
	})
	s.SetLatency(time.Hour) // acknowledges nothing: the buffer fills
	defer func() {
		// Give up on what is buffered: SLS is stalled.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		p.Close(ctx)
	}()
	rs := records(t, 400, resource.Empty(), strings.Repeat("x", 1000)) // 400 kB > 64 KiB

	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		opts *otelsls.Options
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, &otelsls.Options{Timeout: -1}},
		{"options timeout", func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, &otelsls.Options{Timeout: 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := newExporter(t, p, tc.opts)
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			err := exp.Export(ctx, rs)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "of 400 records not accepted") {
				t.Errorf("Export = %v, want the deadline and the count of records not accepted", err)
			}
			if took > 20*time.Second { // the bound is 200 ms; slack for a loaded machine
				t.Errorf("Export took %v with a 200 ms bound", took)
			}
		})
	}
}

// Shutdown while Exports run: it waits for them, flushes, and every Export
// that starts later fails; every record an Export accepted is delivered by
// the time Shutdown returns.
func TestShutdownWithConcurrentExports(t *testing.T) {
	// Eight exporters in a loop outrun the emulator and fill the buffer
	// with INFO records, which shedding would refuse: this test is about
	// Shutdown, not pressure.
	s, p := newProducer(t, slstest.Config{Logstores: map[string]int{"app": 2}}, func(c *producer.Config) { c.ShedAt = -1 })
	exp := newExporter(t, p, nil)
	rs := records(t, 20, resource.NewSchemaless(attribute.String("service.name", "svc")), "concurrent")

	var wg, running sync.WaitGroup
	var mu sync.Mutex
	var other []error
	for range 8 {
		running.Add(1)
		wg.Go(func() {
			first := true
			for {
				err := exp.Export(context.Background(), rs)
				if first {
					running.Done() // this goroutine has exported once
					first = false
				}
				if errors.Is(err, sdklog.ErrExporterShutdown) {
					return
				}
				if err != nil {
					mu.Lock()
					other = append(other, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	running.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("Export errors: %v", other)
	}
	if after := p.Stats(); after.Accepted != st.Accepted {
		t.Errorf("%d records accepted after Shutdown returned", after.Accepted-st.Accepted)
	}
	if st.Delivered != st.Accepted || int64(len(s.Logs("app"))) != st.Accepted {
		t.Errorf("after Shutdown: accepted %d, delivered %d, stored %d", st.Accepted, st.Delivered, len(s.Logs("app")))
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v, want nil", err)
	}
	if err := exp.ForceFlush(ctx); err != nil {
		t.Errorf("ForceFlush after Shutdown = %v, want nil", err)
	}
}

// A closed producer refuses every record: Export says so once, with the
// count, and wraps producer.ErrClosed.
func TestExportClosedProducer(t *testing.T) {
	_, p := newProducer(t, slstest.Config{}, nil)
	exp := newExporter(t, p, nil)
	rs := records(t, 5, resource.Empty(), "late")
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := exp.Export(context.Background(), rs)
	if !errors.Is(err, producer.ErrClosed) || !strings.Contains(err.Error(), "5 of 5 records not accepted") {
		t.Errorf("Export = %v, want ErrClosed for 5 of 5 records", err)
	}
}
