package slstest_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/slstest"
)

// TestThrottleShard checks the throttled-shard fault on the bubble's
// clock: a produce v7 request to the shard is stored and answered at once
// with ThrottleTimeMs, and the connection is not read for the throttle
// time, as a Kafka 2.1 broker mutes a client over its quota; a v5 request
// (before KIP-219) is answered only after it. Other shards are not
// throttled, and a throttle of 0 ends it.
func TestThrottleShard(t *testing.T) { synctest.Test(t, testThrottleShard) }

func testThrottleShard(t *testing.T) {
	const d = 2 * time.Second
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}, InMemory: true})
	if err := s.ThrottleShard("app", 2, d); err == nil {
		t.Error("ThrottleShard of shard 2 of a 2-shard logstore: no error")
	}
	if err := s.ThrottleShard("missing", 0, d); err == nil {
		t.Error("ThrottleShard of a logstore that does not exist: no error")
	}
	if err := s.ThrottleShard("app", 0, d); err != nil {
		t.Fatal(err)
	}
	c := rawAuthenticated(t, s)
	// produce sends a request of the given version to a shard and
	// returns its response and how long it took on the bubble's clock.
	produce := func(version int16, shard int32, value string) (*kmsg.ProduceResponse, time.Duration) {
		start := time.Now()
		req := produceReq("app", shard, recordBatch(1, record(value)))
		req.Version = version
		resp := c.roundTrip(req, kmsg.NewPtrProduceResponse()).(*kmsg.ProduceResponse)
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 {
			t.Errorf("%s: code %d, want the records stored", value, p.ErrorCode)
		}
		return resp, time.Since(start)
	}
	for _, step := range []struct {
		version    int16
		shard      int32
		value      string
		wantMillis int32
		wantTook   time.Duration
	}{
		{7, 0, "first", 2000, 0},      // answered at once, then muted
		{7, 0, "second", 2000, d},     // read once the mute ends
		{7, 1, "other shard", 0, d},   // read once the second's mute ends
		{7, 1, "other again", 0, 0},   // no mute after an unthrottled one
		{5, 0, "produce v5", 2000, d}, // held back, as before KIP-219
	} {
		resp, took := produce(step.version, step.shard, step.value)
		if resp.ThrottleMillis != step.wantMillis || took != step.wantTook {
			t.Errorf("%s: ThrottleTimeMs %d, answered after %v; want %d after %v", step.value, resp.ThrottleMillis, took, step.wantMillis, step.wantTook)
		}
	}
	if err := s.ThrottleShard("app", 0, 0); err != nil {
		t.Fatal(err)
	}
	if resp, took := produce(7, 0, "after the throttle"); resp.ThrottleMillis != 0 || took != 0 {
		t.Errorf("after ThrottleShard(0): ThrottleTimeMs %d, answered after %v; want 0 at once", resp.ThrottleMillis, took)
	}
	if n := len(s.Logs("app")); n != 6 {
		t.Errorf("stored %d logs, want all 6: a throttle stores what it answers", n)
	}
	if st := s.Stats(); st.Throttled != 3 {
		t.Errorf("Stats: Throttled %d, want 3", st.Throttled)
	}
}
