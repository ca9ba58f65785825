package otelsls

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/producer"
)

// DefaultTimeout bounds an Export whose context has no earlier deadline. It
// is the BatchProcessor's default export timeout.
const DefaultTimeout = 30 * time.Second

// Options configure an Exporter or a Processor. The zero value (or nil)
// selects the defaults.
type Options struct {
	// Timeout bounds one Export call, when its context has no earlier
	// deadline (a SimpleProcessor passes the caller's context, which often
	// has none). Default DefaultTimeout; a negative value means no bound
	// beyond the context's.
	//
	// For a Processor, Timeout bounds how long OnEmit waits for buffer
	// space. Default DefaultEmitTimeout; a negative value means as long as
	// the producer lets it.
	Timeout time.Duration
}

// Exporter ships log records to an SLS logstore through a producer. It
// implements sdklog.Exporter; create it with New.
type Exporter struct {
	p        *producer.Producer
	logstore string
	timeout  time.Duration

	// res is the last resource seen and its rendered fields: every record
	// of a LoggerProvider points to the same resource.
	res atomic.Pointer[resourceFields]

	mu     sync.Mutex
	shut   bool          // Shutdown has been called
	active int           // Exports running
	idle   chan struct{} // closed when active drops to 0 after Shutdown
}

var _ sdklog.Exporter = (*Exporter)(nil)

// New returns an exporter that ships records to logstore through p. opts
// may be nil. A nil p or an invalid logstore name is an error wrapping
// producer.ErrInvalid. Closing p is the caller's job, after the
// LoggerProvider has shut down.
func New(p *producer.Producer, logstore string, opts *Options) (*Exporter, error) {
	if p == nil {
		return nil, fmt.Errorf("otelsls: nil *producer.Producer: create one with producer.New (%w)", producer.ErrInvalid)
	}
	if err := endpoint.ValidateLogstore(logstore); err != nil {
		return nil, fmt.Errorf("otelsls: %w (%w)", err, producer.ErrInvalid)
	}
	e := &Exporter{p: p, logstore: logstore, timeout: DefaultTimeout}
	if opts != nil && opts.Timeout != 0 {
		e.timeout = opts.Timeout
	}
	return e, nil
}

// Export hands each record to the producer; see the package documentation.
// It returns an error wrapping the producer's if some records were not
// accepted (the buffer was full, the producer is closed, a record is too
// large), and sdklog.ErrExporterShutdown after Shutdown. Once the producer
// refuses a record for want of space (after waiting at most its
// Config.MaxBlock) or is closed, the rest of the batch is refused with it,
// so that one Export waits at most MaxBlock for space; a record shed for
// its level (producer.IsShed) does not stop the batch, whose more severe
// records may still fit.
func (e *Exporter) Export(ctx context.Context, records []sdklog.Record) error {
	if !e.begin() {
		return sdklog.ErrExporterShutdown
	}
	defer e.end()
	if len(records) == 0 {
		return nil
	}
	// Keep ctx's deadline, which bounds how long Export may wait for
	// buffer space, but not its cancellation: under a SimpleProcessor,
	// ctx is the context the record was logged with, and a record must
	// not be lost because the request that logged it ended (as in
	// producer/slogsls).
	deadline, hasDeadline := ctx.Deadline()
	ctx = context.WithoutCancel(ctx)
	if hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}

	s := getState()
	defer putState(s)
	var (
		refused int
		first   error
	)
	for i := range records {
		r := &records[i]
		err := e.p.Log(ctx, e.logstore, s.render(r, e.resource(r)))
		s.reset()
		if err == nil {
			continue
		}
		refused++
		if first == nil {
			first = err
		}
		if errors.Is(err, producer.ErrClosed) {
			refused += len(records) - i - 1 // refused for the same reason
			break
		}
		if ctx.Err() != nil || errors.Is(err, producer.ErrBufferFull) && !producer.IsShed(err) {
			// The rest is offered without waiting (each would wait the
			// producer's MaxBlock again, or Export's time is up), so that
			// the producer counts each record it cannot take in
			// Stats.Dropped.
			ctx = producer.NoWait(context.WithoutCancel(ctx))
		}
	}
	if first != nil {
		return fmt.Errorf("otelsls: %d of %d records not accepted: %w", refused, len(records), first)
	}
	return nil
}

// ForceFlush waits until every record exported before it is acknowledged
// by SLS (producer.Producer.Flush), or ctx ends. After Shutdown it does
// nothing.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	e.mu.Lock()
	shut := e.shut
	e.mu.Unlock()
	if shut {
		return nil
	}
	return e.flush(ctx)
}

// Shutdown makes later Exports fail with sdklog.ErrExporterShutdown, waits
// for those running, and flushes, all bounded by ctx. It does not close the
// producer. Later calls do nothing and return nil.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.shut {
		e.mu.Unlock()
		return nil
	}
	e.shut = true
	e.idle = make(chan struct{})
	if e.active == 0 {
		close(e.idle)
	}
	idle := e.idle
	e.mu.Unlock()

	select {
	case <-idle:
	case <-ctx.Done():
		return fmt.Errorf("otelsls: shutdown: exports still running: %w", ctx.Err())
	}
	return e.flush(ctx)
}

// flush returns the producer's error as it is: it says what failed.
func (e *Exporter) flush(ctx context.Context) error { return e.p.Flush(ctx) }

// begin counts an Export in, unless the exporter is shut down.
func (e *Exporter) begin() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shut {
		return false
	}
	e.active++
	return true
}

// end counts an Export out, and tells a waiting Shutdown when it was the
// last one.
func (e *Exporter) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.active--
	if e.shut && e.active == 0 {
		close(e.idle)
	}
}
