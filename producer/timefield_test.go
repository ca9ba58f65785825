package producer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// TestTimeField checks the field that keeps a record's time to the
// nanosecond, which __time__ keeps to the second: written by default as
// "time", renamed or left out by Config.TimeField, after the static
// fields, and replaced by a record's own field of that name, so that the
// raw JSON (Format Content shows it) holds it once.
func TestTimeField(t *testing.T) {
	ts := time.Date(2026, 12, 7, 16, 30, 28, 120_000_007, time.FixedZone("CST", 8*3600))
	const utc = "2026-12-07T08:30:28.120000007Z"
	for _, tc := range []struct {
		name      string
		timeField string
		static    []producer.Field
		fields    []string
		want      string
	}{
		{"default", "", nil, []string{"msg", "m"}, `{"time":"` + utc + `","msg":"m"}`},
		{"renamed", "ts", nil, []string{"msg", "m"}, `{"ts":"` + utc + `","msg":"m"}`},
		{"off", producer.NoTimeField, nil, []string{"msg", "m"}, `{"msg":"m"}`},
		{"after the static fields", "", []producer.Field{{Key: "host", Value: "h"}}, []string{"msg", "m"}, `{"host":"h","time":"` + utc + `","msg":"m"}`},
		{"replaces a static field", "", []producer.Field{{Key: "time", Value: "static"}}, []string{"msg", "m"}, `{"time":"` + utc + `","msg":"m"}`},
		{"a record's field replaces it", "", nil, []string{"time", "mine", "msg", "m"}, `{"time":"mine","msg":"m"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := slstest.New(t, slstest.Config{})
			p := newProducer(t, s, func(c *producer.Config) {
				c.Format = producer.Content
				c.TimeField = tc.timeField
				c.StaticFields = tc.static
			})
			r := rec(tc.fields...)
			r.Time = ts
			if err := p.LogSync(timeout(t, 10*time.Second), "app", r); err != nil {
				t.Fatal(err)
			}
			logs := s.Logs("app")
			if len(logs) != 1 || logs[0].Fields["content"] != tc.want {
				t.Fatalf("stored %+v, want one log with content %s", logs, tc.want)
			}
			if !logs[0].Time.Equal(ts.Truncate(time.Millisecond)) && !logs[0].Time.Equal(ts.Truncate(time.Second)) {
				t.Errorf("log time %v, want %v", logs[0].Time, ts)
			}
		})
	}
}

// TestTimeFieldOfZeroTime checks that a record without a time gets the
// time Log accepted it, in the field as in __time__.
func TestTimeFieldOfZeroTime(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) { c.TimeField = "" })
	before := time.Now()
	if err := p.LogSync(timeout(t, 10*time.Second), "app", rec("msg", "m")); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	logs := s.Logs("app")
	if len(logs) != 1 {
		t.Fatalf("stored %d logs, want 1", len(logs))
	}
	got, err := time.Parse(time.RFC3339Nano, logs[0].Fields["time"])
	if err != nil || got.Before(before) || got.After(after) || !strings.HasSuffix(logs[0].Fields["time"], "Z") {
		t.Errorf("time field %q (%v), want a UTC time between %v and %v", logs[0].Fields["time"], err, before, after)
	}
}

// BenchmarkLogTimeField is BenchmarkLog without the time field, with it
// (the default), and without it but with a field of the same encoded
// size (40 bytes) instead: what the field costs beyond its bytes, which
// every stage after Log (batching, compression, TLS, the emulator) pays
// like any other bytes. The timer and cpu-ns/op (the process's CPU time,
// the in-process emulator's included) cover the delivery of every record.
func BenchmarkLogTimeField(b *testing.B) {
	pad := producer.Field{Key: "pad", Value: strings.Repeat("p", 31)} // ,"pad":"…" is 40 bytes, as ,"time":"…"
	for _, c := range []struct {
		name      string
		timeField string
		pad       bool
	}{{"off", producer.NoTimeField, false}, {"on", "", false}, {"off+40B", producer.NoTimeField, true}} {
		b.Run(c.name, func(b *testing.B) {
			r := benchRecord()
			if c.pad {
				r.Fields = append(r.Fields, pad)
			}
			p := newProducer(b, benchServer(b), func(cfg *producer.Config) { cfg.TimeField = c.timeField })
			ctx := context.Background()
			if err := p.LogSync(ctx, "app", r); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := benchcpu.Start()
			for b.Loop() {
				if err := p.Log(ctx, "app", r); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu.Report(b)
		})
	}
}
