package producer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sync/semaphore"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/internal/kconn"
	"github.com/slskafka/slskafka/internal/record"
)

// Record is one log record.
type Record struct {
	// Time is the log time; the zero Time means now.
	Time time.Time
	// Fields are the record's key/value pairs, in order. On duplicate keys
	// the last one wins.
	Fields []Field
}

// Field is one key/value pair of a Record.
type Field struct{ Key, Value string }

// Producer ships records to SLS. It is safe for concurrent use. Create it
// with New and Close it when done; Close delivers what is buffered.
type Producer struct {
	cfg       Config
	cl        *kgo.Client
	creds     auth.Provider
	static    *record.Static
	buf       *semaphore.Weighted
	chunks    chunks                        // where records are encoded; see arena.go
	topics    sync.Map                      // logstore name -> *logstoreState, for validated logstores
	lastTopic atomic.Pointer[logstoreState] // the last one looked up
	handoff   *handoff                      // Log's queue to franz-go
	tel       telemetry
	failed    failureCounts

	// scopes gives each record the context that carries its deadlines
	// (authentication, delivery timeout); see scopes.go.
	scopes  *scopes
	lastErr atomic.Pointer[error] // latest transport error, for timeout messages

	// mu is held for reading by Log while it hands a record over, and for
	// writing by Close to wait for those hand-overs to finish.
	mu          sync.RWMutex
	closed      atomic.Bool
	closeCtx    context.Context // done when Close starts waking blocked Logs
	closeCancel context.CancelFunc
	closeOnce   sync.Once
	closeDone   chan struct{}
	closeErr    error

	lastCred atomic.Pointer[[sha256.Size]byte] // digest of the last credential's id#token, for rotation counting
	// drained is closed when, after Close stopped accepting records,
	// every promise has run; draining tells the promise to check.
	drained   chan struct{}
	draining  atomic.Bool
	drainOnce sync.Once
	stats     counters
	failures  *reporter
	log       logger
	promised  func(*kgo.Record, error) // p.promise, bound once: a method value allocates
	born      time.Time                // the clock records' acceptance times count from
	dialer    *kconn.Dialer            // its LastResponse is when acknowledgements arrive
}

// pending is a record handed to franz-go. It is its own kgo.Record.Context,
// which is how the promise finds it again without an allocation; the
// embedded context is the record's scope (see scopes).
//
// It is allocated for every record, so it is kept small (208 bytes): the
// value lives only in rec.Value, the acceptance time is a monotonic offset.
type pending struct {
	context.Context
	rec      kgo.Record
	chunk    *chunk // where rec.Value lives, for the refund (see arena.go)
	ls       *logstoreState
	accepted time.Duration // since Producer.born
	done     chan error    // LogSync only

	// A Flush marker in the handoff queue has no logstore; its done is
	// closed when the marker is reached.
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
var errNilProducer = errors.New("producer: nil *Producer: create one with producer.New")

// New returns a producer. It validates cfg and does not touch the network:
// use Ping to check the endpoint, credentials and logstore.
func New(cfg Config) (*Producer, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	p := &Producer{
		cfg:       cfg,
		creds:     auth.Caching(cfg.Credentials),
		buf:       semaphore.NewWeighted(int64(cfg.MaxBufferedBytes)),
		closeDone: make(chan struct{}),
		drained:   make(chan struct{}),
		handoff:   newHandoff(),
		log:       logger{cfg.Logger},
		born:      time.Now(),
		chunks:    newChunks(cfg.MaxBufferedBytes),
	}
	p.closeCtx, p.closeCancel = context.WithCancel(context.Background())
	p.promised = p.promise
	static := make([]record.Field, len(cfg.StaticFields))
	for i, f := range cfg.StaticFields {
		static[i] = record.Field(f)
	}
	p.static = record.NewStatic(static)
	p.scopes = newScopes(cfg.DeliveryTimeout, p.lastError)
	p.failures = newReporter(cfg, p.log)
	if err := p.initTelemetry(); err != nil {
		return nil, fmt.Errorf("producer: register metrics: %w", err)
	}
	p.cl, err = kgo.NewClient(p.clientOpts(tlsCfg)...)
	if err != nil {
		p.tel.reg.Unregister()
		return nil, fmt.Errorf("producer: create Kafka client: %w", err)
	}
	go p.run()
	return p, nil
}

// authFailed fails every buffered record with ErrAuth. SLS answers a wrong
// AccessKey with a SASL failure, which Kafka clients otherwise retry until
// their delivery timeout.
func (p *Producer) authFailed(err error) {
	p.stats.authFailures.Add(1)
	p.log.warn("SLS refused the credential", "project", p.cfg.Project, "err", err)
	p.scopes.authFailed(err)
}

// noteError remembers a transport error for delivery-timeout messages.
func (p *Producer) noteError(err error) { p.lastErr.Store(&err) }

func (p *Producer) lastError() error {
	if e := p.lastErr.Load(); e != nil {
		return *e
	}
	return nil
}

func (p *Producer) credentialFailed(err error) {
	p.stats.credentialFailures.Add(1)
	p.log.warn("cannot get a credential", "project", p.cfg.Project, "err", err)
}

// logstore returns the state of a logstore, validating the name the first
// time it is seen.
func (p *Producer) logstore(name string) (*logstoreState, error) {
	if ls := p.lastTopic.Load(); ls != nil && ls.name == name {
		return ls, nil // most producers log to one logstore
	}
	if v, ok := p.topics.Load(name); ok {
		ls := v.(*logstoreState)
		p.lastTopic.Store(ls)
		return ls, nil
	}
	if err := endpoint.ValidateLogstore(name); err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	topic := name
	if p.cfg.Format == Expanded {
		topic += ".json"
	}
	v, _ := p.topics.LoadOrStore(name, p.newLogstoreState(name, topic))
	return v.(*logstoreState), nil
}

// Log accepts a record for asynchronous delivery to logstore. It returns an
// error only if the record was not accepted: invalid logstore name, record
// over MaxRecordBytes (ErrRecordTooLarge), buffer full under the Drop policy
// (ErrBufferFull), ctx done while waiting for buffer space, or the producer
// closed (ErrClosed). Delivery failures after acceptance go to
// Config.OnError and Stats. r is encoded before Log returns and is not
// retained: callers may reuse r.Fields.
func (p *Producer) Log(ctx context.Context, logstore string, r Record) error {
	if p == nil {
		return errNilProducer
	}
	return p.accept(ctx, logstore, r, nil)
}

// LogSync is Log, then waits until SLS acknowledges the record or it fails.
// If ctx ends first, LogSync returns ctx's error and the record stays in
// flight.
func (p *Producer) LogSync(ctx context.Context, logstore string, r Record) error {
	if p == nil {
		return errNilProducer
	}
	done := make(chan error, 1)
	if err := p.accept(ctx, logstore, r, done); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("producer: waiting for acknowledgement: %w", ctx.Err())
	}
}

