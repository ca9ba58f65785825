package slogsls

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/producer"
)

// TestTimeWrittenOnce checks the one rule for the time field: the
// producer writes it (Config.TimeField, "time" by default) and the handler
// writes none of its own unless TimeKey asks, in which case a TimeKey of
// the same name replaces the producer's. The raw JSON (Format Content)
// holds the time once either way.
func TestTimeWrittenOnce(t *testing.T) {
	ts := time.Date(2026, 12, 7, 16, 30, 28, 120_000_000, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct {
		name    string
		timeKey string
		want    string // the time field's value
	}{
		{"the producer's", "", `"time":"2026-12-07T08:30:28.120000000Z"`},
		{"TimeKey replaces it", "time", `"time":"2026-12-07T16:30:28.12+08:00"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSLS(t, func(c *producer.Config) {
				c.Format = producer.Content
				c.TimeField = "" // the default
			})
			h := New(e.p, "app", &Options{TimeKey: tc.timeKey})
			r := slog.NewRecord(ts, slog.LevelInfo, "m", 0)
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			content := e.next(t, 1)[0].Fields["content"]
			if strings.Count(content, `"time":`) != 1 || !strings.Contains(content, tc.want) {
				t.Errorf("stored %s, want the time once, as %s", content, tc.want)
			}
		})
	}
}
