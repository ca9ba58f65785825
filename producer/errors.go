package producer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/endpoint"
)

// Sentinel errors. Every error the producer returns or reports about a
// record, a Ping or a Close wraps exactly one of them; match with errors.Is.
var (
	// ErrAuth: SLS refused the credential, the AccessKey lacks permission
	// on the project or logstore (TopicAuthorizationFailed), or no
	// credential could be obtained. When the refused credential carried an
	// STS security token, the message says that SLS documents only
	// AccessKey pairs for its Kafka endpoint.
	ErrAuth = errors.New("authentication failed")
	// ErrLogstoreNotFound: the project or the logstore (Kafka topic) does
	// not exist, or the endpoint is in another region than the project;
	// SLS answers all three alike (UnknownTopicOrPartition).
	ErrLogstoreNotFound = errors.New("logstore not found")
	// ErrRecordTooLarge: the encoded record exceeds MaxRecordBytes, or SLS
	// refused its batch as too large.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrBufferFull: the record was refused for want of space: the buffer
	// (or the spool) is full and the policy is Drop, or it stayed full for
	// MaxBlock under Block, or the context ended while Log waited (the
	// error wraps the context's error too).
	ErrBufferFull = errors.New("buffer full")
	// ErrClosed: the producer is closed, or Close gave up on the record.
	ErrClosed = errors.New("producer closed")
	// ErrDeliveryTimeout: the record was not acknowledged within
	// DeliveryTimeout; the error also says the last transport error, such
	// as "connection refused" when the endpoint is unreachable. LogSync
	// returns it too when its context ends before the acknowledgement
	// (wrapping the context's error): the record stays in flight.
	ErrDeliveryTimeout = errors.New("delivery timed out")
	// ErrTLS: the server's certificate could not be verified, or the TLS
	// handshake failed.
	ErrTLS = errors.New("TLS handshake failed")
	// ErrUnreachable: the endpoint could not be reached: its host name
	// does not resolve, the connection is refused or times out. Ping
	// returns it; a record that times out while the endpoint is
	// unreachable fails with ErrDeliveryTimeout, whose message says so.
	ErrUnreachable = errors.New("endpoint unreachable")
	// ErrRejected: SLS refused the records for a reason the other
	// sentinels do not name (for example CORRUPT_MESSAGE); the error wraps
	// SLS's. When SLS refused a batch for its compression
	// (UNSUPPORTED_COMPRESSION_TYPE, or CORRUPT_MESSAGE with a codec
	// configured), the message names the codec and suggests gzip.
	ErrRejected = errors.New("rejected by SLS")
	// ErrInvalid: an argument is invalid, and nothing was sent: a nil
	// *Producer, a nil context or one already done, an invalid logstore or
	// project name, a field with an empty key, an invalid Config (from
	// New). Records refused so are counted in Stats.Invalid.
	ErrInvalid = errors.New("invalid argument")
)

// kinds lists the sentinels of records that failed after they were
// accepted, for counting by kind (ErrInvalid refuses records before).
var kinds = [...]error{ErrAuth, ErrLogstoreNotFound, ErrRecordTooLarge, ErrBufferFull, ErrClosed, ErrDeliveryTimeout, ErrTLS, ErrUnreachable, ErrRejected}

func kindIndex(kind error) int {
	for i, k := range kinds {
		if k == kind {
			return i
		}
	}
	return kindIndex(ErrRejected)
}

// invalidError is an invalid argument where no logstore is concerned (a
// nil producer or context, a Config): its message is err's, and it wraps
// ErrInvalid and err.
// The pair is kept whole, so that Unwrap (every errors.Is) does not
// allocate.
type invalidError struct{ errs [2]error }

func (e *invalidError) Error() string   { return e.errs[1].Error() }
func (e *invalidError) Unwrap() []error { return e.errs[:] }

// invalid wraps err, which says what is wrong, in ErrInvalid.
func invalid(err error) error { return &invalidError{[2]error{ErrInvalid, err}} }

// Error is an error about records for one logstore. It wraps a sentinel
// (Kind) and the underlying cause, both reachable with errors.Is and
// errors.As.
type Error struct {
	// Kind is one of the sentinel errors.
	Kind error
	// Project and Logstore say where the record was going.
	Project, Logstore string
	// Err is the underlying cause: a Kafka error from SLS, a credential
	// source error, a network error.
	Err error
	// Unconfirmed is set on a delivery failure of a record that was sent
	// and never acknowledged: SLS may have stored it.
	Unconfirmed bool

	// hint is advice that depends on what the producer sent (the
	// credential's form, the codec), which Kind and Err do not tell.
	hint string
	// at is where the producer sent it: the region, or the endpoint
	// when its host does not name one.
	at string
}

