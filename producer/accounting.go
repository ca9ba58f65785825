package producer

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/slskafka/slskafka/endpoint"
)

// Stats is a snapshot of the producer's counters since New. At any quiet
// moment Accepted + Recovered = Delivered + Failed + Unconfirmed +
// BufferedRecords, and every record offered to Log and LogSync before
// Close is in Accepted, Dropped, Shed, TooLarge or Invalid.
type Stats struct {
	// Accepted counts records Log and LogSync accepted.
	Accepted int64
	// Delivered counts records SLS acknowledged.
	Delivered int64
	// Failed counts accepted records known not to be stored: SLS refused
	// them, or they were never sent. Each was reported to OnError.
	Failed int64
	// Unconfirmed counts accepted records that were sent but never
	// acknowledged (the connection ended, the deadline passed, Close
	// gave up while the acknowledgement was due): SLS may have stored
	// them. Each was reported to OnError with Failure.Unconfirmed set.
	Unconfirmed int64
	// Dropped counts records refused with ErrBufferFull for want of space
	// (under Drop, after MaxBlock under Block, or when Log's context ended
	// while it waited), except those shed (Shed).
	Dropped int64
	// TooLarge counts records refused with ErrRecordTooLarge.
	TooLarge int64
	// BufferedRecords counts the records accepted (or recovered) and not
	// yet acknowledged or failed, in memory or in the spool; after Close,
	// those a spool keeps for the next producer. BufferedBytes counts the
	// encoded bytes of those in memory (MaxBufferedBytes bounds the memory
	// they hold, bookkeeping included).
	BufferedRecords, BufferedBytes int64
	// SpooledRecords and SpooledBytes are the records on disk not yet
	// acknowledged, and the disk they take (with a spool).
	SpooledRecords, SpooledBytes int64
	// Recovered counts the records New found in the spool, left by a
	// previous producer on the directory.
	Recovered int64
	// AuthFailures counts refusals of the credential: at SASL, or on a
	// metadata or produce request (TOPIC_AUTHORIZATION_FAILED, how SLS
	// documents a wrong AccessKey or one without write permission).
	AuthFailures int64
	// CredentialFailures counts failed credential fetches.
	CredentialFailures int64
	// ConnectionsRetired counts connections replaced because their
	// credential was about to expire (or MaxConnectionAge passed).
	ConnectionsRetired int64
	// CredentialRotations counts connections that authenticated with a
	// different credential than the connection before them.
	CredentialRotations int64
	// PartitionRetries counts retriable partition errors SLS answered
	// (NetworkException, KafkaStorageException), each retried after
	// RetryBackoff.
	PartitionRetries int64
	// MaxDeliveryLatency is the longest time from Log to acknowledgement.
	// A record that waited in the spool counts from its Record.Time, which
	// is when Log accepted it unless the caller set it.
	MaxDeliveryLatency time.Duration
	// SpoolDegraded: the spool's disk has no room for another segment
	// (or creating one failed). Log keeps records in memory only, under
	// the memory rules (MaxBufferedBytes, OnBufferFull), until it has;
	// Config.Logger was told once, with the directory and the free space.
	SpoolDegraded bool
	// SpoolLost counts the records New found lost to damage in the spool
	// (a garbled or truncated segment file), and recovered records dropped
	// for a topic that names no logstore: with Recovered, what the
	// previous producer on the directory left undelivered. Config.Logger
	// was told, with the files and the counts.
	SpoolLost int64
	// Shed counts records refused by level-aware shedding
	// (Config.ShedLevel), with an error wrapping ErrBufferFull; they are
	// not in Dropped. Every record offered to Log is in one of Accepted,
	// Shed, Dropped, TooLarge and Invalid, or was refused because the
	// producer was closed (ErrClosed).
	Shed int64
	// Invalid counts records Log and LogSync refused with ErrInvalid: a
	// nil or done context, an invalid logstore name, a field with an empty
	// key. Each is also reported to OnError (a Failure whose Err wraps
	// ErrInvalid; not counted in Failed), and the first of each rule is
	// logged to Logger (then once per ten RetryBackoffs while it lasts),
	// naming the logstore and the rule: an adapter built with a bad
	// logstore name is seen at once.
	Invalid int64
}

