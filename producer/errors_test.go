package producer

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestNewErrorHints checks which failures get the STS and codec hints:
// only a refusal by SLS of a credential that carried a token, and only a
// refusal of a batch for its compression.
func TestNewErrorHints(t *testing.T) {
	for _, tc := range []struct {
		name     string
		token    bool
		codec    Compression
		kind     error
		cause    error
		wantHint string // "" for none
	}{
		{"token refused by SLS", true, LZ4, ErrAuth, kerr.TopicAuthorizationFailed, "STS security token"},
		{"token refused at SASL", true, LZ4, ErrAuth, kerr.SaslAuthenticationFailed, "STS security token"},
		{"pair refused", false, LZ4, ErrAuth, kerr.TopicAuthorizationFailed, ""},
		{"credential source failed", true, LZ4, ErrAuth, &errCredential{errors.New("source down")}, ""},
		{"codec unsupported", false, Zstd, ErrRejected, kerr.UnsupportedCompressionType, "set Compression: Gzip"},
		{"corrupt, compressed", false, Snappy, ErrRejected, kerr.CorruptMessage, "if SLS does not accept snappy"},
		{"corrupt, uncompressed", false, NoCompression, ErrRejected, kerr.CorruptMessage, ""},
		{"other refusal", false, LZ4, ErrRejected, kerr.InvalidRecord, ""},
		{"not found", true, LZ4, ErrLogstoreNotFound, kerr.UnknownTopicOrPartition, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Producer{cfg: Config{Project: "demo", Compression: tc.codec}}
			p.conn.lastToken.Store(tc.token)
			e := p.newError(tc.kind, "app", tc.cause, false)
			msg := e.Error()
			switch {
			case tc.wantHint == "" && e.hint != "":
				t.Errorf("hint %q, want none", e.hint)
			case tc.wantHint != "" && !strings.Contains(msg, tc.wantHint):
				t.Errorf("%q does not say %q", msg, tc.wantHint)
			}
			if !errors.Is(e, tc.kind) || !errors.Is(e, tc.cause) {
				t.Errorf("%v does not wrap its kind and cause", e)
			}
		})
	}
}
