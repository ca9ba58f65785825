package zapsls

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/internal/objectlog"
	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// BenchmarkCore logs the same entry through the zapsls core (into a producer
// connected to an emulator) and through zap's JSON core into io.Discard, the
// cheapest zap can be. Compare the two within one run (bench/adapters.sh).
// The emulator acknowledges without decoding (Discard), so its own work
// stays out of the allocation count; its CPU still competes with the
// benchmark's.
//
// The other three split zapsls in its parts: zap.Logger is what zap's
// logger costs around any core (a core that drops what it is given; both
// sides pay it), encode is the core's own work (the entry flattened into
// pooled fields, no producer, no zap.Logger around it), producer.Log the
// producer given the same fields already encoded.
func BenchmarkCore(b *testing.B) {
	s := slstest.New(b, slstest.Config{Logstores: map[string]int{"app": 2}, Discard: true})
	// The default time field, as a user gets it: it stands in for the "ts"
	// that zap's JSON encoder writes (doc.go), so zapsls is measured doing
	// that work too.
	// No shedding: a record shed or dropped costs less than one shipped,
	// so the loop waits for room instead, and run checks none was lost.
	p := testproducer.New(b, s, func(c *producer.Config) { c.TimeField = ""; c.ShedAt = -1 })
	ctx := context.Background()
	if err := p.Ping(ctx, "app"); err != nil {
		b.Fatal(err)
	}

	errDeclined := errors.New("card declined")
	run := func(b *testing.B, core zapcore.Core) {
		logger := zap.New(core)
		before := p.Stats()
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			logger.Info("request served",
				zap.String("method", "POST"),
				zap.String("path", "/api/orders"),
				zap.Int("status", 402),
				zap.Duration("latency", 1234*time.Microsecond),
				zap.Error(errDeclined),
			)
		}
		b.StopTimer()
		if err := logger.Sync(); err != nil {
			b.Fatal(err)
		}
		cpu.Report(b)
		if st := p.Stats(); st.Dropped != before.Dropped || st.Shed != before.Shed {
			b.Fatalf("records dropped (%d) or shed (%d): the figures are not of shipped records", st.Dropped-before.Dropped, st.Shed-before.Shed)
		}
	}
	b.Run("zapsls", func(b *testing.B) {
		// A generous Sync bound: the last Sync drains everything the loop
		// buffered, which takes long under -race or a memory profile.
		run(b, NewCoreWithOptions(p, "app", zap.DebugLevel, &Options{SyncTimeout: time.Minute}))
	})
	b.Run("zap-json-discard", func(b *testing.B) {
		run(b, zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.DebugLevel))
	})
	b.Run("zap.Logger", func(b *testing.B) {
		run(b, dropCore{})
	})
	// The core's own work and the producer's, apart: the entry takes the
	// fast path (object.go), so these are its encoding and the producer
	// logging the encoded object.
	b.Run("encode", func(b *testing.B) {
		c := NewCore(nil, "app", zap.DebugLevel).(*core)
		ent, fields := benchEntry()
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			oe := objectPool.Get().(*objectEncoder)
			if !c.encodeObject(oe, ent, fields) {
				b.Fatal("the fast path declined the entry")
			}
			oe.free()
		}
		cpu.Report(b)
	})
	b.Run("producer.Log", func(b *testing.B) {
		ent, fields := benchEntry()
		var oe objectEncoder
		if !NewCore(nil, "app", zap.DebugLevel).(*core).encodeObject(&oe, ent, fields) {
			b.Fatal("the fast path declined the entry")
		}
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			if err := objectlog.Log(p, ctx, "app", ent.Time, slog.LevelInfo, &oe.obj); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		cpu.Report(b)
	})
}

// dropCore is a core that takes every entry and drops it: what is left of
// a log call is zap.Logger's own work.
type dropCore struct{}

func (dropCore) Enabled(zapcore.Level) bool                 { return true }
func (c dropCore) With([]zapcore.Field) zapcore.Core        { return c }
func (dropCore) Write(zapcore.Entry, []zapcore.Field) error { return nil }
func (dropCore) Sync() error                                { return nil }
func (c dropCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(ent, c)
}
