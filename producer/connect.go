package producer

import (
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/auth"
)

// connState is what the producer learns from its connections: the last
// transport error (for the messages of records that time out), when the
// last response arrived (for delivery latency), which credential
// authenticated last (for counting rotations), and who waits to hear about
// connection failures (Ping).
type connState struct {
	born         time.Time // the clock records' acceptance times count from
	lastErr      atomic.Pointer[error]
	lastResponse atomic.Int64 // since born
	lastCred     atomic.Pointer[[sha256.Size]byte]
	lastToken    atomic.Bool // the last credential carried a security token (for ErrAuth's hint)

	// up is nil while the endpoint is up; while it is down (the last
	// connection attempt failed), a channel closed when it is back. An
	// atomic pointer: every response read and every hand-off round asks.
	up atomic.Pointer[chan struct{}]

	mu       sync.Mutex
	watchers map[*func(kind, err error)]struct{}
}

// upSignal returns nil while the endpoint is up; while it is down, a
// channel closed when it is back.
func (c *connState) upSignal() <-chan struct{} {
	if ch := c.up.Load(); ch != nil {
		return *ch
	}
	return nil
}

func (c *connState) isDown() bool { return c.up.Load() != nil }

func (c *connState) markDown() {
	if c.up.Load() == nil {
		ch := make(chan struct{})
		c.up.CompareAndSwap(nil, &ch)
	}
}

func (c *connState) markUp() {
	if ch := c.up.Load(); ch != nil && c.up.CompareAndSwap(ch, nil) {
		close(*ch)
	}
}

func (c *connState) noteError(err error) { c.lastErr.Store(&err) }

func (c *connState) lastError() error {
	if e := c.lastErr.Load(); e != nil {
		return *e
	}
	return nil
}

// lastResponseAt returns when the latest response arrived, as time since
// born. It is read once per response rather than once per acknowledged
// record, and is set before franz-go handles the response, so a record's
// promise sees at least the time its acknowledgement arrived.
func (c *connState) lastResponseAt() time.Duration { return time.Duration(c.lastResponse.Load()) }

// watch calls f for every connection failure until the returned func is
// called.
func (c *connState) watch(f func(kind, err error)) (stop func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watchers == nil {
		c.watchers = make(map[*func(kind, err error)]struct{})
	}
	c.watchers[&f] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(c.watchers, &f)
		c.mu.Unlock()
	}
}

func (c *connState) notify(kind, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for f := range c.watchers {
		(*f)(kind, err)
	}
}

// noteCredential counts rotations: a connection authenticating with another
// credential than the previous one.
func (p *Producer) noteCredential(cred auth.Credential) {
	// A digest, not the token: the producer keeps no secret of its own.
	id := sha256.Sum256([]byte(cred.AccessKeyID + "#" + cred.SecurityToken))
	p.conn.lastToken.Store(cred.SecurityToken != "")
	if prev := p.conn.lastCred.Swap(&id); prev != nil && *prev != id {
		p.acct.rotations.Add(1)
	}
}

// retireAt is when a connection dialed now stops taking requests
// (kconn.Dialer.RetireAt): before its credential expires, or at
// MaxConnectionAge.
func (p *Producer) retireAt(ctx context.Context) (time.Time, error) {
	cred, err := p.creds.Credential(ctx)
	if err != nil {
		return time.Time{}, p.acct.credentialFailed(err)
	}
	return connectionDeadline(time.Now(), cred, p.cfg), nil
}

// partitionError counts and reports a retriable partition error SLS
// answered a produce request with (ledger.Ledger.OnPartitionError).
func (p *Producer) partitionError(err error) {
	p.acct.partitionRetries.Add(1)
	p.conn.noteError(err)
	p.diag.warn("partition", "SLS asked to retry a shard later (retried at the next metadata refresh, RetryBackoff apart)", "err", err)
}

// hooks are the producer's franz-go hooks.
type hooks struct{ p *Producer }

// OnBrokerConnect sees every connection attempt: the dial, the TLS
// handshake, the credential fetch and SASL.
func (h hooks) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		h.p.connectFailed(err)
	} else {
		h.p.conn.markUp()
	}
}

// OnBrokerRead fires when a response has been read, before franz-go
// handles it.
func (h hooks) OnBrokerRead(_ kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	if err == nil {
		storeMax(&h.p.conn.lastResponse, int64(time.Since(h.p.conn.born)))
		h.p.conn.markUp()
	}
}

// authRefused counts and reports a refused credential: at SASL, or (where
// SLS documents it) on a metadata or produce request answered
// TOPIC_AUTHORIZATION_FAILED.
func (p *Producer) authRefused(err error) {
	p.acct.authFailures.Add(1)
	p.diag.warn("auth", "SLS refused the credential; failing buffered records", "project", p.cfg.Project, "endpoint", p.cfg.Endpoint.String(), "err", err)
}

// connectFailed reports a failed connection attempt once per cause, and
// fails every buffered record at once when the cause will not go away by
// retrying: a refused or unobtainable credential, an untrusted certificate.
// Kafka clients otherwise retry those until the delivery timeout.
func (p *Producer) connectFailed(err error) {
	if isContextErr(err) || errors.Is(err, kgo.ErrClientClosed) {
		return // a cancelled request, or the client closing
	}
	p.conn.noteError(err)
	kind := classify(err)
	// Waiters (Ping, LogSync) are told last, so that what they return to is
	// already counted and its records already failed.
	defer p.conn.notify(kind, err)
	ep := p.cfg.Endpoint.String()
	var credErr *errCredential
	switch {
	case errors.As(err, &credErr):
		p.diag.warn("credential", "cannot get a credential; failing buffered records", "project", p.cfg.Project, "err", err)
		p.deadlines.failAll(err)
	case kind == ErrAuth:
		p.authRefused(err)
		p.deadlines.failAll(err)
	case kind == ErrTLS:
		p.diag.warn("tls", "TLS handshake with the SLS endpoint failed; failing buffered records", "endpoint", ep, "err", err)
		p.deadlines.failAll(err)
	case kind == ErrUnreachable:
		p.conn.markDown()
		p.diag.warn("unreachable", "cannot reach the SLS endpoint; retrying", "endpoint", ep, "err", err)
	default:
		p.conn.markDown()
		p.diag.warn("connect", "connecting to the SLS endpoint failed; retrying", "endpoint", ep, "err", err)
	}
}
