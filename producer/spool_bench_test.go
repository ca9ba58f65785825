package producer_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/producer"
)

// BenchmarkSpool is Log with the disk spool off and on, while SLS is
// healthy (the emulator in another process, in Discard mode): the
// process's CPU per record (cpu-ns/op, delivery included) and the latency
// of Log itself (p50-ns, p99-ns). bench/spool-producer.sh turns the pair
// into ratios.
func BenchmarkSpool(b *testing.B) {
	addr := startEmulatorProcess(b, 0)
	r := benchRecord()
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			p, err := producer.New(addr.config(func(c *producer.Config) {
				backpressure(c)
				if on {
					c.SpoolDir = filepath.Join(b.TempDir(), "spool")
				}
			}))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx := context.Background()
			if err := p.LogSync(ctx, "app", r); err != nil {
				b.Fatal(err)
			}
			took := make([]time.Duration, 0, min(b.N, 1<<20))
			b.ResetTimer()
			cpu := benchcpu.Start()
			for i := range b.N {
				start := time.Now()
				if err := p.Log(ctx, "app", r); err != nil {
					b.Fatal(err)
				}
				if i < cap(took) {
					took = append(took, time.Since(start))
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu.Report(b)
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2]), "p50-ns")
			b.ReportMetric(float64(took[len(took)*99/100]), "p99-ns")
		})
	}
}
