package conformance

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/slskafka/slskafka/producer"
)

// sentinels names the producer's sentinel errors.
var sentinels = []struct {
	err  error
	name string
}{
	{producer.ErrAuth, "ErrAuth"},
	{producer.ErrLogstoreNotFound, "ErrLogstoreNotFound"},
	{producer.ErrRecordTooLarge, "ErrRecordTooLarge"},
	{producer.ErrBufferFull, "ErrBufferFull"},
	{producer.ErrClosed, "ErrClosed"},
	{producer.ErrDeliveryTimeout, "ErrDeliveryTimeout"},
	{producer.ErrTLS, "ErrTLS"},
	{producer.ErrUnreachable, "ErrUnreachable"},
	{producer.ErrRejected, "ErrRejected"},
}

// sentinelOf names the sentinel err wraps, or "" for an error that is not
// the producer's (a plain franz-go client's).
func sentinelOf(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return ""
}

// outcome says how a write ended: "accepted", or where and with what SLS
// refused it, and the sentinel the SDK made of it. Its words are the
// table's, so they name no run-specific detail.
func outcome(err error) string {
	if err == nil {
		return "accepted"
	}
	var desc string
	var ke *kerr.Error
	var dns *net.DNSError
	switch {
	case errors.Is(err, producer.ErrDeliveryTimeout):
		desc = "not acknowledged in time"
		if errors.As(err, &ke) {
			desc += " (last error " + ke.Message + ")"
		} else if errors.As(err, &dns) {
			desc += " (host not found)"
		}
	case errors.As(err, &ke):
		where := "after SASL"
		switch ke {
		case kerr.SaslAuthenticationFailed, kerr.IllegalSaslState, kerr.UnsupportedSaslMechanism:
			where = "at SASL"
		}
		desc = "refused " + where + ": " + ke.Message
	case errors.As(err, &dns):
		desc = "host not found"
	default:
		desc = "failed: " + err.Error()
	}
	if s := sentinelOf(err); s != "" {
		desc += " → " + s
	}
	return desc
}

// accepted reports whether an outcome is an acceptance.
func accepted(o string) bool { return strings.HasPrefix(o, "accepted") }

// failsTyped reports whether an outcome is a failure that the SDK reports
// with a sentinel that says what to check.
func failsTyped(o string) bool {
	return strings.Contains(o, "→ ErrAuth") || strings.Contains(o, "→ ErrLogstoreNotFound") ||
		strings.Contains(o, "→ ErrUnreachable") || strings.Contains(o, "(host not found) → ErrDeliveryTimeout")
}

// record is a record that carries token in the field conformance_id,
// plus fields.
func record(token string, fields ...producer.Field) producer.Record {
	return producer.Record{Fields: append([]producer.Field{{Key: tokenField, Value: token}}, fields...)}
}

// writeAndRead writes r through p with LogSync and reads it back: the
// outcome, and whether it was read back.
func writeAndRead(t *testing.T, tg *target, p *producer.Producer, logstore string, r producer.Record) string {
	t.Helper()
	o := outcome(p.LogSync(tg.ctx(t), logstore, r))
	if !accepted(o) {
		return o
	}
	return o + readBack(t, tg, r.Fields[0].Value)
}

// readBack says whether the log holding token was read back.
func readBack(t *testing.T, tg *target, token string) string {
	t.Helper()
	if _, err := tg.stored(tg.ctx(t), token); err != nil {
		t.Logf("read back: %v", err)
		return ", not read back"
	}
	return ", read back"
}
