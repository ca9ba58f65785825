package oteltest_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/slskafka/slskafka/internal/spool"
	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// gauges flattens the collected int64 gauges by name.
func gauges(rm metricdata.ResourceMetrics) map[string]int64 {
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok {
				for _, dp := range g.DataPoints {
					out[m.Name] += dp.Value
				}
			}
		}
	}
	return out
}

// The spool's metrics say when its disk is full and how many records
// damage took.
func TestSpoolMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	// What a previous producer might leave: a record whose topic is no
	// logstore (damaged, or not this SDK's), and one to deliver.
	sp, err := spool.Open(spool.Options{Dir: dir, SegmentBytes: 1 << 20, MaxBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"Not A Logstore!", "app"} {
		if err := sp.Spill(spool.Record{Topic: topic, Value: []byte(`{"k":"v"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	sp.Close()
	t.Cleanup(spool.InjectDiskFault(func() error { return syscall.ENOSPC })) // then the disk is full

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	s := slstest.New(t, slstest.Config{})
	p := testproducer.New(t, s, func(c *producer.Config) { c.SpoolDir, c.MeterProvider = dir, mp })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Log(ctx, "app", rec("k", "v")); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got, _ := sums(t, rm)
	if g := gauges(rm)[producer.MetricSpoolDegraded]; g != 1 {
		t.Errorf("%s = %d on a full disk, want 1", producer.MetricSpoolDegraded, g)
	}
	if n := got[producer.MetricSpoolLost]; n != 1 {
		t.Errorf("%s = %d, want the 1 record dropped for its topic (collected %v)", producer.MetricSpoolLost, n, got)
	}
}
