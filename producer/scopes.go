package producer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// scopes hands out the context every accepted record carries. franz-go
// fails a buffered batch as soon as the context of its first record is done,
// and the producer uses that for two deadlines franz-go cannot express:
//
//   - Authentication. A refused credential cancels the current epoch, so
//     every buffered record fails with ErrAuth at once instead of being
//     retried until it times out.
//   - Delivery timeout, counted from acceptance. franz-go's own
//     RecordDeliveryTimeout counts from the record timestamp, which here is
//     the log time: an old log line would time out before it was sent.
//     Records are grouped by acceptance time into windows, and a window's
//     context ends DeliveryTimeout after the window closes: one context
//     and one timer per window, not per record.
type scopes struct {
	timeout time.Duration
	window  time.Duration
	lastErr func() error // the latest transport error, for timeout messages

	cur atomic.Pointer[window]

	mu     sync.Mutex
	epoch  context.Context
	cancel context.CancelCauseFunc
	live   map[*window]struct{}
	closed bool
}

type window struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	end    time.Time
	timer  *time.Timer
}

func newScopes(timeout time.Duration, lastErr func() error) *scopes {
	s := &scopes{
		timeout: timeout,
		window:  max(time.Millisecond, min(time.Second, timeout/4)),
		lastErr: lastErr,
		live:    make(map[*window]struct{}),
	}
	s.epoch, s.cancel = context.WithCancelCause(context.Background())
	return s
}

// get returns the context for a record accepted at now.
func (s *scopes) get(now time.Time) context.Context {
	if w := s.cur.Load(); w != nil && now.Before(w.end) {
		return w.ctx
	}
	return s.open(now)
}

func (s *scopes) open(now time.Time) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.cur.Load(); w != nil && now.Before(w.end) {
		return w.ctx
	}
	ctx, cancel := context.WithCancelCause(s.epoch)
	w := &window{ctx: ctx, cancel: cancel, end: now.Add(s.window)}
	if !s.closed {
		w.timer = time.AfterFunc(s.window+s.timeout, func() { s.expire(w) })
		s.live[w] = struct{}{}
	}
	s.cur.Store(w)
	return ctx
}

func (s *scopes) expire(w *window) {
	w.cancel(&timeoutError{timeout: s.timeout, last: s.lastErr()})
	s.mu.Lock()
	delete(s.live, w)
	s.mu.Unlock()
}

// authFailed fails every record accepted so far with ErrAuth.
func (s *scopes) authFailed(err error) {
	s.mu.Lock()
	cancel := s.cancel
	s.epoch, s.cancel = context.WithCancelCause(context.Background())
	s.cur.Store(nil)
	s.mu.Unlock()
	cancel(fmt.Errorf("%w: %w", ErrAuth, err))
}

// close stops the timers. Records still buffered are failed by the Kafka
// client's Close.
func (s *scopes) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for w := range s.live {
		w.timer.Stop()
	}
	clear(s.live)
	s.cancel(nil)
}

// timeoutError is the cause of a record that was not acknowledged in time.
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
