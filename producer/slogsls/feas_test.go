package slogsls

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func BenchmarkFeas(b *testing.B) {
	s := slstest.New(b, slstest.Config{Logstores: map[string]int{"app": 1}})
	p, err := producer.New(producer.Config{Project: s.Project(), Endpoint: s.Endpoint(), Credentials: s.Credentials(), TLS: s.TLSConfig(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request served", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.Int("status", 200), slog.Duration("latency", 1234*time.Microsecond), slog.String("path", "/api/orders/1234"), slog.Group("user", slog.String("id", "u-42"), slog.Int("tier", 3)))
	b.Run("json", func(b *testing.B) {
		h := slog.NewJSONHandler(io.Discard, nil)
		b.ReportAllocs()
		for b.Loop() {
			h.Handle(ctx, r)
		}
	})
	b.Run("producer", func(b *testing.B) {
		fs := []producer.Field{{"level", "INFO"}, {"msg", "request served"}, {"method", "GET"}, {"status", "200"}, {"latency", "1.234ms"}, {"path", "/api/orders/1234"}, {"user.id", "u-42"}, {"user.tier", "3"}}
		b.ReportAllocs()
		for b.Loop() {
			p.Log(ctx, "app", producer.Record{Time: r.Time, Fields: fs})
		}
		p.Flush(ctx)
	})
}
