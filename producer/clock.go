package producer

import (
	"sync/atomic"
	"time"
)

// clock tells Log the time at half the cost of time.Now, which reads both
// the wall clock and the monotonic clock: it reads the monotonic clock only
// and adds the time elapsed to the wall time of an anchor, a time.Now at
// most anchorAge old. Times stay exact to the nanosecond relative to each
// other; against the wall clock they are off by what it was stepped or
// slewed since the anchor was taken (NTP slews by at most 500 ppm: 50 µs
// in anchorAge), and a step shows within anchorAge.
//
// Log reads the time once per record (Record.Time when zero, the deadline
// window, the delivery latency): a clock read is 5-10% of a record's cost
// in the SDK, on virtual machines whose clock reads are slow more than
// that. Inside a testing/synctest bubble time.Since reads the bubble's
// clock, so there times are the bubble's exactly.
type clock struct {
	anchor atomic.Pointer[time.Time]
}

// anchorAge is the oldest anchor the clock adds to.
const anchorAge = 100 * time.Millisecond

// now returns the current time, with a monotonic reading.
func (c *clock) now() time.Time {
	if a := c.anchor.Load(); a != nil {
		if d := time.Since(*a); d >= 0 && d < anchorAge {
			return a.Add(d)
		}
	}
	t := time.Now()
	c.anchor.Store(&t)
	return t
}
