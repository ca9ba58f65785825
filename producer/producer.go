package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/internal/ledger"
	"github.com/slskafka/slskafka/internal/objectlog"
	"github.com/slskafka/slskafka/internal/record"
)

// Record is one log record.
type Record struct {
	// Time is the log time; the zero Time means now.
	Time time.Time
	// Level is the record's severity (the zero value is slog.LevelInfo).
	Level slog.Level
	// Fields are the record's key/value pairs, in order. On duplicate keys
	// the last one wins. A key must not be empty (ErrInvalid).
	Fields []Field
}

// Field is one key/value pair of a Record. SLS stores text: each byte of
// invalid UTF-8 in a key or value is replaced with U+FFFD (the Unicode
// replacement character), as encoding/json does, without an error; encode
// binary data (base64, hex) to keep it.
type Field struct{ Key, Value string }

// Producer ships records to SLS. It is safe for concurrent use. Create it
// with New and Close it when done; Close delivers what is buffered.
//
// A record goes from Log to the memory budget, the hand-off queue,
// franz-go, and back through its acknowledgement to the counts in Stats.
type Producer struct {
	cfg       Config
	cl        *kgo.Client
	creds     auth.Provider
	static    *record.Static
	budget    *budget    // the memory records hold; budget.go
	shedder   shedder    // which records give way when it fills; shed.go
	handoff   *handoff   // Log's queue to franz-go; handoff.go
	deadlines *deadlines // each record's delivery deadline; deadline.go
	flushes   *flushes   // what Flush waits for; flush.go
	ledger    *ledger.Ledger
	acct      accounting // logstores, counts, failure reports; accounting.go
	life      lifecycle  // Close; close.go
	conn      connState  // what connections report; connect.go
	tel       telemetry
	codec     *codec // the batch compression in use; compress.go
	clock     clock  // what Log reads the time from; clock.go
	diag      *diag
	spool     *spooler                 // nil without Config.SpoolDir; spool.go
	promised  func(*kgo.Record, error) // p.promise, bound once: a method value allocates
	// lastFailure is the error of the last record that failed (failure).
	lastFailure atomic.Pointer[Error]
}

// Format prints the producer as producer.Producer(project@endpoint) for
// every verb. Without it, verbs that do not fit a field (%s, %q) make fmt
// print what the credential provider points to, where a cached credential
// sits in an unexported field whose own redaction fmt never calls.
func (p *Producer) Format(f fmt.State, _ rune) {
	if p == nil {
		io.WriteString(f, "producer.Producer(nil)")
		return
	}
	fmt.Fprintf(f, "producer.Producer(%s@%s)", p.cfg.Project, p.cfg.Endpoint)
}

// LogValue is the producer's project and endpoint, for slog.
func (p *Producer) LogValue() slog.Value {
	if p == nil {
		return slog.StringValue("producer.Producer(nil)")
	}
	return slog.GroupValue(slog.String("project", p.cfg.Project), slog.String("endpoint", p.cfg.Endpoint.String()))
}

// errNilProducer is what every method of a nil *Producer returns (the
// adapters call them with whatever producer they were given).
var errNilProducer = invalid(errors.New("producer: nil *Producer: create one with producer.New"))

// errNilContext is what every method given a nil context returns.
var errNilContext = invalid(errors.New("producer: nil context: pass context.Background() or a request's context"))

// New returns a producer. It validates cfg and does not touch the network:
// use Ping to check the endpoint, credentials and logstore. Its errors wrap
// ErrInvalid.
func New(cfg Config) (*Producer, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, invalid(err)
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, invalid(err)
	}
	p := &Producer{
		cfg:     cfg,
		creds:   auth.Caching(cfg.Credentials),
		handoff: newHandoff(),
		flushes: newFlushes(),
		ledger:  &ledger.Ledger{},
		diag:    newDiag(cfg.Logger, diagInterval*cfg.RetryBackoff),
	}
	if w := cfg.Endpoint.Warning(); w != "" {
		p.diag.warn("endpoint", w)
	}
	p.life.init()
	p.conn.born = time.Now()
	p.budget = newBudget(cfg.MaxBufferedBytes, p.life.closing)
	p.shedder = newShedder(cfg, p.budget)
	p.promised = p.promise
	static := make([]record.Field, len(cfg.StaticFields))
	for i, f := range cfg.StaticFields {
		static[i] = record.Field(f)
	}
	p.static = record.NewStaticTime(static, cfg.timeKey())
	p.deadlines = newDeadlines(cfg.DeliveryTimeout, p.conn.lastError, p.deadlinePassed)
	p.acct.init(cfg, p.diag)
	if cfg.SpoolDir != "" {
		if p.spool, err = openSpool(cfg); err != nil {
			return nil, invalid(err)
		}
		p.acct.recovered.Store(p.spool.s.Stats().Recovered)
		p.shedder.sp = p.spool.s
	}
	if err := p.initTelemetry(); err != nil {
		p.closeSpool()
		return nil, invalid(fmt.Errorf("producer: register metrics with MeterProvider: %w", err))
	}
	p.cl, err = kgo.NewClient(p.clientOpts(tlsCfg)...)
	if err != nil {
		p.tel.reg.Unregister()
		p.closeSpool()
		return nil, invalid(fmt.Errorf("producer: create Kafka client: %w", err))
	}
	go p.run()
	if p.spool != nil {
		go p.feed()
	}
	return p, nil
}

