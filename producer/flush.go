package producer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// flushes lets Flush wait for exactly the records accepted before it was
// called, whichever way and order they finish (acknowledged, failed,
// re-queued after their partition failed, still in the hand-off queue).
// Records count into the current epoch; Flush seals it and starts the next,
// and waits until the sealed epoch and every one before it is empty. Log
// pays one atomic add; Flush allocates one epoch.
type flushes struct {
	mu  sync.Mutex // serializes sealing
	cur atomic.Pointer[flushEpoch]
	// helpers counts waitFlushed's goroutines still running, so a test
	// can tell that each is joined before its Flush or Close returns.
	helpers atomic.Int64
}

// flushEpoch counts the records accepted between two Flush calls that are
// not finished yet; it owns that count and its done channel.
type flushEpoch struct {
	n      atomic.Int64 // records accepted in the epoch and not finished
	sealed atomic.Bool
	prev   atomic.Pointer[flushEpoch] // nil once prev is done
	next   atomic.Pointer[flushEpoch]
	ended  atomic.Bool
	done   chan struct{} // closed once sealed, empty, and prev done
}

func newFlushes() *flushes {
	f := &flushes{}
	f.cur.Store(&flushEpoch{done: make(chan struct{})})
	return f
}

// enter counts a record accepted now into the current epoch.
func (f *flushes) enter() *flushEpoch {
	e := f.cur.Load()
	e.n.Add(1)
	return e
}

// leave counts a record of e as finished.
func (e *flushEpoch) leave() { e.leaveN(1) }

// leaveN counts n records of e as finished.
func (e *flushEpoch) leaveN(n int64) {
	if e.n.Add(-n) == 0 && e.sealed.Load() {
		e.try()
	}
}

// seal closes the current epoch to new records and returns a channel that
// is closed once every record accepted so far has finished.
func (f *flushes) seal() <-chan struct{} {
	f.mu.Lock()
	old := f.cur.Load()
	next := &flushEpoch{done: make(chan struct{})}
	next.prev.Store(old)
	old.next.Store(next)
	f.cur.Store(next)
	old.sealed.Store(true)
	f.mu.Unlock()
	old.try()
	return old.done
}

// try ends e if it is sealed, empty and its predecessor ended, then tries
// its successor, whose predecessor it is.
func (e *flushEpoch) try() {
	for e != nil {
		if !e.sealed.Load() || e.n.Load() != 0 {
			return
		}
		if p := e.prev.Load(); p != nil && !p.ended.Load() {
			return
		}
		if !e.ended.CompareAndSwap(false, true) {
			return
		}
		e.prev.Store(nil) // let ended epochs be collected
		close(e.done)
		e = e.next.Load()
	}
}

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
	// The helper is joined, not only cancelled: it calls into the client,
	// which Close shuts down once Flush (or Close's own flush) returns.
	helperDone := make(chan struct{})
	defer func() {
		cancel()
		<-helperDone
	}()
	p.flushes.helpers.Add(1)
	go func() {
		defer close(helperDone)
		defer p.flushes.helpers.Add(-1)
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
