package producer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// lifecycle owns the producer's Close state: whether Close began, why it
// gave up, and the records franz-go failed as the client closed.
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
	// franz is the records franz-go failed as the client closed, ended
	// in runs (closedPromise). Promises add to it, which franz-go calls
	// one at a time; Close ends it once franz-go holds nothing, which
	// the promise that leaves it empty after Close started tells on
	// franzEmpty (capacity 1).
	franz      endRun
	franzEmpty chan struct{}
}

func (l *lifecycle) init() {
	l.closing, l.stop = context.WithCancel(context.Background())
	l.done = make(chan struct{})
	l.franzEmpty = make(chan struct{}, 1)
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
	// No record is handed over any more: once franz-go holds none,
	// every promise has run.
	for p.handoff.inFranz.Load() != 0 {
		<-p.life.franzEmpty
	}
	p.life.franz.end(p)
	<-all // nothing unreported
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
	if p.spool != nil {
		// Records past their DeliveryTimeout went back to disk instead
		// of failing: nil would read as "delivered".
		if after := p.Stats(); after.BufferedRecords > 0 {
			return &closeResult{kept: after.BufferedRecords, dir: p.spool.dir, err: fmt.Errorf("their DeliveryTimeout (%v) passed before SLS acknowledged them", p.cfg.DeliveryTimeout)}
		}
	}
	return nil
}

// closeResult is Close's error when its context ended first (it wraps
// ErrClosed and the context's error), or when a spool keeps records whose
// DeliveryTimeout passed (it wraps ErrClosed).
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

// Unwrap returns ErrClosed and why Close did not deliver everything: the
// context's error, or why a spool kept records.
func (e *closeResult) Unwrap() []error { return []error{ErrClosed, e.err} }

// franzIsEmpty tells Close that a promise left franz-go holding no record.
func (l *lifecycle) franzIsEmpty() {
	select {
	case l.franzEmpty <- struct{}{}:
	default: // Close is told already
	}
}
