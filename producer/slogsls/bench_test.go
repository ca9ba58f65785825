package slogsls

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/internal/fieldbuf"
	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// BenchmarkHandle compares Handle with slog.JSONHandler's for the same
// record (a message and five attributes: a string, an int, a duration, a
// group of two, another string), in one run so that the ratio is meaningful
// on a noisy machine:
//
//	go test -run '^$' -bench Handle -benchtime 200000x -count 5 ./producer/slogsls
//
// slogsls is the whole Handle: rendering plus producer.Log, on a producer
// connected to an in-process emulator in Discard mode (franz-go's batching,
// compression and sending, and the emulator's acknowledging, run on the
// same CPUs, as an application's other work would). json is
// slog.NewJSONHandler(io.Discard, nil). The other two split slogsls in its
// parts: render is the handler's own work (fields into a pooled buffer, no
// producer), producer.Log the producer given the same fields already
// rendered. allocs/op and cpu-ns/op (benchcpu) count every goroutine, the
// producer's included; cpu-ns/op also counts delivering what the loop
// logged.
func BenchmarkHandle(b *testing.B) {
	ctx := context.Background()
	r := benchRecord()
	// Each sub-benchmark that ships gets a fresh emulator and producer, so
	// that none inherits the heap or the backlog of another. The emulator
	// acknowledges without decoding or storing (Discard), which keeps its
	// own cost out of the numbers.
	connect := func(b *testing.B) *producer.Producer {
		s := slstest.New(b, slstest.Config{Logstores: map[string]int{"app": 1}, Discard: true})
		// The default time field, as a user gets it: it is the "time"
		// that slog's JSON handler writes, so slogsls is measured doing
		// that work too.
		p := testproducer.New(b, s, func(c *producer.Config) { c.TimeField = "" })
		if err := p.Ping(ctx, "app"); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		return p
	}
	flush := func(b *testing.B, p *producer.Producer, cpu benchcpu.Meter) {
		b.StopTimer()
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		cpu.Report(b)
	}

	b.Run("slogsls", func(b *testing.B) {
		p := connect(b)
		h := New(p, "app", nil)
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			if err := h.Handle(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		flush(b, p, cpu)
	})
	b.Run("json", func(b *testing.B) {
		h := slog.NewJSONHandler(io.Discard, nil)
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			if err := h.Handle(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		cpu.Report(b)
	})
	b.Run("render", func(b *testing.B) {
		h := New(nil, "app", nil)
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			s, _ := h.render(ctx, r)
			putState(s)
		}
		cpu.Report(b)
	})
	b.Run("producer.Log", func(b *testing.B) {
		p := connect(b)
		s, t := New(p, "app", nil).render(ctx, r)
		rec := producer.Record{Time: t, Fields: fieldbuf.AppendOwned(nil, s.Fields)}
		putState(s)
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			if err := p.Log(ctx, "app", rec); err != nil {
				b.Fatal(err)
			}
		}
		flush(b, p, cpu)
	})
}

// benchRecord is the record of BenchmarkHandle.
func benchRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request served", 0)
	r.AddAttrs(
		slog.String("method", "GET"),
		slog.Int("status", 200),
		slog.Duration("latency", 1234*time.Microsecond),
		slog.Group("user", slog.String("id", "u-42"), slog.Int("tier", 3)),
		slog.String("path", "/api/orders/1042"),
	)
	return r
}

// BenchmarkWithAttrs measures a per-request logger.With of two attributes
// under one group, against slog.JSONHandler's.
func BenchmarkWithAttrs(b *testing.B) {
	attrs := []slog.Attr{slog.String("request_id", "req-1042"), slog.Int("user", 42)}
	for _, c := range []struct {
		name string
		h    slog.Handler
	}{
		{"slogsls", New(nil, "app", nil).WithGroup("http")},
		{"json", slog.NewJSONHandler(io.Discard, nil).WithGroup("http")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.h.WithAttrs(attrs)
			}
		})
	}
}
