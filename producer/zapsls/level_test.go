package zapsls_test

import (
	"log/slog"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/zapsls"
)

// The core maps zap's levels onto slog's for the producer: with shedding
// on from the first byte buffered, entries below ShedLevel are shed and
// the others accepted. DPanic, Panic and Fatal are 12, 13 and 14.
func TestLevelReachesProducer(t *testing.T) {
	for _, tc := range []struct {
		shedLevel slog.Level
		shed      int64 // of Debug, Info, Warn, Error, DPanic
	}{{slog.LevelWarn, 2}, {slog.LevelError, 3}, {slog.LevelError + 4, 4}, {slog.LevelDebug, 0}, {slog.LevelInfo + 1, 2}} {
		t.Run(tc.shedLevel.String(), func(t *testing.T) {
			_, p := setup(t, func(c *producer.Config) { c.ShedAt = 1e-9; c.ShedLevel = tc.shedLevel })
			l := zap.New(zapsls.NewCore(p, "app", zapcore.DebugLevel), zap.ErrorOutput(zapcore.AddSync(writerFunc(func(b []byte) (int, error) { return len(b), nil }))))
			l.Error("first") // charges the buffer: shedding starts
			l.Debug("m")
			l.Info("m")
			l.Warn("m")
			l.Error("m")
			l.DPanic("m") // not in development mode: no panic
			if st := p.Stats(); st.Shed != tc.shed || st.Accepted != 6-tc.shed {
				t.Errorf("ShedLevel %v: stats %+v, want %d shed", tc.shedLevel, st, tc.shed)
			}
		})
	}
}
