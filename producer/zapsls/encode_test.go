package zapsls

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benchEntry is the entry of BenchmarkCore: a message and five fields.
func benchEntry() (zapcore.Entry, []zapcore.Field) {
	return zapcore.Entry{Level: zap.InfoLevel, Time: time.Now(), Message: "request served"},
		[]zapcore.Field{
			zap.String("method", "POST"),
			zap.String("path", "/api/orders"),
			zap.Int("status", 402),
			zap.Duration("latency", 1234*time.Microsecond),
			zap.Error(errors.New("card declined")),
		}
}

// BenchmarkEncode is the core's share of BenchmarkCore: the entry flattened
// into producer fields, without the producer.
func BenchmarkEncode(b *testing.B) {
	c := NewCore(nil, "app", zap.DebugLevel).(*core)
	ent, fields := benchEntry()
	b.ReportAllocs()
	for b.Loop() {
		c.encode(ent, fields).free()
	}
}
