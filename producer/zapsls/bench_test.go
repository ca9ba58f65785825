package zapsls_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer/zapsls"
	"github.com/slskafka/slskafka/slstest"
)

// BenchmarkCore logs the same entry through the zapsls core (into a producer
// connected to an emulator) and through zap's JSON core into io.Discard, the
// cheapest zap can be. Compare the two within one run. The emulator
// acknowledges without decoding (Discard), so its own work stays out of the
// allocation count; its CPU still competes with the benchmark's.
func BenchmarkCore(b *testing.B) {
	s := slstest.New(b, slstest.Config{Logstores: map[string]int{"app": 2}, Discard: true})
	p := testproducer.New(b, s)
	if err := p.Ping(context.Background(), "app"); err != nil {
		b.Fatal(err)
	}

	errDeclined := errors.New("card declined")
	run := func(b *testing.B, core zapcore.Core) {
		logger := zap.New(core)
		b.ReportAllocs()
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
	}
	b.Run("zapsls", func(b *testing.B) {
		// A generous Sync bound: the last Sync drains everything the loop
		// buffered, which takes long under -race or a memory profile.
		run(b, zapsls.NewCoreWithOptions(p, "app", zap.DebugLevel, &zapsls.Options{SyncTimeout: time.Minute}))
	})
	b.Run("zap-json-discard", func(b *testing.B) {
		run(b, zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.DebugLevel))
	})
}