// Log accepts a record for asynchronous delivery to logstore. It returns an
// error only if the record was not accepted: an invalid argument (a nil or
// done ctx, an invalid logstore name, a field with an empty key:
// ErrInvalid), a record over MaxRecordBytes (ErrRecordTooLarge), no buffer
// space or a record shed for its level (ErrBufferFull), or the producer
// closed (ErrClosed). Delivery failures after acceptance go to
// Config.OnError and Stats. r is encoded before Log returns and is not
// retained: callers may reuse r.Fields.
//
// Under the Block policy Log waits for space at most Config.MaxBlock,
// whatever ctx: then, or when ctx ends first, it returns an error wrapping
// ErrBufferFull (and, if ctx ended, ctx's error).
func (p *Producer) Log(ctx context.Context, logstore string, r Record) error {
	if p == nil {
		return errNilProducer
	}
	return p.accept(ctx, logstore, r, nil, nil)
}

// LogSync is Log, then waits until SLS acknowledges the record or it fails.
// If ctx ends first, LogSync returns an error wrapping ErrDeliveryTimeout
// and ctx's error, and the record stays in flight.
func (p *Producer) LogSync(ctx context.Context, logstore string, r Record) error {
	if p == nil {
		return errNilProducer
	}
	done := make(chan error, 1)
	if err := p.accept(ctx, logstore, r, nil, done); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return p.newError(ErrDeliveryTimeout, logstore, &ackWaitError{ctx.Err()}, false)
	}
}

func init() { objectlog.Log = logObject }

// logObject is Log for a record an adapter of this module encoded as it
// read it (objectlog): zapsls writes each field once, not into a Field and
// then into JSON.
func logObject(p any, ctx context.Context, logstore string, t time.Time, level slog.Level, obj *record.Object) error {
	pr, _ := p.(*Producer)
	if pr == nil {
		return errNilProducer
	}
	return pr.accept(ctx, logstore, Record{Time: t, Level: level}, obj, nil)
}

// ackWaitError is the cause of a LogSync whose context ended before the
// acknowledgement.
type ackWaitError struct{ ctx error }

func (e *ackWaitError) Error() string {
	return "the context ended before SLS acknowledged the record, which stays in flight: " + e.ctx.Error()
}

func (e *ackWaitError) Unwrap() error { return e.ctx }

// accept validates and encodes a record, charges it to the budget and
// hands it over (handOver, pending.go).
func (p *Producer) accept(ctx context.Context, logstore string, r Record, obj *record.Object, done chan error) error {
	if ctx == nil {
		return p.invalid("context", logstore, errors.New("nil context: pass context.Background() or a request's context"))
	}
	if err := ctx.Err(); err != nil {
		return p.invalid("context", logstore, &doneError{err})
	}
	if p.life.closed.Load() {
		return p.closedRefusal(logstore)
	}
	ls, err := p.acct.logstore(logstore)
	if err != nil {
		return p.invalid("logstore", logstore, err)
	}
	for i := range r.Fields {
		if r.Fields[i].Key == "" {
			return p.invalid("field", logstore, fmt.Errorf("field %d has an empty key: SLS stores every field under its key", i))
		}
	}
	if obj != nil && obj.EmptyKey() {
		return p.invalid("field", logstore, errors.New("a field has an empty key: SLS stores every field under its key"))
	}
	if p.shedder.sheds(r.Level) {
		return p.shed(ls, r.Level)
	}

	p.life.mu.RLock()
	defer p.life.mu.RUnlock()
	if p.life.closed.Load() {
		return p.closedRefusal(logstore)
	}
	now := p.clock.now()
	ts := r.Time
	if ts.IsZero() {
		ts = now
	}
	c := claim{static: p.static, time: ts, fields: r.Fields, object: obj, maxRecord: p.cfg.MaxRecordBytes, policy: p.cfg.OnBufferFull, wait: bound{max: p.cfg.MaxBlock}}
	// LogSync waits in memory; with the disk full, so does every record
	// (spool.go).
	spilling := p.spool != nil && done == nil && !p.spool.degraded()
	if spilling {
		if p.spool.s.Waiting() > 0 {
			// Behind the records waiting on disk.
			if err := p.spill(ctx, ls, &c, &c.wait); !errors.Is(err, errNotSpooled) {
				return err
			}
			spilling = false
		} else {
			c.policy = Drop // memory full: to disk instead
		}
	}
	pd, err := p.budget.take(ctx, &c)
	if err != nil && spilling && errors.Is(err, errFull) {
		if err = p.spill(ctx, ls, &c, &c.wait); !errors.Is(err, errNotSpooled) {
			return err
		}
		c.policy = p.cfg.OnBufferFull
		pd, err = p.budget.take(ctx, &c)
	}
	if err != nil {
		return p.notTaken(ls, err)
	}
	if p.spool != nil {
		if pd.spoolID, err = p.spoolWrite(ctx, ls, ts, pd.rec.Value, true, &c.wait); err != nil && !errors.Is(err, errNotSpooled) {
			p.budget.give(pd)
			return err
		}
	}
	pd.done = done
	ls.accepted.Add(1)
	p.handOver(pd, ls, ls.topic, ts, now, now)
	return nil
}