// Advice for failures that an assumption about SLS may explain: the
// conformance kit (slstest/conformance) checks each against a project.
const (
	conformanceKit = "SLS_CONFORMANCE=1 go test -v github.com/slskafka/slskafka/slstest/conformance"
	// stsHint: SLS documents <AccessKeyId>#<AccessKeySecret> only; that
	// it takes <AccessKeyId>#<AccessKeySecret>#<SecurityToken> is assumed.
	stsHint = "the refused credential carried an STS security token, and SLS documents only AccessKey pairs (<AccessKeyId>#<AccessKeySecret>) as its Kafka password: " +
		"use a RAM user's AccessKey (auth.Env with ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET and no ALIBABA_CLOUD_SECURITY_TOKEN, or auth.Static), " +
		"and check whether your project takes STS credentials with the conformance kit (" + conformanceKit + ")"
)

// newError builds every *Error the producer returns or reports, so that
// each carries the region and the advice that depends on what the producer
// sent. unconfirmed is set only for records that were sent and never
// acknowledged; a record refused before it was accepted passes false.
func (p *Producer) newError(kind error, logstore string, cause error, unconfirmed bool) *Error {
	e := &Error{Kind: kind, Project: p.cfg.Project, Logstore: logstore, Err: cause, Unconfirmed: unconfirmed, at: regionOf(p.cfg.Project, p.cfg.Endpoint)}
	var credErr *errCredential
	switch {
	case kind == ErrAuth && p.conn.lastToken.Load() && !errors.As(cause, &credErr):
		// Refused by SLS, not by the credential source. The flag is the
		// credential of the latest connection, which is the refused
		// one unless the source switched between token and pair forms
		// while connections failed.
		e.hint = stsHint
	case kind == ErrRejected:
		e.hint = codecHint(p.Compression(), cause)
	}
	return e
}

// regionOf names where an SLS endpoint is, for messages: the region of
// <project>.<region>[-intranet].log.aliyuncs.com, or the endpoint itself
// when its host is not of that form (an emulator, a private link).
func regionOf(project string, ep endpoint.Endpoint) string {
	label, ok := strings.CutPrefix(strings.ToLower(ep.Host), strings.ToLower(project)+".")
	if region, isSLS := strings.CutSuffix(label, ".log.aliyuncs.com"); ok && isSLS && region != "" && !strings.Contains(region, ".") {
		return fmt.Sprintf("region %q", strings.TrimSuffix(region, "-intranet"))
	}
	if ep.Host == "" {
		return ""
	}
	return "the region of endpoint " + ep.String()
}

// codecHint is the advice for a batch SLS refused for its compression: it
// names the codec and suggests the one SLS's own samples use, gzip (or
// none, if gzip itself was refused). It is empty for other refusals.
func codecHint(c Compression, cause error) string {
	alternative := "Compression: Gzip, the codec SLS's own samples use"
	if c == Gzip {
		alternative = "Compression: NoCompression"
	}
	switch {
	case errors.Is(cause, kerr.UnsupportedCompressionType):
		return fmt.Sprintf("SLS does not accept the codec the batch was compressed with, %s (Compression: %s): set %s", c, compressionName(c), alternative)
	case errors.Is(cause, kerr.CorruptMessage) && c != NoCompression:
		// franz-go sends a batch that does not shrink uncompressed, so
		// the codec is the likely cause, not a certain one.
		return fmt.Sprintf("SLS could not read the batch, compressed with %s (Compression: %s); if SLS does not accept %s, set %s", c, compressionName(c), c, alternative)
	}
	return ""
}

// compressionName is the Go name of a codec, for messages that say what to
// set.
func compressionName(c Compression) string {
	switch c {
	case LZ4:
		return "LZ4"
	case NoCompression:
		return "NoCompression"
	case Gzip:
		return "Gzip"
	case Snappy:
		return "Snappy"
	case Zstd:
		return "Zstd"
	}
	return c.String()
}

