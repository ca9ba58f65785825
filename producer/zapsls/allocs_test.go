//go:build !race

// The race detector makes sync.Pool drop entries at random, so allocation
// counts only mean something without it.

package zapsls

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The core's own encoding allocates at most once per entry (for
// time.Duration.String, which has no append form); the rest of a Write's
// allocations are the producer's.
func TestEncodeAllocs(t *testing.T) {
	c := NewCore(nil, "app", zap.DebugLevel).With([]zapcore.Field{zap.String("service", "shop"), zap.Namespace("req")}).(*core)
	ent, fields := benchEntry()
	c.encode(ent, fields).free() // warm the pool
	allocs := testing.AllocsPerRun(1000, func() { c.encode(ent, fields).free() })
	if allocs > 1 {
		t.Errorf("encode allocates %v times per entry, want at most 1", allocs)
	}
}
