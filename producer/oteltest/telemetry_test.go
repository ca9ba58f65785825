package oteltest_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func rec(k, v string) producer.Record {
	return producer.Record{Fields: []producer.Field{{Key: k, Value: v}}}
}

// failures collects OnError reports.
type failures struct {
	mu  sync.Mutex
	got []producer.Failure
}

func (f *failures) on(x producer.Failure) {
	f.mu.Lock()
	f.got = append(f.got, x)
	f.mu.Unlock()
}

// sums flattens the collected int64 sums into "name{attr=value,...}" keys.
func sums(t *testing.T, rm metricdata.ResourceMetrics) (map[string]int64, map[string]uint64) {
	t.Helper()
	out := map[string]int64{}
	hist := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					out[m.Name+key(dp.Attributes)] += dp.Value
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					hist[m.Name+key(dp.Attributes)] += dp.Count
				}
			}
		}
	}
	return out, hist
}

func key(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		if kv.Key == "sls.project" {
			continue
		}
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// After a run with a fault, a missing logstore, a drop and an oversize
// record, every counter equals what happened.
func TestMetricsCountWhatHappened(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	fl := &failures{}
	p := testproducer.New(t, s, func(c *producer.Config) {
		c.MeterProvider = mp
		c.Hooks = kotel.NewKotel(kotel.WithMeter(kotel.NewMeter(kotel.MeterProvider(mp)))).Hooks()
		c.OnError = fl.on
		c.MaxRecordBytes = 500
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for range 10 {
		if err := p.Log(ctx, "app", rec("msg", "ok")); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s.FailNext("app", slstest.StorageError, 1)
	if err := p.LogSync(ctx, "app", rec("msg", "retried")); err != nil {
		t.Fatal(err)
	}
	if err := p.Log(ctx, "app", rec("msg", strings.Repeat("x", 600))); !errors.Is(err, producer.ErrRecordTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	for range 3 {
		if err := p.Log(ctx, "missing", rec("msg", "lost")); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); !errors.Is(err, producer.ErrLogstoreNotFound) {
		t.Fatalf("Flush after missing logstore: %v, want ErrLogstoreNotFound", err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got, hist := sums(t, rm)
	want := map[string]int64{
		producer.MetricRecordsAccepted + "{sls.logstore=app}":                                                            11,
		producer.MetricRecordsDelivered + "{sls.logstore=app}":                                                           11,
		producer.MetricRecordsAccepted + "{sls.logstore=missing}":                                                        3,
		producer.MetricRecordsDelivered + "{sls.logstore=missing}":                                                       0,
		producer.MetricRecordsFailed + "{error.type=logstore_not_found,sls.logstore=missing,slskafka.unconfirmed=false}": 3,
		producer.MetricRecordsDropped + "{sls.logstore=app,slskafka.drop.reason=record_too_large}":                       1,
		producer.MetricRecordsDropped + "{sls.logstore=app,slskafka.drop.reason=buffer_full}":                            0,
		producer.MetricBufferUsage:         0,
		producer.MetricBufferRecords:       0,
		producer.MetricPartitionRetries:    1,
		producer.MetricAuthFailures:        0,
		producer.MetricCredentialErrors:    0,
		producer.MetricConnectionsRetired:  0,
		producer.MetricCredentialRotations: 0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v { // a zero must be observed, not missing
			t.Errorf("%s = %d (observed %v), want %d", k, g, ok, v)
		}
	}
	if n := hist[producer.MetricDeliveryDuration+"{sls.logstore=app}"]; n != 11 {
		t.Errorf("delivery duration histogram count = %d, want 11", n)
	}
	var kafkaMetrics int
	for k := range got {
		if strings.HasPrefix(k, "messaging.kafka.") {
			kafkaMetrics++
		}
	}
	if kafkaMetrics == 0 {
		t.Errorf("no franz-go (kotel) metrics collected: %v", got)
	}
	if t.Failed() {
		t.Logf("collected: %v", got)
	}
}

// Records shed for their level are counted as dropped, by the range of
// levels they were in.
func TestShedMetricByLevel(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	p := testproducer.New(t, s, func(c *producer.Config) {
		c.MeterProvider = mp
		c.ShedAt = 1e-9 // from the first byte buffered
		c.ShedLevel = slog.LevelError
	})
	for _, level := range []slog.Level{slog.LevelError, slog.LevelDebug, slog.LevelDebug, slog.LevelInfo, slog.LevelInfo, slog.LevelInfo + 2, slog.LevelWarn, slog.LevelError} {
		r := rec("msg", "m")
		r.Level = level
		err := p.Log(context.Background(), "app", r)
		if shed := level < slog.LevelError; producer.IsShed(err) != shed || !shed && err != nil {
			t.Fatalf("level %v: %v", level, err)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got, _ := sums(t, rm)
	for level, n := range map[string]int64{"debug": 2, "info": 3, "warn": 1} {
		k := producer.MetricRecordsDropped + "{sls.logstore=app,slskafka.drop.reason=shed,slskafka.level=" + level + "}"
		if got[k] != n {
			t.Errorf("%s = %d, want %d", k, got[k], n)
		}
	}
	if st := p.Stats(); st.Shed != 6 || st.Accepted != 2 {
		t.Errorf("stats %+v, want 6 shed and 2 accepted", st)
	}
}

// The first collection after Close reports the final counts; later ones
// report nothing of the closed producer, so the provider does not keep it
// alive nor report it next to the producer that replaced it. In a synctest
// bubble so that synctest.Wait can tell when the unregistration, which
// runs after the collection, is done.
func TestMetricsUnregisterAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, InMemory: true})
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		collect := func() map[string]int64 {
			t.Helper()
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			got, _ := sums(t, rm)
			return got
		}
		newProducer := func() *producer.Producer {
			return testproducer.New(t, s, func(c *producer.Config) {
				c.MeterProvider = mp
				c.DialContext = s.DialContext
			})
		}
		delivered := producer.MetricRecordsDelivered + "{sls.logstore=app}"

		first := newProducer()
		for range 5 {
			if err := first.Log(context.Background(), "app", rec("msg", "first")); err != nil {
				t.Fatal(err)
			}
		}
		if err := first.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := collect()[delivered]; got != 5 {
			t.Fatalf("first collection after Close: delivered = %d, want the final 5", got)
		}
		synctest.Wait()
		if got := collect(); len(got) != 0 {
			t.Fatalf("second collection after Close still reports the closed producer: %v", got)
		}

		second := newProducer()
		for range 3 {
			if err := second.Log(context.Background(), "app", rec("msg", "second")); err != nil {
				t.Fatal(err)
			}
		}
		if err := second.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := collect()[delivered]; got != 3 {
			t.Fatalf("delivered = %d with a closed producer's 5 before, want the new one's 3", got)
		}
	})
}
