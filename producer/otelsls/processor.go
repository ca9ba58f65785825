package otelsls

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/slskafka/slskafka/producer"
)

// DefaultEmitTimeout bounds how long a Processor's OnEmit waits for buffer
// space (the producer's buffer full under Config.OnBufferFull Block): the
// SDK calls OnEmit on the logging goroutine, which must not be held for
// long.
const DefaultEmitTimeout = time.Second

// Processor ships each log record from OnEmit, on the goroutine that logs
// it. It implements sdklog.Processor; create it with NewProcessor and
// register it with sdklog.WithProcessor instead of a BatchProcessor around
// an Exporter:
//
//	proc, err := otelsls.NewProcessor(p, "app", nil)
//	if err != nil { ... }
//	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(proc))
//
// The producer already does what a BatchProcessor does: producer.Log
// encodes the record into its buffer and returns, and one goroutine batches,
// compresses and sends. A BatchProcessor adds a second queue, a goroutine,
// and a copy of every record, and drops records when its queue is full,
// without the producer's counts hearing of it. OnEmit encodes the record
// before it returns and keeps nothing of it, so it needs no copy.
//
// Records become fields as with the Exporter (see the package
// documentation). Errors (a record not accepted: too large, the producer
// closed or its buffer full past the emit timeout) are returned to the SDK,
// which hands them to the OpenTelemetry error handler (otel.SetErrorHandler;
// do not route it into this processor).
type Processor struct {
	e       *Exporter
	timeout time.Duration
	// wait is the context OnEmit hands to producer.Log, shared by every
	// record logged in its first half: see waitContext.
	wait atomic.Pointer[waitWindow]
}

// waitWindow is a context that ends timeout after from.
type waitWindow struct {
	ctx    context.Context
	cancel context.CancelFunc
	from   time.Time
}

var _ sdklog.Processor = (*Processor)(nil)

// NewProcessor returns a processor that ships records to logstore through
// p. opts may be nil; its Timeout is the longest OnEmit waits for buffer
// space (default DefaultEmitTimeout; negative: as long as the producer
// lets it). Closing p is the caller's job, after the LoggerProvider has
// shut down.
func NewProcessor(p *producer.Producer, logstore string, opts *Options) (*Processor, error) {
	e, err := New(p, logstore, nil)
	if err != nil {
		return nil, err
	}
	pr := &Processor{e: e, timeout: DefaultEmitTimeout}
	if opts != nil && opts.Timeout != 0 {
		pr.timeout = opts.Timeout
	}
	return pr, nil
}

// Enabled reports true: every record is shipped. Filter by level in the
// bridge, or with a processor in front of this one.
func (*Processor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit hands r to the producer and returns once it is encoded and
// buffered, or the emit timeout has passed while the buffer was full. It
// does not use ctx: a record must not be lost because the request that
// logged it ended (the OpenTelemetry contract asks the same), and OnEmit's
// wait has a bound of its own.
func (pr *Processor) OnEmit(_ context.Context, r *sdklog.Record) error {
	if r == nil {
		return nil
	}
	e := pr.e
	if !e.begin() {
		return fmt.Errorf("otelsls: record emitted after Shutdown: %w", producer.ErrClosed)
	}
	defer e.end()
	s := getState()
	err := e.p.Log(pr.waitContext(), e.logstore, s.render(r, e.resource(r)))
	putState(s)
	if err != nil {
		return fmt.Errorf("otelsls: record not accepted: %w", err)
	}
	return nil
}

// waitContext returns a context that ends between timeout/2 and timeout
// from now: one context, and its timer, serve every record emitted in the
// first half of its life, instead of one per record, which would cost more
// than the rest of OnEmit's own work (a context and a timer each). "Now" is
// the clock's, not the record's observed time: a caller (a bridge
// replaying old records) may set that to any time.
func (pr *Processor) waitContext() context.Context {
	if pr.timeout < 0 {
		return context.Background()
	}
	now := time.Now()
	if w := pr.wait.Load(); w != nil && now.Sub(w.from) < pr.timeout/2 && !now.Before(w.from) && w.ctx.Err() == nil {
		return w.ctx
	}
	// A replaced window is left to its timer, which ends and frees it,
	// since records that took it may still wait on it; Shutdown cancels
	// the last one.
	ctx, cancel := context.WithTimeout(context.Background(), pr.timeout)
	pr.wait.Store(&waitWindow{ctx: ctx, cancel: cancel, from: now})
	return ctx
}

// ForceFlush waits until every record emitted before it is acknowledged by
// SLS (producer.Producer.Flush), or ctx ends. After Shutdown it does
// nothing.
func (pr *Processor) ForceFlush(ctx context.Context) error { return pr.e.ForceFlush(ctx) }

// Shutdown makes later OnEmit calls fail, waits for those running, and
// flushes, all bounded by ctx. It does not close the producer. Later calls
// do nothing and return nil.
func (pr *Processor) Shutdown(ctx context.Context) error {
	err := pr.e.Shutdown(ctx)
	if w := pr.wait.Load(); w != nil && err == nil {
		w.cancel() // no OnEmit runs any more
	}
	return err
}
