package producer_test

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// throttleRun logs a record every 5 ms for 10 s on the bubble's clock to a
// one-shard logstore throttled by d (0: not throttled), flushes, and
// returns how many produce requests the emulator got during the 10 s. It
// fails the test unless every record was delivered, none failed, Log
// never refused one and the producer kept its connections.
func throttleRun(t *testing.T, d time.Duration) (requests int64) {
	const (
		every  = 5 * time.Millisecond
		period = 10 * time.Second
	)
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, InMemory: true})
	if err := s.ThrottleShard("app", 0, d); err != nil {
		t.Fatal(err)
	}
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) {
		c.OnError = fl.on
		c.DialContext = s.DialContext
	})
	before := s.Stats().ProduceRequests
	tick := time.NewTicker(every)
	defer tick.Stop()
	sent := 0
	for end := time.Now().Add(period); time.Now().Before(end); sent++ {
		<-tick.C
		if err := p.Log(context.Background(), "app", rec("seq", strconv.Itoa(sent))); err != nil {
			t.Fatalf("Log under a throttle of %v: %v", d, err)
		}
	}
	requests = s.Stats().ProduceRequests - before
	if st := s.Stats(); (d > 0) != (st.Throttled > 0) || st.Connections > 2 {
		t.Errorf("throttle %v: emulator stats %+v, want throttled responses only under a throttle, and no reconnecting", d, st)
	}
	if err := p.Flush(timeout(t, time.Minute)); err != nil {
		t.Fatalf("Flush under a throttle of %v: %v", d, err)
	}
	if f := fl.all(); len(f) != 0 {
		t.Fatalf("throttle %v: delivery failures %v", d, f)
	}
	seen := map[string]bool{}
	for _, l := range s.Logs("app") {
		seen[l.Fields["seq"]] = true
	}
	for i := range sent {
		if !seen[strconv.Itoa(i)] {
			t.Fatalf("throttle %v: record %d of %d not stored", d, i, sent)
		}
	}
	if st := p.Stats(); st.Delivered != int64(sent) || st.Failed != 0 || st.Unconfirmed != 0 {
		t.Errorf("throttle %v: stats %+v, want %d delivered, none failed or unconfirmed", d, st, sent)
	}
	return requests
}

// TestThrottledShardNeitherFailsNorSpins has the producer write steadily
// to a shard the emulator throttles as a Kafka 2.1 broker does (a 1 s
// ThrottleTimeMs on every produce response, the connection muted meanwhile):
// no record fails or is refused, the producer keeps its connections
// (no reconnecting around the throttle) and sends about one request a
// second, where the same load unthrottled takes many more.
func TestThrottledShardNeitherFailsNorSpins(t *testing.T) {
	const throttle = time.Second
	var free, throttled int64
	synctest.Test(t, func(t *testing.T) { free = throttleRun(t, 0) })
	synctest.Test(t, func(t *testing.T) { throttled = throttleRun(t, throttle) })
	perSec := float64(throttled) / 10
	t.Logf("produce requests in 10 s: %d unthrottled, %d under a %v throttle (%.1f/s; ratio %.3f)", free, throttled, throttle, perSec, float64(throttled)/float64(max(free, 1)))
	// One request per throttle period, plus the ones in flight when the
	// first throttled response came back.
	if limit := int64(10*time.Second/throttle) + 6; throttled > limit {
		t.Errorf("%d produce requests in 10 s under a %v throttle, want at most %d: the producer does not wait out the throttle", throttled, throttle, limit)
	}
	if throttled*4 > free {
		t.Errorf("%d produce requests throttled vs %d unthrottled: the throttle did not slow the producer down", throttled, free)
	}
}
