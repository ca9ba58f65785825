package producer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/plugin/kslog"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/internal/kconn"
)

// batchOverhead is room for the v2 batch header and one record's framing on
// top of MaxRecordBytes, so that a record of exactly MaxRecordBytes still
// fits in a batch of its own.
const batchOverhead = 1024

// tlsConfig builds the client TLS configuration: the user's, or the system
// roots (or CAFile) with TLS 1.2 as the floor.
func tlsConfig(c Config) (*tls.Config, error) {
	cfg := c.TLS.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if c.CAFile != "" && cfg.RootCAs == nil {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("producer: read CAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("producer: CAFile %q holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// connectionDeadline is when a connection dialed now with cred retires.
func connectionDeadline(now time.Time, cred auth.Credential, c Config) time.Time {
	maxAge := c.MaxConnectionAge
	if cred.SecurityToken != "" && cred.Expiration.IsZero() && (maxAge == 0 || maxAge > DefaultSTSConnectionAge) {
		// An STS credential whose expiry the source does not report
		// (credentials-go keeps it private): the chain renews such
		// credentials at least 3 minutes before they expire and the
		// cache re-reads it every minute, so a connection younger than
		// a minute is safe.
		maxAge = DefaultSTSConnectionAge
	}
	return retireAt(now, cred.Expiration, c.RotateBefore, maxAge)
}

// retireAt decides when a connection dialed now, authenticated with a
// credential expiring at exp, stops taking requests.
func retireAt(now, exp time.Time, rotateBefore, maxAge time.Duration) time.Time {
	var at time.Time
	if !exp.IsZero() {
		left := exp.Sub(now)
		at = now.Add(left - min(rotateBefore, left/4))
	}
	if maxAge > 0 {
		if byAge := now.Add(maxAge); at.IsZero() || byAge.Before(at) {
			at = byAge
		}
	}
	return at
}

// clientOpts wires franz-go the way the SLS endpoint needs it.
func (p *Producer) clientOpts(tlsCfg *tls.Config) []kgo.Opt {
	c := p.cfg
	dialer := &kconn.Dialer{
		TLS:      tlsCfg,
		NetDial:  c.DialContext,
		Frames:   p.ledger,
		RetireAt: p.retireAt,
		OnRetire: p.acct.connectionRetired,
	}
	p.ledger.OnPartitionError = p.partitionError
	sasl := plain.Plain(p.saslAuth)

	compression := p.compressionOpt()

	return []kgo.Opt{
		kgo.SeedBrokers(c.Endpoint.String()),
		kgo.ClientID(c.ClientID),
		kgo.Dialer(dialer.DialContext),
		kgo.SASL(sasl),
		// SLS speaks Kafka 2.1: no flexible versions, no KIP-368
		// re-authentication, no idempotence or transactions.
		kgo.MaxVersions(kversion.V2_1_0()),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
		// Load balancing over every shard.
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		compression,
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchMaxBytes(int32(c.MaxRecordBytes + batchOverhead)),
		// The producer bounds memory itself (so Log can block or drop
		// synchronously); franz-go holds a share of it, and the rest waits
		// in the hand-off queue, where each record's deadline is its own
		// (handoff.go).
		kgo.MaxBufferedBytes(franzBytes(c)),
		kgo.MaxBufferedRecords(franzRecords),
		kgo.MaxProduceRequestsInflightPerBroker(c.MaxInflight),
		// DeliveryTimeout is enforced by the producer (deadline.go), from
		// acceptance: franz-go's RecordDeliveryTimeout counts from the
		// record timestamp, which is the log time.
		// "Wait 1 s and retry" is SLS's rule for partition errors
		// (NetworkException, KafkaStorageException), which franz-go
		// retries after the next metadata update. It spaces that update
		// by MetadataMinAge from the previous one, not from the error, so
		// the first retry after a calm spell can come early, and the
		// others RetryBackoff apart (measured: 4 errors in a row, metadata
		// 2 s old, retries after 11 ms, 1 s, 1 s, 1 s). Request-level
		// retries are another matter (retryBackoff).
		kgo.RetryBackoffFn(retryBackoff(c.RetryBackoff)),
		kgo.MetadataMinAge(min(c.RetryBackoff, c.MetadataMaxAge)),
		kgo.MetadataMaxAge(c.MetadataMaxAge),
		// A missing logstore fails fast instead of after minutes of retries.
		kgo.UnknownTopicRetries(1),
		kgo.WithLogger(kgoLogger{kslog.New(c.Logger), &p.life.closed, p.diag}),
		kgo.WithHooks(append([]kgo.Hook{hooks{p}}, c.Hooks...)...),
	}
}

// saslAuth answers SASL/PLAIN with the project and the credential the
// provider holds now, so that each new connection authenticates with a
// renewed credential.
func (p *Producer) saslAuth(ctx context.Context) (plain.Auth, error) {
	cred, err := p.creds.Credential(ctx)
	if err != nil {
		return plain.Auth{}, p.acct.credentialFailed(err)
	}
	p.noteCredential(cred)
	return plain.Auth{User: p.cfg.Project, Pass: cred.Password()}, nil
}

// firstRetry is how soon franz-go retries a request after the first
// failure in a row.
const firstRetry = 50 * time.Millisecond

// retryBackoff paces franz-go's request-level retries: a request whose
// connection broke, a dial or a metadata request that failed. tries counts
// the failures in a row. The first retry comes after firstRetry, the wait
// doubling up to limit (RetryBackoff). A connection the server closed while
// it was idle is found dead only when a request is written on it: waiting a
// whole RetryBackoff before writing it again on a new connection held every
// shard of that connection back a second per cut, and a few cuts in a row
// (or a cut during a partition error's pause) stalled delivery for seconds
// while the buffer filled. An endpoint that stays down is still paced: the
// waits grow to RetryBackoff, and while it is down records wait in the
// producer, not in franz-go (run, pending.go).
func retryBackoff(limit time.Duration) func(tries int) time.Duration {
	return func(tries int) time.Duration {
		d := firstRetry << min(max(tries-1, 0), 16)
		return min(d, limit)
	}
}

// franzRecords bounds the records franz-go holds. During an outage
// franz-go fails a partition's records together when the oldest one's
// deadline passes and the producer hands the younger ones back; the bound
// keeps that churn small, and is far above what a healthy endpoint keeps
// in flight.
const franzRecords = 32 << 10

// franzBytes bounds the bytes franz-go holds: a quarter of the buffer, and
// at least one largest record with its batch.
func franzBytes(c Config) int { return max(c.MaxBufferedBytes/4, c.MaxRecordBytes+batchOverhead) }
