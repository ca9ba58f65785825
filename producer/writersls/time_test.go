package writersls

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slskafka/slskafka/producer"
)

// TestTimeWrittenOnce checks that a line gets the producer's time field
// (Config.TimeField, "time" by default), and that a "time" member the
// logger wrote (zerolog and logrus write one) replaces it: the time is
// stored once, as the logger wrote it.
func TestTimeWrittenOnce(t *testing.T) {
	e := newSLS(t, func(c *producer.Config) {
		c.Format = producer.Content
		c.TimeField = "" // the default
	})
	w := New(e.p, "app", nil)
	fmt.Fprintln(w, `{"level":"info","message":"no time"}`)
	fmt.Fprintln(w, `{"level":"info","time":"2026-12-07T16:30:28+08:00","message":"zerolog's time"}`)
	logs := e.next(t, 2)
	for i, want := range []string{`"time":"20`, `"time":"2026-12-07T16:30:28+08:00"`} {
		// Content holds the encoded record: the producer's time
		// field, then the line's members.
		if got := logs[i]; strings.Count(got, `"time":`) != 1 || !strings.Contains(got, want) {
			t.Errorf("line %d stored %s, want the time once, as %s...", i, got, want)
		}
	}
}
