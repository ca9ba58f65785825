package producer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slskafka/slskafka/internal/spool"
)

// spooler is the producer's side of the disk spool (Config.SpoolDir). With
// a spool, every record Log accepts is on disk, in the page cache, before
// Log returns, and leaves it only once SLS acknowledged it or refused it
// for good. Log puts a record in memory and on disk (Append) while memory
// has room and no backlog waits; otherwise on disk only (Spill), behind the
// backlog. The feeder brings spilled records, records a previous process
// left, and records handed back after their deadline into memory as it
// frees, oldest first, while the endpoint is up. So a record never fails
// for its delivery timeout: it waits on disk, for as long as
// MaxSpoolBytes lasts and across restarts.
type spooler struct {
	s   *spool.Spool
	dir string

	wake chan struct{} // capacity 1: records wait for the feeder
	stop context.CancelFunc
	ctx  context.Context // ends when Close stops the feeder
	done chan struct{}   // closed when the feeder returned

	progress broadcast // the feeder handed records over

	scratch  sync.Pool    // *[]byte to encode spilled records into
	released atomic.Int64 // records handed back to the disk after their deadline
	badTopic atomic.Int64 // records from disk dropped for a topic that is no logstore (Stats.SpoolLost)
}

func openSpool(cfg Config) (*spooler, error) {
	s, err := spool.Open(spool.Options{Dir: cfg.SpoolDir, MaxBytes: cfg.MaxSpoolBytes, Sync: cfg.SpoolSync, Logger: cfg.Logger})
	if err != nil {
		if errors.Is(err, spool.ErrLocked) {
			return nil, fmt.Errorf("producer: SpoolDir %q is in use by another producer (one producer per spool directory): %w", cfg.SpoolDir, err)
		}
		return nil, fmt.Errorf("producer: open the spool in %q: %w", cfg.SpoolDir, err)
	}
	sp := &spooler{s: s, dir: cfg.SpoolDir, wake: make(chan struct{}, 1), done: make(chan struct{})}
	sp.ctx, sp.stop = context.WithCancel(context.Background())
	sp.scratch.New = func() any { b := make([]byte, 0, 1024); return &b }
	sp.signal() // what a previous process left
	return sp, nil
}

func (sp *spooler) signal() {
	select {
	case sp.wake <- struct{}{}:
	default:
	}
}

// spoolWrite puts a record on disk, held (it is in memory too) or spilled
// (for the feeder), waiting for space under the Block policy when
// MaxSpoolBytes is reached, within w, the bound of the Log that waits;
// errNotSpooled when the disk cannot take it.
func (p *Producer) spoolWrite(ctx context.Context, ls *logstoreState, ts time.Time, value []byte, held bool, w *bound) (spool.ID, error) {
	sp := p.spool
	r := spool.Record{Topic: ls.topic, Time: ts, Value: value}
	for {
		id, err := sp.write(r, held)
		if errors.Is(err, spool.ErrFull) && p.cfg.OnBufferFull == Block && !noWait(ctx) {
			space := sp.s.Space()
			if id, err = sp.write(r, held); errors.Is(err, spool.ErrFull) { // not freed in between
				if err := p.spoolWait(ctx, ls, space, w); err != nil {
					return 0, err
				}
				continue
			}
		}
		switch {
		case errors.Is(err, spool.ErrFull):
			return 0, p.full(ls, fmt.Errorf("the spool is full (MaxSpoolBytes %d) and the record may not wait (OnBufferFull Drop, or NoWait)", p.cfg.MaxSpoolBytes))
		case errors.Is(err, spool.ErrClosed):
			return 0, p.newError(ErrClosed, ls.name, nil, false)
		case err != nil:
			// The disk is full (the spool said so, once), failing, or
			// the record is larger than a segment: the record goes on
			// through memory, under the memory rules.
			if !errors.Is(err, spool.ErrNoSpace) {
				p.diag.warn("spool-write", "the spool could not keep a record; it is kept in memory only", "dir", sp.dir, "err", err)
			}
			return 0, errNotSpooled
		}
		return id, nil
	}
}

// errNotSpooled: the spool cannot keep the record (a full or failing
// disk, spool.ErrNoSpace); Log keeps it in memory only, as without a
// spool.
var errNotSpooled = errors.New("producer: not spooled")

// degraded reports whether the disk has no room for the spool: Log does
// not try the disk and keeps records in memory only.
func (sp *spooler) degraded() bool { return sp.s.Degraded() }

// spoolWait waits until space is closed (disk space was reclaimed), or
// refuses the record when w's bound passes, ctx ends or Close starts.
func (p *Producer) spoolWait(ctx context.Context, ls *logstoreState, space <-chan struct{}, w *bound) error {
	wctx, cancel := w.context(ctx)
	defer cancel()
	select {
	case <-space:
		return nil
	case <-wctx.Done():
		if err := w.ended(ctx); err != errBlocked {
			return p.full(ls, &blockedError{what: "spool", ctx: err})
		}
		return p.full(ls, &blockedError{what: "spool", waited: p.cfg.MaxBlock})
	case <-p.life.closing.Done():
		return p.newError(ErrClosed, ls.name, nil, false)
	}
}

