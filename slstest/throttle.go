package slstest

import (
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxThrottle is the longest throttle a produce response can carry: its
// ThrottleTimeMs is an int32.
const maxThrottle = math.MaxInt32 * time.Millisecond

// ThrottleShard throttles a shard, as SLS might when a shard writes past
// its quota (SLS documents per-shard limits of 5 MB/s with an index,
// 10 MB/s without, and 500 writes/s, for its HTTP API; how the Kafka
// endpoint enforces them is not documented: this is assumed). Every
// produce request that writes to the shard is stored as usual and
// answered as a Kafka 2.1 broker answers a client over its quota: the
// response carries ThrottleTimeMs = d and the connection is not read for
// d; for produce v0-v5, which predate KIP-219, the response itself is
// held back for d. Clients are expected to wait d before sending to the
// broker again. d is cut to whole milliseconds and at most MaxInt32 ms;
// d <= 0 ends the throttle. It returns an error for a shard that does not
// exist.
func (s *Server) ThrottleShard(logstore string, shard int, d time.Duration) error {
	d = min(max(d, 0), maxThrottle).Truncate(time.Millisecond)
	if !s.store.setThrottle(logstore, shard, d) {
		return fmt.Errorf("slstest: ThrottleShard: logstore %q has no shard %d (shards: %d)", logstore, shard, max(s.store.shards(logstore), 0))
	}
	return nil
}

// throttling says how a produce response is throttled, as a Kafka 2.1
// broker throttles (KIP-219): from v6 on the response goes out at once and
// the connection is muted; before, the response is held back as well.
func throttling(version int16, resp *kmsg.ProduceResponse) (delay, mute time.Duration) {
	d := time.Duration(resp.ThrottleMillis) * time.Millisecond
	if version >= 6 {
		return 0, d
	}
	return d, d
}

// throttle mutes the connection for d from now, as a Kafka broker mutes
// the channel of a throttled client: the next request is handled no
// earlier (waitThrottle).
func (c *conn) throttle(d time.Duration) {
	if d > 0 {
		c.s.stats.throttled.Add(1)
		c.throttledUntil = time.Now().Add(d)
	}
}

// waitThrottle holds a request that arrived while its connection was
// muted until the mute ends, which a client sees as a broker that did not
// read it before: a client that pipelines requests may have sent it
// before it read the throttle. It reports false if the connection ends
// meanwhile.
func (c *conn) waitThrottle() bool {
	wait := time.Until(c.throttledUntil)
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.quit:
		return false
	}
}
