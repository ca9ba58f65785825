package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/slskafka/slskafka/producer"
)

// sameTime is how far a stored __time__ may be from the record's time and
// still be "the record's time": SLS keeps __time__ in seconds.
const sameTime = time.Second

func TestTime(t *testing.T) {
	for _, c := range []struct {
		name, stamped string
		offset        time.Duration
		evidence      string
		sdk           string
	}{
		{"now", "now", 0, docSLSDoc, "the record's time as __time__ (Record.Time is the Kafka timestamp)"},
		{"hour_ago", "an hour ago", -time.Hour, assumed, ""},
		{"day_ahead", "a day ahead", 24 * time.Hour, assumed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			check(t, assumption{
				what:     "the record timestamp becomes __time__, in whole seconds, for a record stamped " + c.stamped,
				evidence: c.evidence,
				emulator: "accepted, stored with the record's time, read back in whole seconds",
				sdk:      c.sdk,
			}, func(t *testing.T, tg *target) (string, bool) {
				token := tg.token()
				r := record(token, producer.Field{Key: "msg", Value: "time " + c.name})
				r.Time = time.Now().Add(c.offset)
				p := tg.producer(t, nil)
				o := outcome(p.LogSync(tg.ctx(t), tg.logstore, r))
				if !accepted(o) {
					return o, false
				}
				st, err := tg.stored(tg.ctx(t), token)
				if err != nil {
					t.Logf("read back: %v", err)
					return o + ", not read back", false
				}
				if d := st.time.Sub(r.Time); d.Abs() > sameTime {
					arrival := st.read.time.Sub(r.Time).Round(time.Second)
					return fmt.Sprintf("%s, stored with a time %v from the record's (read back with a timestamp %v from it)", o, d.Round(time.Second), arrival), false
				}
				o += ", stored with the record's time"
				if st.read.time.Equal(st.read.time.Truncate(time.Second)) {
					return o + ", read back in whole seconds", true
				}
				return o + ", read back with sub-second time", true
			})
		})
	}
}
