package producer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// lifecycle is the producer's Close state.
type lifecycle struct {
	// mu is held for reading by Log while it hands a record over, and for
	// writing by Close to wait for those hand-overs to finish.
	mu     sync.RWMutex
	closed atomic.Bool
	// closing is done when Close starts: it wakes loggers waiting for
	// buffer space (budget.wait).
	closing context.Context
	stop    context.CancelFunc
	once    sync.Once
	done    chan struct{} // closed when the first Close returns
	err     error         // what the first Close returns
	// gaveUp is why Close gave up on the records still buffered.
	gaveUp atomic.Pointer[closeError]
}

func (l *lifecycle) init() {
	l.closing, l.stop = context.WithCancel(context.Background())
	l.done = make(chan struct{})
}

// gaveUpCause is the cause of a record Close gave up on.
func (l *lifecycle) gaveUpCause() error {
	if e := l.gaveUp.Load(); e != nil {
		return e
	}
	return defaultCloseError
}

var defaultCloseError = newCloseError(nil, nil)

// closeError is the cause of a record given up at Close: why Close stopped
// waiting, and the last transport error, which is usually why the record
// was not delivered in time.
type closeError struct {
	ctx, last error // Close's context error, the last transport error
	causes    []error
}

func newCloseError(ctx, last error) *closeError {
	e := &closeError{ctx: ctx, last: last}
	for _, err := range []error{ctx, last} {
		if err != nil {
			e.causes = append(e.causes, err)
		}
	}
	return e
}

func (e *closeError) Error() string {
	msg := "Close stopped waiting for delivery"
	if e.ctx != nil {
		msg += " (" + e.ctx.Error() + ")"
	}
	if e.last != nil {
		msg += "; last error: " + e.last.Error()
	}
	return msg
}

func (e *closeError) Unwrap() []error { return e.causes }

// Flush waits until every record accepted before the call is acknowledged
// or has failed. It returns nil if no delivery failed while it waited, an
// error wrapping the latest failure otherwise, or ctx's error if ctx ends
// first (records stay buffered). Failures are reported to OnError before
// Flush returns.
func (p *Producer) Flush(ctx context.Context) error {
	if p == nil {
		return errNilProducer
	}
	if ctx == nil {
		return errNilContext
	}
	ctx, span := p.tel.span(ctx, "slskafka.flush")
	defer span.End()
	mark := p.acct.reports.mark()
	var released int64
	if p.spool != nil {
		released = p.spool.released.Load()
	}
	err := p.flushAll(ctx)
	p.acct.reports.report()
	if err != nil {
		return fmt.Errorf("producer: flush: records not yet acknowledged when the context ended (%w): %w", ErrDeliveryTimeout, err)
	}
	if n, last := p.acct.reports.since(mark); n > 0 {
		return fmt.Errorf("producer: flush: %d records failed: %w", n, last)
	}
	if p.spool != nil {
		if n := p.spool.released.Load() - released; n > 0 {
			return fmt.Errorf("producer: flush: %d records were not acknowledged within DeliveryTimeout and wait in the spool (%s) to be sent again: %w", n, p.spool.dir, ErrDeliveryTimeout)
		}
	}
	return nil
}

// flushAll waits until every record accepted before the call has finished,
// or ctx ends.
func (p *Producer) flushAll(ctx context.Context) error {
	if p.spool != nil {
		return p.flushSpool(ctx)
	}
	return p.waitFlushed(ctx, p.flushes.seal())
}

// waitFlushed waits until done is closed or ctx ends. Meanwhile franz-go
// sends what it holds, and what it is handed, without lingering: that is
// what kgo.Client.Flush does while it runs, and it returns each time
// franz-go holds nothing.
func (p *Producer) waitFlushed(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			handed := p.handoff.handed.next()
			p.cl.Flush(fctx) //nolint:errcheck // only for its unlingering; ends with fctx
			select {
			case <-handed:
			case <-fctx.Done():
				return
			}
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting records, delivers what is buffered and closes the
// connections. ctx bounds the wait: when it ends, Close gives up on what is
// still buffered and returns within moments, with an error wrapping
// ErrClosed and ctx's error; those records are reported to OnError with
// their cause, and as Unconfirmed if they were sent and may be stored.
// With a context that never ends, Close waits until every record is
// delivered or has failed, which DeliveryTimeout bounds.
//
// Give Close a deadline that fits the process's shutdown, for example 10
// seconds under Kubernetes' default 30-second grace period. Close is safe
// to call more than once and concurrently; later calls wait for the first
// (or their own ctx) and return nil.
func (p *Producer) Close(ctx context.Context) error {
	if p == nil {
		return errNilProducer
	}
	if ctx == nil {
		return errNilContext
	}
	first := false
	p.life.once.Do(func() {
		first = true
		p.life.err = p.close(ctx)
		close(p.life.done)
	})
	if !first {
		select {
		case <-p.life.done:
		case <-ctx.Done():
		}
		return nil
	}
	return p.life.err
}

func (p *Producer) close(ctx context.Context) error {
	ctx, span := p.tel.span(ctx, "slskafka.close")
	defer span.End()
	p.life.closed.Store(true)
	p.life.stop() // wake Logs blocked on buffer space
	p.life.mu.Lock()
	p.life.mu.Unlock() // every hand-over in progress is queued

	mark := p.acct.reports.mark()
	waitErr := p.flushAll(ctx)
	if waitErr != nil {
		p.life.gaveUp.Store(newCloseError(waitErr, p.conn.lastError()))
	}
	if p.spool != nil {
		p.spool.stop() // what waits on disk stays there
		<-p.spool.done
	}
	all := p.flushes.seal()
	before := p.Stats()
	p.handoff.stop()
	p.cl.Close() // fails what franz-go holds; unblocks run's Produce
	<-p.handoff.done
	<-all // every promise has run: nothing unreported
	p.deadlines.close()
	p.acct.close()
	p.closeSpool()
	// The metrics callback stays registered until the next collection
	// (telemetry.go): the final counts must reach the provider's last
	// export, which usually comes after Close.

	if waitErr != nil {
		after := p.Stats()
		r := &closeResult{
			given:  before.BufferedRecords,
			unconf: after.Unconfirmed - before.Unconfirmed,
			err:    waitErr,
		}
		if p.spool != nil {
			r.kept, r.dir = after.BufferedRecords, p.spool.dir
		}
		return r
	}
	if n, last := p.acct.reports.since(mark); n > 0 {
		return fmt.Errorf("producer: close: %d records failed while delivering what was buffered: %w", n, last)
	}
	return nil
}

// closeResult is Close's error when its context ended first. It wraps
// ErrClosed and the context's error.
type closeResult struct {
	given, unconf, kept int64
	dir                 string // the spool's, if any
	err                 error
}

func (e *closeResult) Error() string {
	if e.dir != "" {
		return fmt.Sprintf("producer: close: %d records not delivered are kept in the spool (%s) for the next producer on it: %v", e.kept, e.dir, e.err)
	}
	return fmt.Sprintf("producer: close: gave up on %d buffered records (%d of them sent and unacknowledged: SLS may have stored those): %v", e.given, e.unconf, e.err)
}

// closeSpool closes the spool, if any: what is not acknowledged stays on
// disk.
func (p *Producer) closeSpool() {
	if p.spool == nil {
		return
	}
	if err := p.spool.s.Close(); err != nil {
		p.diag.warn("spool", "closing the spool failed", "dir", p.spool.dir, "err", err)
	}
}

func (e *closeResult) Unwrap() []error { return []error{ErrClosed, e.err} }