// accept validates and encodes a record, reserves buffer space and queues
// it for franz-go (handoff.go).
func (p *Producer) accept(ctx context.Context, logstore string, r Record, done chan error) error {
	if ctx == nil {
		return errors.New("producer: nil context")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	if p.closed.Load() {
		return &Error{Kind: ErrClosed, Project: p.cfg.Project, Logstore: logstore}
	}
	ls, err := p.logstore(logstore)
	if err != nil {
		return err
	}

	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
		return &Error{Kind: ErrClosed, Project: p.cfg.Project, Logstore: logstore}
	}
	enc, err := p.encode(ctx, ls, r)
	if err != nil {
		return err
	}

	// A pending is never reused: franz-go may still read a record's
	// Context (it cancels requests with it) after the record's promise
	// ran.
	pd := &pending{chunk: enc.chunk}
	now := time.Now()
	ts := r.Time
	if ts.IsZero() {
		ts = now
	}
	pd.Context = p.scopes.get(now)
	pd.rec = kgo.Record{Topic: ls.topic, Value: enc.value, Timestamp: ts, Context: pd}
	pd.ls = ls
	pd.accepted = now.Sub(p.born)
	pd.done = done
	ls.accepted.Add(1)
	ls.acceptedBytes.Add(int64(len(enc.value)))
	// Queued while Close waits for hand-overs (p.mu): everything accepted
	// is queued before Close flushes, so push cannot fail; if it did, the
	// record is failed like any other left behind at Close.
	if !p.handoff.push(pd) {
		p.promise(&pd.rec, kgo.ErrClientClosed)
	}
	return nil
}

// waitForSpace applies the buffer-full policy.
func (p *Producer) waitForSpace(ctx context.Context, ls *logstoreState, size int64) error {
	logstore := ls.name
	if p.cfg.OnBufferFull == Drop {
		ls.bufferFull.Add(1)
		return &Error{Kind: ErrBufferFull, Project: p.cfg.Project, Logstore: logstore}
	}
	// Close wakes blocked callers: a closing producer accepts nothing.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(p.closeCtx, cancel)
	defer stop()
	if err := p.buf.Acquire(wctx, size); err != nil {
		if p.closeCtx.Err() != nil {
			return &Error{Kind: ErrClosed, Project: p.cfg.Project, Logstore: logstore}
		}
		return fmt.Errorf("producer: waiting for buffer space: %w", ctx.Err())
	}
	return nil
}