// accounting keeps what happened to records, per logstore, and reports
// failures.
type accounting struct {
	format    Format
	topics    sync.Map                      // logstore name -> *logstoreState, for validated logstores
	lastTopic atomic.Pointer[logstoreState] // the last one looked up
	reports   *reporter
	attrs     attribute.KeyValue // sls.project

	recovered atomic.Int64 // records found in the spool at New
	invalid   atomic.Int64 // records refused as invalid (ErrInvalid)

	authFailures, credentialFailures, retired atomic.Int64
	partitionRetries, rotations               atomic.Int64
	maxLatency                                atomic.Int64
}

// credentialFailed counts a credential the provider could not give and
// returns the cause a connection attempt fails with.
func (a *accounting) credentialFailed(err error) error {
	a.credentialFailures.Add(1)
	return &errCredential{err}
}

// connectionRetired counts a connection retired before its credential
// expired or at MaxConnectionAge (kconn.Dialer.OnRetire).
func (a *accounting) connectionRetired() { a.retired.Add(1) }

// logstoreState is what the producer keeps per logstore it has seen.
type logstoreState struct {
	name  string
	topic string
	attrs attribute.Set
	rec   []metric.RecordOption // attrs, prebuilt for the histogram

	// The counters sit on cache lines of their own: the promise reads the
	// fields above on every delivery, and callers' and promise's writes
	// on one line made every record move it between cores twice.
	_ [64]byte
	// Counted by Log's callers.
	accepted, acceptedBytes, bufferFull, tooLarge atomic.Int64
	shed                                          [len(levelBuckets)]atomic.Int64
	_                                             [64]byte
	// Counted by the promise; a record is finished once delivered or
	// failed (either kind). acceptedBytes and finishedBytes count bytes
	// coming into and leaving memory (a spooled record may come and go
	// more than once).
	delivered, finishedBytes atomic.Int64
	// failures by kind (kinds index) and whether they were unconfirmed.
	failures [len(kinds)][2]atomic.Int64
}

func (a *accounting) init(cfg Config, d *diag) {
	a.format = cfg.Format
	a.attrs = attribute.String("sls.project", cfg.Project)
	a.reports = newReporter(cfg.OnError, d)
}

// logstore returns the state of a logstore, validating the name the first
// time it is seen.
func (a *accounting) logstore(name string) (*logstoreState, error) {
	if ls := a.lastTopic.Load(); ls != nil && ls.name == name {
		return ls, nil // most producers log to one logstore
	}
	if v, ok := a.topics.Load(name); ok {
		ls := v.(*logstoreState)
		a.lastTopic.Store(ls)
		return ls, nil
	}
	if err := endpoint.ValidateLogstore(name); err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	topic := name
	if a.format == Expanded {
		topic += ".json"
	}
	v, _ := a.topics.LoadOrStore(name, a.newLogstoreState(name, topic))
	return v.(*logstoreState), nil
}

// newLogstoreState prepares the per-logstore counters and attributes.
func (a *accounting) newLogstoreState(logstore, topic string) *logstoreState {
	ls := &logstoreState{name: logstore, topic: topic}
	ls.attrs = attribute.NewSet(a.attrs, attribute.String("sls.logstore", logstore))
	ls.rec = []metric.RecordOption{metric.WithAttributeSet(ls.attrs)}
	return ls
}

// each calls f for every logstore seen.
func (a *accounting) each(f func(*logstoreState)) {
	a.topics.Range(func(_, v any) bool {
		f(v.(*logstoreState))
		return true
	})
}

// failed counts and reports a record that will not be delivered.
func (a *accounting) failed(ls *logstoreState, e *Error) { a.failedN(ls, e, 1) }

// failedN counts and reports n records that failed alike.
func (a *accounting) failedN(ls *logstoreState, e *Error, n int64) {
	u := 0
	if e.Unconfirmed {
		u = 1
	}
	ls.failures[kindIndex(e.Kind)][u].Add(n)
	a.reports.add(ls.name, e, n)
}

func (a *accounting) observeLatency(d time.Duration) { storeMax(&a.maxLatency, int64(d)) }

// close reports what is pending and stops the report timer.
func (a *accounting) close() { a.reports.close() }

