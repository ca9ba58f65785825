package zapsls_test

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/zapsls"
)

// TestTimeWrittenOnce checks that the entry time is stored once, by the
// producer, in its time field (Config.TimeField, "time" by default: the
// name every adapter's logs share), and that the core writes no "ts" of
// its own.
func TestTimeWrittenOnce(t *testing.T) {
	s, p := setup(t, func(c *producer.Config) {
		c.Format = producer.Content
		c.TimeField = "" // the default
	})
	ts := time.Date(2026, 12, 7, 16, 30, 28, 120_000_000, time.UTC)
	core := zapsls.NewCore(p, "app", zap.InfoLevel)
	if err := core.Write(zapcore.Entry{Level: zapcore.InfoLevel, Time: ts, Message: "m"}, nil); err != nil {
		t.Fatal(err)
	}
	logs := synced(t, s, zap.New(core))
	if len(logs) != 1 {
		t.Fatalf("stored %d logs, want 1", len(logs))
	}
	content := logs[0].Fields["content"]
	if strings.Count(content, `"time":`) != 1 || !strings.Contains(content, `"time":"2026-12-07T16:30:28.120000000Z"`) || strings.Contains(content, `"ts"`) {
		t.Errorf("stored %s, want the entry time once, in the field time", content)
	}
}