// promise is franz-go's completion callback for every record (and Close's,
// for records it finds still queued). franz-go calls promises serially, so
// this must not block; it is also safe concurrently.
func (p *Producer) promise(r *kgo.Record, err error) {
	pd := r.Context.(*pending)
	p.finish(pd.chunk, r.Value)
	if err == nil {
		latency := p.dialer.LastResponse() - pd.accepted
		pd.ls.delivered.Add(1)
		p.stats.observeLatency(latency)
		p.tel.observeDelivery(pd.ls, latency)
	} else {
		if errors.Is(err, context.Canceled) {
			if cause := context.Cause(pd.Context); cause != nil {
				err = cause
			}
		}
		kind := classify(err)
		err = &Error{Kind: kind, Project: p.cfg.Project, Logstore: pd.ls.name, Err: err}
		p.failed.add(pd.ls.name, kind)
		p.failures.add(pd.ls.name, err)
	}
	// Counted before LogSync's caller is told, so that its Stats no
	// longer show the record as buffered.
	pd.ls.finishedBytes.Add(int64(len(r.Value)))
	pd.ls.finished.Add(1)
	if pd.done != nil {
		pd.done <- err
	}
	if p.draining.Load() {
		p.checkDrained()
	}
}

// checkDrained closes drained once every accepted record is finished. Both
// the promise (after counting its record) and Close (after setting
// draining) check, so whichever comes last sees the counts match.
func (p *Producer) checkDrained() {
	if p.buffered() == 0 {
		p.drainOnce.Do(func() { close(p.drained) })
	}
}

// buffered is the number of records accepted and not finished; finished
// counts are read first, so it is never negative.
func (p *Producer) buffered() int64 {
	var n int64
	p.topics.Range(func(_, v any) bool {
		n -= v.(*logstoreState).finished.Load()
		return true
	})
	p.topics.Range(func(_, v any) bool {
		n += v.(*logstoreState).accepted.Load()
		return true
	})
	return n
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
		return errors.New("producer: nil context")
	}
	ctx, span := p.tel.span(ctx, "slskafka.flush")
	defer span.End()
	mark := p.failures.mark()
	err := p.handoff.flush(ctx)
	if err == nil {
		err = p.cl.Flush(ctx)
	}
	p.failures.report()
	if err != nil {
		return fmt.Errorf("producer: flush: %w", err)
	}
	if n, first := p.failures.since(mark); n > 0 {
		return fmt.Errorf("producer: flush: %d records failed: %w", n, first)
	}
	return nil
}

// Close stops accepting records, delivers what is buffered (bounded by ctx)
// and closes the connections. Records still buffered when ctx ends fail with
// ErrClosed and are reported to OnError. Close returns the Flush result; it
// is safe to call more than once and concurrently, later calls return nil.
func (p *Producer) Close(ctx context.Context) error {
	if p == nil {
		return errNilProducer
	}
	if ctx == nil {
		return errors.New("producer: nil context")
	}
	first := false
	p.closeOnce.Do(func() {
		first = true
		p.closed.Store(true)
		p.closeCancel() // wake Logs blocked on buffer space
		p.mu.Lock()     // wait for hand-overs in progress
		p.mu.Unlock()
		p.closeErr = p.Flush(ctx)
		left := p.handoff.stop()
		p.cl.Close() // fails what is still buffered with ErrClientClosed
		p.failQueued(left)
		p.draining.Store(true)
		p.checkDrained()
		<-p.drained // every promise has run: nothing unreported
		p.scopes.close()
		p.failures.close()
		// The metrics callback stays registered: the final counts must
		// reach the provider's last export, which usually comes after
		// Close.
		close(p.closeDone)
	})
	if !first {
		select {
		case <-p.closeDone:
		case <-ctx.Done():
		}
		return nil
	}
	return p.closeErr
}

// Ping checks that the endpoint is reachable, the credential is accepted and
// the logstore exists. It returns an *Error wrapping ErrAuth,
// ErrLogstoreNotFound or ErrTLS with a hint, or another error for network
// problems.
func (p *Producer) Ping(ctx context.Context, logstore string) error {
	if p == nil {
		return errNilProducer
	}
	if ctx == nil {
		return errors.New("producer: nil context")
	}
	if p.closed.Load() {
		return &Error{Kind: ErrClosed, Project: p.cfg.Project, Logstore: logstore}
	}
	if err := endpoint.ValidateLogstore(logstore); err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	ctx, span := p.tel.span(ctx, "slskafka.ping")
	defer span.End()
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(logstore)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, p.cl)
	if err != nil {
		kind := classify(err)
		if kind == nil && ctx.Err() != nil {
			return fmt.Errorf("producer: ping %s: %w", p.cfg.Endpoint, err)
		}
		return &Error{Kind: kind, Project: p.cfg.Project, Logstore: logstore, Err: err}
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return &Error{Kind: classify(err), Project: p.cfg.Project, Logstore: logstore, Err: err}
		}
	}
	return nil
}