// notTaken turns the budget's refusal into the error Log returns.
func (p *Producer) notTaken(ls *logstoreState, err error) error {
	var tl *tooLargeError
	switch {
	case errors.As(err, &tl):
		ls.tooLarge.Add(1)
		return p.newError(ErrRecordTooLarge, ls.name, err, false)
	case errors.Is(err, errWaitClosed):
		return p.newError(ErrClosed, ls.name, nil, false)
	case errors.Is(err, errFull):
		return p.full(ls, errDropPolicy)
	case errors.Is(err, errBlocked):
		return p.full(ls, &blockedError{what: "buffer", waited: p.cfg.MaxBlock})
	}
	return p.full(ls, &blockedError{what: "buffer", ctx: err})
}

// full counts a record refused for want of space and reports it, once per
// diagnostic interval: the caller learns from the error, the operator
// from the line.
func (p *Producer) full(ls *logstoreState, cause error) error {
	ls.bufferFull.Add(1)
	e := p.newError(ErrBufferFull, ls.name, cause, false)
	p.diag.warn("buffer full", "records dropped: no buffer space", "logstore", ls.name, "err", e)
	return e
}

// errDropPolicy is the cause of a record refused under the Drop policy.
var errDropPolicy = errors.New("OnBufferFull is Drop: raise MaxBufferedBytes, or use Block to wait up to MaxBlock")

// blockedError is the cause of a record refused after waiting for space:
// for MaxBlock, or until its context ended.
type blockedError struct {
	what   string // "buffer" or "spool"
	waited time.Duration
	ctx    error // the context's error, if it ended first
}

func (e *blockedError) Error() string {
	if e.ctx != nil {
		return "the context ended while waiting for " + e.what + " space: " + e.ctx.Error()
	}
	advice := "raise MaxBufferedBytes or MaxBlock, or set SpoolDir"
	if e.what == "spool" {
		advice = "raise MaxSpoolBytes or MaxBlock"
	}
	return fmt.Sprintf("no %s space within MaxBlock (%v): %s", e.what, e.waited, advice)
}

func (e *blockedError) Unwrap() error { return e.ctx }

// invalid refuses a record with an invalid argument (ErrInvalid): counted
// in Stats.Invalid, reported to OnError if set, and said in the logs once
// per diagnostic interval and rule, since the adapters' callers see no
// error. rule keys the diagnostic: one of a few constants, never the
// logstore name, so that a stream of bad names keeps no state.
func (p *Producer) invalid(rule, logstore string, cause error) error {
	p.acct.invalid.Add(1)
	e := p.newError(ErrInvalid, logstore, cause, false)
	p.diag.warn("invalid "+rule, "records refused: invalid "+rule, "logstore", logstore, "err", e)
	if p.cfg.OnError != nil {
		p.acct.reports.add(logstore, e, 1)
	}
	return e
}

// closedRefusal refuses a record logged after Close began, once per
// diagnostic interval in the logs: a logger still in use after Close loses
// what it logs.
func (p *Producer) closedRefusal(logstore string) error {
	e := p.newError(ErrClosed, logstore, nil, false)
	p.diag.warn("closed", "records refused: the producer is closed", "logstore", logstore)
	return e
}

// doneError is the cause of a record Log refused because its context was
// done before the call.
type doneError struct{ ctx error }

func (e *doneError) Error() string {
	return "the context was done before the call: " + e.ctx.Error()
}

func (e *doneError) Unwrap() error { return e.ctx }
