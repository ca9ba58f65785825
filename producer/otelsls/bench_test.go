package otelsls_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

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
