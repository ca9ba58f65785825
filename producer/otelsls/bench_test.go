package otelsls_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/otelsls"
	"github.com/slskafka/slskafka/slstest"
)

// BenchmarkExport measures Export of a BatchProcessor-sized batch (512
// records like those of an HTTP access log) into a producer on an emulator
// that acknowledges without storing, three ways:
//
//   - resource_per_record: the resource's 8 attributes are fields of every
//     record (what the exporter does);
//   - resource_static: the same 8 fields as the producer's StaticFields,
//     which it encodes once, and records with an empty resource;
//   - no_resource: neither, the floor.
//
// It reports ns and CPU ns (user+system, all goroutines: the producer's
// encoding, compression and sending included) per record.
func BenchmarkExport(b *testing.B) {
	attrs := []attribute.KeyValue{
		attribute.String("service.name", "checkout"),
		attribute.String("service.version", "1.4.2"),
		attribute.String("deployment.environment", "production"),
		attribute.String("host.name", "ip-10-0-3-17.cn-hangzhou.compute.internal"),
		attribute.String("k8s.namespace.name", "shop"),
		attribute.String("k8s.pod.name", "checkout-7d9f8b6c5d-x2x7q"),
		attribute.String("telemetry.sdk.language", "go"),
		attribute.String("telemetry.sdk.version", "1.47.0"),
	}
	res := resource.NewSchemaless(attrs...)
	static := make([]producer.Field, len(attrs))
	for i, kv := range attrs {
		static[i] = producer.Field{Key: string(kv.Key), Value: kv.Value.AsString()}
	}
	withRes := records(b, 512, res, "request served")
	withoutRes := records(b, 512, resource.Empty(), "request served")

	for _, bc := range []struct {
		name   string
		static []producer.Field
		recs   []sdklog.Record
	}{
		{"resource_per_record", nil, withRes},
		{"resource_static", static, withoutRes},
		{"no_resource", nil, withoutRes},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 2}, Discard: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			p, err := producer.New(producer.Config{
				Project: s.Project(), Endpoint: s.Endpoint(),
				Credentials: s.Credentials(), TLS: s.TLSConfig(),
				StaticFields: bc.static,
				Logger:       slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			exp, err := otelsls.New(p, "app", nil)
			if err != nil {
				b.Fatal(err)
			}
			rs := bc.recs
			ctx := context.Background()
			if err := p.Ping(ctx, "app"); err != nil {
				b.Fatal(err)
			}
			cpu0 := benchcpu.Process()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if err := exp.Export(ctx, rs); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil { // count delivery too
				b.Fatal(err)
			}
			n := float64(b.N * len(rs))
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/n, "ns/record")
			b.ReportMetric(float64((benchcpu.Process()-cpu0).Nanoseconds())/n, "cpu-ns/record")
		})
	}
}

// BenchmarkProcessor compares the two ways to put otelsls in a
// LoggerProvider, one otelslog Info call (5 attributes, a 2-attribute
// resource) per op, into a producer on an emulator that acknowledges
// without storing:
//
//   - processor: NewProcessor, which ships from OnEmit;
//   - batch_exporter: sdklog.NewBatchProcessor(exporter) with its defaults,
//     the pipeline the OpenTelemetry documentation shows, which queues a
//     copy of each record for its own goroutine.
//
// CPU time counts every goroutine (the batch processor's, the producer's
// encoding, compression and sending) up to the moment every record is
// acknowledged, and is divided by the records the producer accepted
// (cpu-ns/record) and by the logging calls (cpu-ns/op): a BatchProcessor
// drops records when its queue is full, which dropped/op reports.
func BenchmarkProcessor(b *testing.B) {
	res := resource.NewSchemaless(
		attribute.String("service.name", "checkout"),
		attribute.String("host.name", "ip-10-0-3-17.cn-hangzhou.compute.internal"),
	)
	for _, name := range []string{"processor", "batch_exporter"} {
		b.Run(name, func(b *testing.B) {
			s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 2}, Discard: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			p, err := producer.New(producer.Config{
				Project: s.Project(), Endpoint: s.Endpoint(),
				Credentials: s.Credentials(), TLS: s.TLSConfig(),
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx := context.Background()
			if err := p.Ping(ctx, "app"); err != nil {
				b.Fatal(err)
			}
			var proc sdklog.Processor
			if name == "processor" {
				proc, err = otelsls.NewProcessor(p, "app", nil)
			} else {
				var exp *otelsls.Exporter
				exp, err = otelsls.New(p, "app", nil)
				proc = sdklog.NewBatchProcessor(exp)
			}
			if err != nil {
				b.Fatal(err)
			}
			lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(proc))
			logger := slog.New(otelslog.NewHandler("bench", otelslog.WithLoggerProvider(lp)))
			before := p.Stats().Accepted
			cpu0 := benchcpu.Process()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			i := 0
			for b.Loop() {
				logger.Info("request served", "i", i, "method", "GET", "path", "/api/orders", "status", 200, "took", 12*time.Millisecond)
				i++
			}
			if err := lp.Shutdown(ctx); err != nil { // the batch processor exports what it holds
				b.Fatal(err)
			}
			if err := p.Flush(ctx); err != nil { // count delivery too
				b.Fatal(err)
			}
			b.StopTimer()
			accepted := float64(p.Stats().Accepted - before)
			if accepted == 0 {
				b.Fatal("no record accepted")
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/accepted, "ns/record")
			cpu := float64((benchcpu.Process() - cpu0).Nanoseconds())
			b.ReportMetric(cpu/accepted, "cpu-ns/record")
			b.ReportMetric(cpu/float64(b.N), "cpu-ns/op") // per logging call, dropped ones included
			b.ReportMetric((float64(b.N)-accepted)/float64(b.N), "dropped/op")
		})
	}
}
