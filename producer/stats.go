package producer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the producer's counters since New.
type Stats struct {
	// Accepted counts records Log and LogSync accepted.
	Accepted int64
	// Delivered counts records SLS acknowledged.
	Delivered int64
	// Failed counts accepted records that will not be delivered; each was
	// reported to OnError.
	Failed int64
	// Dropped counts records refused with ErrBufferFull.
	Dropped int64
	// TooLarge counts records refused with ErrRecordTooLarge.
	TooLarge int64
	// BufferedRecords and BufferedBytes are what is accepted and not yet
	// acknowledged or failed.
	BufferedRecords, BufferedBytes int64
	// AuthFailures counts connections whose credential SLS refused.
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
	MaxDeliveryLatency time.Duration
}

// Stats returns the current counters.
func (p *Producer) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	s := &p.stats
	// The record counts are kept once, per logstore, and summed here;
	// finished records are read before accepted ones so that the buffered
	// counts are never negative.
	var st Stats
	p.failed.mu.Lock()
	for _, n := range p.failed.n {
		st.Failed += n
	}
	p.failed.mu.Unlock()
	var finished, finishedBytes, acceptedBytes int64
	p.topics.Range(func(_, v any) bool {
		ls := v.(*logstoreState)
		finishedBytes += ls.finishedBytes.Load()
		finished += ls.finished.Load()
		st.Delivered += ls.delivered.Load()
		st.Dropped += ls.bufferFull.Load()
		st.TooLarge += ls.tooLarge.Load()
		return true
	})
	p.topics.Range(func(_, v any) bool {
		ls := v.(*logstoreState)
		st.Accepted += ls.accepted.Load()
		acceptedBytes += ls.acceptedBytes.Load()
		return true
	})
	st.BufferedRecords = st.Accepted - finished
	st.BufferedBytes = acceptedBytes - finishedBytes
	st.AuthFailures = s.authFailures.Load()
	st.CredentialFailures = s.credentialFailures.Load()
	st.ConnectionsRetired = s.retired.Load()
	st.PartitionRetries = s.partitionRetries.Load()
	st.CredentialRotations = s.rotations.Load()
	st.MaxDeliveryLatency = time.Duration(s.maxLatency.Load())
	return st
}

// counters are the producer-wide counters; record counts live per logstore
// (logstoreState) and Stats sums them.
type counters struct {
	authFailures, credentialFailures, retired atomic.Int64
	partitionRetries, rotations               atomic.Int64
	maxLatency                                atomic.Int64
}

func (c *counters) observeLatency(d time.Duration) {
	for {
		cur := c.maxLatency.Load()
		if int64(d) <= cur || c.maxLatency.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// logger is the SDK's diagnostics logger. It never ships to SLS through the
// producer that owns it (Config.Logger documents that), so a failing
// endpoint cannot feed itself more logs.
type logger struct{ l *slog.Logger }

func (l logger) warn(msg string, args ...any) {
	l.l.Log(context.Background(), slog.LevelWarn, "slskafka: "+msg, args...)
}

func (l logger) error(msg string, args ...any) {
	l.l.Log(context.Background(), slog.LevelError, "slskafka: "+msg, args...)
}

// coalesce is how long failures are gathered before they are reported, so
// that a failed batch of a thousand records is one report, not a thousand.
const coalesce = 100 * time.Millisecond

// reporter gathers delivery failures by logstore and kind and reports them
// to OnError (or the logger) at most every coalesce interval.
type reporter struct {
	onError func(Failure)
	log     logger

	mu      sync.Mutex
	pending map[failureKey]*Failure
	order   []failureKey
	timer   *time.Timer
	seq     int64 // failures added so far
	last    error // the latest failure
	closed  bool

	reportMu sync.Mutex // serializes OnError calls
}

type failureKey struct {
	logstore string
	kind     error
}

func newReporter(cfg Config, log logger) *reporter {
	return &reporter{onError: cfg.OnError, log: log, pending: make(map[failureKey]*Failure)}
}

func (r *reporter) add(logstore string, err error) {
	var e *Error
	var kind error
	if errors.As(err, &e) {
		kind = e.Kind
	}
	key := failureKey{logstore, kind}
	r.mu.Lock()
	r.seq++
	r.last = err
	if f, ok := r.pending[key]; ok {
		f.Records++
	} else {
		r.pending[key] = &Failure{Logstore: logstore, Records: 1, Err: err}
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
		} else {
			r.log.error("records not delivered", "logstore", f.Logstore, "records", f.Records, "err", f.Err)
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
