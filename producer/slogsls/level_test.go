package slogsls

import (
	"context"
	"log/slog"
	"testing"

	"github.com/slskafka/slskafka/producer"
)

// The handler hands the producer each record's level: with shedding on
// from the first byte buffered, records below ShedLevel are shed and the
// others accepted.
func TestLevelReachesProducer(t *testing.T) {
	for _, tc := range []struct {
		shedLevel slog.Level
		shed      int64 // of DEBUG, INFO, WARN, ERROR, ERROR+4
	}{{slog.LevelWarn, 2}, {slog.LevelError, 3}, {slog.LevelError + 4, 4}, {slog.LevelDebug, 0}} {
		t.Run(tc.shedLevel.String(), func(t *testing.T) {
			sls := newSLS(t, func(c *producer.Config) { c.ShedAt = 1e-9; c.ShedLevel = tc.shedLevel })
			l := slog.New(New(sls.p, "app", &Options{Level: slog.LevelDebug}))
			l.Error("first") // charges the buffer: shedding starts
			for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelError + 4} {
				l.Log(context.Background(), level, "m")
			}
			if st := sls.p.Stats(); st.Shed != tc.shed || st.Accepted != 6-tc.shed {
				t.Errorf("ShedLevel %v: stats %+v, want %d shed", tc.shedLevel, st, tc.shed)
			}
		})
	}
}