func (sp *spooler) write(r spool.Record, held bool) (spool.ID, error) {
	if held {
		return sp.s.Append(r)
	}
	return 0, sp.s.Spill(r)
}

// spill keeps a record on disk only, for the feeder: memory is full, or
// older records wait on disk and this one goes behind them. errNotSpooled:
// the disk cannot take it; the caller keeps it in memory.
func (p *Producer) spill(ctx context.Context, ls *logstoreState, c *claim, w *bound) error {
	bp := p.spool.scratch.Get().(*[]byte)
	defer p.spool.scratch.Put(bp)
	*bp = c.appendTo((*bp)[:0])
	if len(*bp) > p.cfg.MaxRecordBytes {
		ls.tooLarge.Add(1)
		return p.newError(ErrRecordTooLarge, ls.name, &tooLargeError{size: len(*bp), limit: p.cfg.MaxRecordBytes}, false)
	}
	if _, err := p.spoolWrite(ctx, ls, c.time, *bp, false, w); err != nil {
		return err
	}
	ls.accepted.Add(1)
	p.spool.signal()
	return nil
}

// feed brings records waiting on disk into memory and hands them to the
// hand-off queue, oldest first, while the endpoint is up, until Close
// stops it.
func (p *Producer) feed() {
	sp := p.spool
	defer close(sp.done)
	buf := make([]byte, 0, 4096)
	for {
		for sp.s.Waiting() == 0 || p.conn.isDown() {
			select {
			case <-sp.wake:
			case <-p.conn.upSignal(): // nil while up: never ready
			case <-sp.ctx.Done():
				return
			}
		}
		e, ok, err := sp.s.Next(buf)
		if err != nil {
			if errors.Is(err, spool.ErrClosed) || sp.ctx.Err() != nil {
				return
			}
			p.diag.warn("spool", "reading the spool failed", "dir", sp.dir, "err", err)
			continue
		}
		if !ok {
			continue
		}
		buf = e.Value[:0]
		if !p.feedOne(e) {
			return
		}
		sp.progress.fire()
	}
}

// feedOne hands one record from disk over; false when Close stopped the
// feeder (the record stays on disk).
func (p *Producer) feedOne(e spool.Entry) bool {
	sp := p.spool
	name := strings.TrimSuffix(e.Topic, ".json")
	ls, err := p.acct.logstore(name)
	if err != nil { // not a logstore name: not this SDK's, or damaged
		p.diag.warn("spool", "dropping a spooled record whose topic is not a logstore", "dir", sp.dir, "topic", e.Topic, "err", err)
		sp.s.Ack(e.ID)           //nolint:errcheck // handed out just now
		p.acct.recovered.Add(-1) // counted at New, yet not a record to deliver
		sp.badTopic.Add(1)       // but a record lost all the same
		return true
	}
	pd, err := p.budget.take(sp.ctx, &claim{raw: e.Value, maxRecord: max(p.cfg.MaxRecordBytes, len(e.Value)), policy: blockThroughClose})
	if err != nil {
		sp.s.Release(e.ID) //nolint:errcheck // stays on disk for the next start
		return false
	}
	pd.spoolID = e.ID
	now := time.Now()
	p.handOver(pd, ls, e.Topic, e.Time, now, acceptedAt(e.Time, now))
	return true
}

// acceptedAt is when Log accepted a record that comes back from disk,
// for its delivery latency (Stats.MaxDeliveryLatency, the delivery
// duration metric): its stored time, which is the time Log accepted it
// unless the caller set Record.Time (then the caller's time, which the
// adapters take when the application logs). The spool keeps no other
// time per record, and a record that waited on disk, in this process or
// before a restart, has waited since then. A stored time after now (a
// caller's, or a clock set back) counts from now.
func acceptedAt(stored, now time.Time) time.Time {
	if stored.IsZero() || stored.After(now) {
		return now
	}
	return stored
}

// spooledError is the cause of a record that was not delivered but stays
// on disk.
type spooledError struct {
	dir   string
	cause error
}

func (e *spooledError) Error() string {
	return fmt.Sprintf("kept in the spool (%s), to be delivered later: %v", e.dir, e.cause)
}

func (e *spooledError) Unwrap() error { return e.cause }

// flushSpool waits until every record accepted before the call, in memory
// or on disk, has finished or ctx ends: memory through flush epochs,
// spilled records by waiting until the feeder brought them into memory.
func (p *Producer) flushSpool(ctx context.Context) error {
	sp := p.spool
	end := sp.s.End()
	for {
		progress := sp.progress.next()
		waiting := sp.s.WaitingBefore(end)
		if err := p.waitFlushed(ctx, p.flushes.seal()); err != nil {
			return err
		}
		if !waiting {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
