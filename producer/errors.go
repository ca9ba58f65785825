package producer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Sentinel errors. Every error the producer returns or reports wraps at
// most one of them; match with errors.Is.
var (
	// ErrAuth: SLS refused the credential (SASL failure), the AccessKey
	// lacks write permission on the project or logstore
	// (TopicAuthorizationFailed), or no credential could be obtained.
	ErrAuth = errors.New("authentication failed")
	// ErrLogstoreNotFound: the logstore (Kafka topic) does not exist in
	// the project, or the endpoint is in another region than the project.
	ErrLogstoreNotFound = errors.New("logstore not found")
	// ErrRecordTooLarge: the encoded record exceeds MaxRecordBytes, or SLS
	// refused its batch as too large.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrBufferFull: the buffer is full and the policy is Drop.
	ErrBufferFull = errors.New("buffer full")
	// ErrClosed: the producer is closed, or was closed before the record
	// could be delivered.
	ErrClosed = errors.New("producer closed")
	// ErrDeliveryTimeout: the record was not acknowledged within
	// DeliveryTimeout; the error also wraps the last failure seen.
	ErrDeliveryTimeout = errors.New("delivery timed out")
	// ErrTLS: the server's certificate could not be verified, or the TLS
	// handshake failed.
	ErrTLS = errors.New("TLS handshake failed")
)

// Error is an error about one logstore. It wraps a sentinel (Kind) and the
// underlying cause, both reachable with errors.Is and errors.As.
type Error struct {
	// Kind is one of the sentinel errors, or nil for other failures.
	Kind error
	// Project and Logstore say where the record was going.
	Project, Logstore string
	// Err is the underlying cause: a Kafka error from SLS, a credential
	// source error, a network error.
	Err error
}

// Error describes what failed and what to check.
func (e *Error) Error() string {
	where := fmt.Sprintf("logstore %q in project %q", e.Logstore, e.Project)
	var msg string
	switch e.Kind {
	case ErrAuth:
		msg = fmt.Sprintf("authentication failed for %s: check the AccessKey (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, or the STS token) and that it may write (log:PostLogStoreLogs) to the project and logstore", where)
	case ErrLogstoreNotFound:
		msg = fmt.Sprintf("%s not found: create the logstore, or check that the endpoint's region is the project's region", where)
	case ErrRecordTooLarge:
		msg = fmt.Sprintf("record for %s too large: split it or raise MaxRecordBytes (SLS refuses batches over about 1 MiB)", where)
	case ErrBufferFull:
		msg = fmt.Sprintf("buffer full, record for %s dropped: SLS is not keeping up or is unreachable; raise MaxBufferedBytes or use the Block policy", where)
	case ErrClosed:
		msg = fmt.Sprintf("producer closed, record for %s not delivered", where)
	case ErrDeliveryTimeout:
		msg = fmt.Sprintf("delivery to %s timed out: check connectivity to the endpoint, or raise DeliveryTimeout", where)
	case ErrTLS:
		msg = fmt.Sprintf("TLS to the endpoint failed for %s: check the endpoint host and the CA bundle (SSL_CERT_FILE, CAFile)", where)
	default:
		msg = fmt.Sprintf("request to SLS for %s failed", where)
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

// Failure reports records that will not be delivered.
type Failure struct {
	// Logstore is where the records were going.
	Logstore string
	// Records is how many records failed together.
	Records int
	// Err is an *Error; errors.Is(Err, ErrAuth) and the like tell the kind.
	Err error
}

// errCredential marks an error from the credential provider.
type errCredential struct{ err error }

func (e *errCredential) Error() string { return "producer: get credential: " + e.err.Error() }
func (e *errCredential) Unwrap() error { return e.err }

// classify maps an error from franz-go (or our own plumbing) to a sentinel.
func classify(err error) error {
	var credErr *errCredential
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
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
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return ErrLogstoreNotFound
	case errors.Is(err, ErrRecordTooLarge), errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return ErrRecordTooLarge
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return ErrTLS
	case errors.Is(err, ErrClosed), errors.Is(err, kgo.ErrClientClosed):
		return ErrClosed
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries), errors.Is(err, context.DeadlineExceeded):
		return ErrDeliveryTimeout
	}
	return nil
}
