package producer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// deadlines hands out the context every accepted record carries: its
// window. A window's context ends DeliveryTimeout after the window closes,
// so every record accepted in it fails between DeliveryTimeout and
// DeliveryTimeout plus one window after its acceptance: one context and one
// timer per window, not per record. Windows are children of an epoch that a
// refused credential (or an untrusted certificate) cancels, which fails
// every buffered record at once with that cause instead of retrying each
// until it times out.
//
// franz-go counts its own RecordDeliveryTimeout from the record timestamp,
// which here is the log time: an old log line would time out before it was
// sent; hence a deadline counted from acceptance. franz-go fails every
// buffered record of a partition when the context of the partition's
// oldest record ends; the promise re-queues those whose own window is
// still open (see Producer.failed), so each record fails at its own
// deadline.
type deadlines struct {
	timeout time.Duration
	window  time.Duration
	lastErr func() error // the latest transport error, for timeout messages
	expired func()       // called after a window ends

	cur atomic.Pointer[window]

	mu     sync.Mutex
	epoch  context.Context
	cancel context.CancelCauseFunc
	live   map[*window]struct{}
	closed bool
}

// window is the deadline shared by the records accepted in one interval.
type window struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	end    time.Time
	timer  *time.Timer
}

// maxWindow bounds the lateness of a deadline: a record fails at most this
// long after DeliveryTimeout, plus the time franz-go takes to notice.
const maxWindow = 200 * time.Millisecond

func newDeadlines(timeout time.Duration, lastErr func() error, expired func()) *deadlines {
	d := &deadlines{
		timeout: timeout,
		window:  max(time.Millisecond, min(maxWindow, timeout/8)),
		lastErr: lastErr,
		expired: expired,
		live:    make(map[*window]struct{}),
	}
	d.epoch, d.cancel = context.WithCancelCause(context.Background())
	return d
}

// get returns the window of a record accepted at now.
func (d *deadlines) get(now time.Time) *window {
	if w := d.cur.Load(); w != nil && now.Before(w.end) {
		return w
	}
	return d.open(now)
}

func (d *deadlines) open(now time.Time) *window {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.cur.Load(); w != nil && now.Before(w.end) {
		return w
	}
	ctx, cancel := context.WithCancelCause(d.epoch)
	w := &window{ctx: ctx, cancel: cancel, end: now.Add(d.window)}
	if !d.closed {
		w.timer = time.AfterFunc(d.window+d.timeout, func() { d.expire(w) })
		d.live[w] = struct{}{}
	}
	d.cur.Store(w)
	return w
}

func (d *deadlines) expire(w *window) {
	w.cancel(&timeoutError{timeout: d.timeout, last: d.lastErr()})
	d.mu.Lock()
	delete(d.live, w)
	d.mu.Unlock()
	d.expired()
}

// failAll ends every window opened so far with cause; records accepted
// later get a new epoch.
func (d *deadlines) failAll(cause error) {
	d.mu.Lock()
	cancel := d.cancel
	d.epoch, d.cancel = context.WithCancelCause(context.Background())
	d.cur.Store(nil)
	d.mu.Unlock()
	cancel(cause)
}

// close stops the timers. Records still buffered are failed by Close.
func (d *deadlines) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for w := range d.live {
		w.timer.Stop()
	}
	clear(d.live)
	d.cancel(nil)
}

// timeoutError is the cause of a record that was not acknowledged in time.
// It wraps the last transport error (without its sentinel, so that the
// record's error wraps exactly one: ErrDeliveryTimeout).
type timeoutError struct {
	timeout time.Duration
	last    error
}

func (e *timeoutError) Error() string {
	if e.last != nil {
		return fmt.Sprintf("not acknowledged within %v; last error: %v", e.timeout, e.last)
	}
	return fmt.Sprintf("not acknowledged within %v", e.timeout)
}

func (e *timeoutError) Unwrap() []error {
	if e.last != nil {
		return []error{ErrDeliveryTimeout, e.last}
	}
	return []error{ErrDeliveryTimeout}
}

// deadlinePassed runs when a deadline window ends. While the endpoint is
// down, franz-go keeps records waiting for a metadata update it retries on
// its own schedule, seconds after their deadline; failing everything it
// holds (the records whose deadline has not passed come back, and run
// holds them until the endpoint is back) makes each fail
// on time. While the endpoint is up, franz-go's own checks are prompt: a
// request carries the context of its oldest record.
func (p *Producer) deadlinePassed() {
	if p.conn.isDown() && p.handoff.inFranz.Load() > 0 && !p.life.closed.Load() {
		p.cl.UnsafeAbortBufferedRecords()
	}
}