// Error describes what failed and what to check.
func (e *Error) Error() string {
	where := fmt.Sprintf("logstore %q in project %q", e.Logstore, e.Project)
	var msg string
	switch e.Kind {
	case ErrAuth:
		msg = fmt.Sprintf("authentication failed for %s: check the AccessKey (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, or the STS token) and that its RAM policy allows log:GetProject on the project and log:GetLogStore, log:ListShards and log:PostLogStoreLogs on the logstore", where)
	case ErrLogstoreNotFound:
		// SLS answers a missing project as it answers a missing
		// logstore, so the message cannot tell which.
		at := e.at
		if at == "" {
			at = "the endpoint's region"
		}
		msg = fmt.Sprintf("project %q or logstore %q does not exist in %s: check the project name, create the logstore, or check that the endpoint's region is the project's region", e.Project, e.Logstore, at)
	case ErrRecordTooLarge:
		msg = fmt.Sprintf("record for %s too large: split it or raise MaxRecordBytes (SLS refuses batches over about 1 MiB)", where)
	case ErrBufferFull:
		msg = fmt.Sprintf("buffer full, record for %s dropped: SLS is not keeping up or is unreachable", where)
	case ErrClosed:
		msg = fmt.Sprintf("producer closed, record for %s not delivered", where)
	case ErrDeliveryTimeout:
		msg = fmt.Sprintf("delivery to %s timed out: check connectivity to the endpoint, or raise DeliveryTimeout", where)
	case ErrTLS:
		msg = fmt.Sprintf("TLS to the endpoint failed for %s: check the endpoint host and the CA bundle (SSL_CERT_FILE, CAFile)", where)
	case ErrInvalid:
		msg = fmt.Sprintf("record for %s refused", where)
	case ErrUnreachable:
		msg = fmt.Sprintf("endpoint unreachable for %s: check the endpoint host (SLS_ENDPOINT or the region), DNS, and that this network may reach it (the intranet endpoint, port 10011, works only inside Alibaba Cloud; the public one uses port 10012)", where)
	default:
		msg = fmt.Sprintf("SLS rejected the records for %s", where)
	}
	if e.hint != "" {
		msg += "; " + e.hint
	}
	if e.Unconfirmed {
		msg += " (sent but not acknowledged: SLS may have stored it)"
	}
	if e.Err != nil {
		return "producer: " + msg + ": " + e.Err.Error()
	}
	return "producer: " + msg
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// next is what becomes of a record after an error.
type next uint8

const (
	// sendAgain: back to the hand-off queue, sent again before its
	// deadline.
	sendAgain next = iota + 1
	// backToSpool: out of memory but kept on disk, sent again by the
	// feeder or by the next producer on the directory.
	backToSpool
	// fail: ended, reported with the decision's cause and kind.
	fail
)

// failedWith is what decide knows of a record that franz-go (or Close)
// failed.
type failedWith struct {
	err error           // what it failed with
	win context.Context // its deadline window: done once its deadline passed or its credential was refused
	// closed is whether Close has begun; closeCause is why Close gave up
	// (lifecycle.gaveUpCause), the cause of the records it gave up on.
	closed     bool
	closeCause error
	// onDisk is whether the record is in the spool (a record the spool
	// could not keep, as on a full disk, is not: it fails as without one).
	onDisk bool
	// noRequeue is set once the hand-off queue refused the record
	// (Close stopped the hand-off): it cannot be sent again.
	noRequeue bool
	// resend reports whether a switch of codec sends the record again
	// (Producer.resend). It is asked only where it decides, since asking
	// switches the codec; nil is false.
	resend func() bool
}

// decision is decide's answer.
type decision struct {
	next next
	// cause and kind are what the record fails with, or why it goes back
	// to the spool; a nil kind is cause's kind (classify).
	cause, kind error
	// gaveUp is whether Close gave up on the record, which the ledger
	// needs to tell whether it may be stored.
	gaveUp bool
}

// decide is the one place that decides what becomes of a record after an
// error: sent again, back to the spool, or failed with a cause and kind.
// Refusals (refusal) are final with or without a spool. A record's own
// deadline passing is its cause unless SLS refused it first; a partition
// failing because an older record's deadline passed, or an error retrying
// may mend (transient), sends it again while its deadline is ahead.
func decide(f failedWith) decision {
	if f.closed && (f.err == errGaveUp || f.err == kgo.ErrClientClosed) {
		// One of every record buffered at Close, after Close's context
		// ended: kept cheap, without classifying err.
		d := decision{next: fail, cause: f.closeCause, kind: ErrClosed, gaveUp: true}
		if f.win.Err() != nil {
			d.cause, d.kind = context.Cause(f.win), nil // its deadline (or credential) came first
		}
		if f.onDisk && !refusal(d.cause) { // a record the spool could not keep fails
			d.next = backToSpool
		}
		return d
	}
	own := f.win.Err()
	if own == nil && !f.noRequeue && (transient(f.err) || f.resend != nil && f.resend()) {
		return decision{next: sendAgain}
	}
	// Close gave up on it: still queued when Close stopped the hand-off,
	// failed by franz-go as the client closed, or not handed back.
	gaveUp := f.closed &&
		(errors.Is(f.err, errGaveUp) || errors.Is(f.err, kgo.ErrClientClosed) || own == nil && transient(f.err))
	d := decision{next: fail, cause: f.err, gaveUp: gaveUp}
	switch {
	case own != nil && (gaveUp || !refusal(f.err)):
		d.cause = context.Cause(f.win) // its deadline passed, or its credential was refused
	case gaveUp:
		d.cause, d.kind = f.closeCause, ErrClosed
	}
	if f.onDisk && (gaveUp || own != nil) && !refusal(d.cause) {
		// It stays on disk: for the feeder to send again, or for the
		// next producer on the directory. Refusals are final as
		// without a spool, and so is the end of a record the spool
		// could not keep (a full disk).
		d.next = backToSpool
	}
	return d
}

// refusal reports whether err says SLS (or the TLS handshake) refused,
// which retrying does not mend: a credential, a certificate, a missing
// logstore, an oversize or otherwise refused record.
func refusal(err error) bool {
	switch classify(err) {
	case ErrAuth, ErrTLS, ErrLogstoreNotFound, ErrRecordTooLarge:
		return true
	case ErrRejected:
		return !transient(err)
	}
	return false
}

// transient reports whether a record that failed with err before its own
// deadline should be tried again: its partition failed because an older
// record's deadline passed (a context error), or franz-go gave up on a
// cause that retrying may mend (an unreachable endpoint, a retriable Kafka
// error, a broken connection). Refusals (credentials, a missing logstore,
// an oversize batch, TLS) are final.
func transient(err error) bool {
	// franz-go's own test covers broken connections (EOF, a reset, a
	// closed socket); a refused dial is ErrUnreachable below.
	if isContextErr(err) || errors.Is(err, kgo.ErrAborting) || kgo.IsRetryableBrokerErr(err) {
		return true
	}
	switch classify(err) {
	case ErrUnreachable:
		return true
	case ErrRejected:
		// CORRUPT_MESSAGE is retriable in Kafka's table, but over TLS
		// a batch cannot be damaged in transit: the server cannot read
		// what the client wrote (its codec, say), and resending the same
		// records gets the same answer. franz-go does not retry it either.
		var ke *kerr.Error
		return errors.As(err, &ke) && ke.Retriable && ke != kerr.CorruptMessage
	}
	return false
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Failure reports records that will not be delivered.
type Failure struct {
	// Logstore is where the records were going.
	Logstore string
	// Records is how many records failed together.
	Records int
	// Err is an *Error; errors.Is(Err, ErrAuth) and the like tell the kind.
	Err error
	// Unconfirmed says the records were sent and never acknowledged: SLS
	// may have stored them (Stats.Unconfirmed), unlike records known not
	// to be stored (Stats.Failed).
	Unconfirmed bool
}

// A Failure whose Err wraps ErrInvalid reports records Log refused as
// invalid (Stats.Invalid), which were never accepted, so that a logger
// whose caller ignores Log's error (as slog, zap and io.Writer callers do)
// is seen too.

// errCredential marks an error from the credential provider.
type errCredential struct{ err error }

func (e *errCredential) Error() string { return "get credential: " + e.err.Error() }
func (e *errCredential) Unwrap() error { return e.err }

// classify maps an error from franz-go, the network or our own plumbing to
// a sentinel.
func classify(err error) error {
	var credErr *errCredential
	var closeErr *closeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrAuth), errors.As(err, &credErr),
		errors.Is(err, kerr.TopicAuthorizationFailed),
		errors.Is(err, kerr.SaslAuthenticationFailed),
		errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.IllegalSaslState),
		errors.Is(err, kerr.UnsupportedSaslMechanism):
		return ErrAuth
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, ErrLogstoreNotFound):
		return ErrLogstoreNotFound
	case errors.Is(err, ErrRecordTooLarge), errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return ErrRecordTooLarge
	case isTLSError(err):
		return ErrTLS
	case errors.Is(err, ErrClosed), errors.Is(err, kgo.ErrClientClosed), errors.As(err, &closeErr):
		return ErrClosed
	case errors.Is(err, ErrDeliveryTimeout), errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries), errors.Is(err, context.DeadlineExceeded):
		return ErrDeliveryTimeout
	case isUnreachable(err):
		return ErrUnreachable
	}
	return ErrRejected
}

func isTLSError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	var alert tls.AlertError
	// An alert the server sent arrives as a "remote error" net.OpError
	// (crypto/tls keeps its alert type unexported); tls.AlertError is one
	// this side raised.
	var op *net.OpError
	return errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) ||
		errors.As(err, &invalid) || errors.As(err, &header) || errors.As(err, &alert) ||
		errors.As(err, &op) && op.Op == "remote error"
}

// isUnreachable reports whether err says the endpoint cannot be reached: a
// name that does not resolve, a refused or timed-out connection, no route.
func isUnreachable(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && op.Timeout()
}