// storeMax raises v to at least n.
func storeMax(v *atomic.Int64, n int64) {
	for {
		cur := v.Load()
		if n <= cur || v.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Stats returns the current counters.
func (p *Producer) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	a := &p.acct
	// Finished records are read before accepted ones so that the
	// buffered counts are never negative.
	var st Stats
	var finished, finishedBytes, acceptedBytes int64
	a.each(func(ls *logstoreState) {
		finishedBytes += ls.finishedBytes.Load()
		delivered := ls.delivered.Load()
		st.Delivered += delivered
		finished += delivered
		st.Dropped += ls.bufferFull.Load()
		st.TooLarge += ls.tooLarge.Load()
		for i := range ls.shed {
			st.Shed += ls.shed[i].Load()
		}
		for k := range ls.failures {
			failed, unconfirmed := ls.failures[k][0].Load(), ls.failures[k][1].Load()
			st.Failed += failed
			st.Unconfirmed += unconfirmed
			finished += failed + unconfirmed
		}
	})
	a.each(func(ls *logstoreState) {
		st.Accepted += ls.accepted.Load()
		acceptedBytes += ls.acceptedBytes.Load()
	})
	st.Recovered = a.recovered.Load()
	st.Invalid = a.invalid.Load()
	st.BufferedRecords = st.Accepted + st.Recovered - finished
	st.BufferedBytes = acceptedBytes - finishedBytes
	st.AuthFailures = a.authFailures.Load()
	st.CredentialFailures = a.credentialFailures.Load()
	st.ConnectionsRetired = a.retired.Load()
	st.PartitionRetries = a.partitionRetries.Load()
	st.CredentialRotations = a.rotations.Load()
	st.MaxDeliveryLatency = time.Duration(a.maxLatency.Load())
	if p.spool != nil {
		ss := p.spool.s.Stats()
		st.SpooledRecords, st.SpooledBytes = ss.Records, ss.Bytes
		st.SpoolDegraded = ss.Degraded
		st.SpoolLost = ss.Lost + p.spool.badTopic.Load()
	}
	return st
}

// coalesce is how long failures are gathered before they are reported, so
// that a failed batch of a thousand records is one report, not a thousand.
const coalesce = 100 * time.Millisecond

// reporter gathers delivery failures by logstore, kind and whether they
// are unconfirmed, and reports them to OnError (or the logger) at most
// every coalesce interval.
type reporter struct {
	onError func(Failure)
	diag    *diag

	mu      sync.Mutex
	pending map[failureKey]*Failure
	order   []failureKey
	timer   *time.Timer
	seq     int64 // failures added so far
	last    error // the latest failure
	closed  bool

	reportMu sync.Mutex // serializes OnError calls
}

// failureKey is what failures are gathered by: records of one logstore
// that failed with one kind, confirmed or not, are one Failure.
type failureKey struct {
	logstore    string
	kind        error
	unconfirmed bool
}

func newReporter(onError func(Failure), d *diag) *reporter {
	return &reporter{onError: onError, diag: d, pending: make(map[failureKey]*Failure)}
}

// add gathers n records that failed with e.
func (r *reporter) add(logstore string, e *Error, n int64) {
	key := failureKey{logstore, e.Kind, e.Unconfirmed}
	r.mu.Lock()
	r.seq += n
	r.last = e
	if f, ok := r.pending[key]; ok {
		f.Records += int(n)
		f.Err = e // the latest says most about now
	} else {
		r.pending[key] = &Failure{Logstore: logstore, Records: int(n), Err: e, Unconfirmed: e.Unconfirmed}
		r.order = append(r.order, key)
	}
	if r.timer == nil && !r.closed {
		r.timer = time.AfterFunc(coalesce, r.report)
	}
	r.mu.Unlock()
}

// report delivers what is pending now.
func (r *reporter) report() {
	r.reportMu.Lock()
	defer r.reportMu.Unlock()
	r.mu.Lock()
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	out := make([]Failure, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, *r.pending[k])
	}
	clear(r.pending)
	r.order = r.order[:0]
	r.mu.Unlock()
	for _, f := range out {
		if r.onError != nil {
			r.onError(f)
		} else if f.Unconfirmed {
			r.diag.error("records sent but not acknowledged: SLS may have stored them", "logstore", f.Logstore, "records", f.Records, "err", f.Err)
		} else {
			r.diag.error("records not delivered", "logstore", f.Logstore, "records", f.Records, "err", f.Err)
		}
	}
}

// mark returns the failure count so far, for since.
func (r *reporter) mark() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// since returns how many failures happened after mark, and the latest.
func (r *reporter) since(mark int64) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq - mark, r.last
}

// close reports what is pending and stops the timer.
func (r *reporter) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.report()
}
