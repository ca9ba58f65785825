package producer_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// sentinels are the producer's sentinel errors; every error wraps exactly
// one of them.
var sentinels = []error{producer.ErrAuth, producer.ErrLogstoreNotFound, producer.ErrRecordTooLarge,
	producer.ErrBufferFull, producer.ErrClosed, producer.ErrDeliveryTimeout, producer.ErrTLS,
	producer.ErrUnreachable, producer.ErrRejected, producer.ErrInvalid}

// checkOneSentinel fails the test unless err wraps want and no other
// sentinel.
func checkOneSentinel(t *testing.T, what string, err, want error) {
	t.Helper()
	var wrapped []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			wrapped = append(wrapped, s)
		}
	}
	if len(wrapped) != 1 || wrapped[0] != want {
		t.Errorf("%s: %v wraps %v, want exactly %v", what, err, wrapped, want)
	}
}

// checkContains fails the test unless msg contains every one of parts.
func checkContains(t *testing.T, what, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: %q does not say %q", what, msg, p)
		}
	}
}

// stsParts are what ErrAuth says about a refused STS credential.
var stsParts = []string{
	"STS security token", "SLS documents only AccessKey pairs", "<AccessKeyId>#<AccessKeySecret>",
	"RAM user's AccessKey", "auth.Env", "auth.Static", "slstest/conformance",
}

// permissionParts are the four permissions SLS requires of a writer.
var permissionParts = []string{"log:GetProject", "log:GetLogStore", "log:ListShards", "log:PostLogStoreLogs"}

// stsKey registers an STS key on s and returns a provider of it.
func stsKey(s *slstest.Server) auth.Provider {
	c := auth.Credential{AccessKeyID: "STS.hint", AccessKeySecret: "hint-sts-secret", SecurityToken: "hint-sts-token", Expiration: time.Now().Add(time.Hour)}
	s.AddSTSKey(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, c.Expiration)
	return auth.ProviderFunc(func(context.Context) (auth.Credential, error) { return c, nil })
}

// TestErrAuthNamesSTSWhenATokenIsRefused checks that when SLS refuses a
// credential that carried a security token (the emulator configured to
// take AccessKey pairs only), Ping and LogSync say that SLS documents only
// AccessKey pairs, suggest a RAM user's AccessKey, point at the
// conformance kit and name the four permissions, wherever the endpoint
// refuses the credential.
func TestErrAuthNamesSTSWhenATokenIsRefused(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{AuthFailure: mode, RefuseSecurityTokens: true})
			p := authProducer(t, s, stsKey(s), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			ping := p.Ping(ctx, "app")
			checkOneSentinel(t, "Ping", ping, producer.ErrAuth)
			logSync := p.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "x"}}})
			checkOneSentinel(t, "LogSync", logSync, producer.ErrAuth)
			for what, err := range map[string]error{"Ping": ping, "LogSync": logSync} {
				if err == nil {
					continue
				}
				checkContains(t, what, err.Error(), append(stsParts, permissionParts...)...)
				if strings.Contains(err.Error(), "hint-sts-secret") || strings.Contains(err.Error(), "hint-sts-token") {
					t.Errorf("%s: %q shows the secret or token", what, err)
				}
			}
		})
	}
}

// TestErrAuthWithoutTokenHasNoSTSHint checks that a refused AccessKey pair
// gets the permissions hint and not the STS one.
func TestErrAuthWithoutTokenHasNoSTSHint(t *testing.T) {
	s := slstest.New(t, slstest.Config{RefuseSecurityTokens: true})
	p := authProducer(t, s, auth.Static("LTAIwrongkey0002", "wrong-secret"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := p.Ping(ctx, "app")
	checkOneSentinel(t, "Ping", err, producer.ErrAuth)
	if err != nil {
		checkContains(t, "Ping", err.Error(), permissionParts...)
		if strings.Contains(err.Error(), "STS security token") {
			t.Errorf("Ping: %q gives the STS hint for an AccessKey pair", err)
		}
	}
}

// compressible is a record that shrinks under every codec, so that
// franz-go sends its batch compressed.
var compressible = producer.Record{Fields: []producer.Field{{Key: "msg", Value: strings.Repeat("a log line that repeats ", 20)}}}

// TestCodecRefusalNamesTheCodec checks that a batch SLS refuses for its
// compression (the emulator configured to refuse lz4, set explicitly)
// fails at once with ErrRejected, naming the codec and suggesting gzip;
// that gzip then delivers; and that a refused gzip suggests no
// compression.
func TestCodecRefusalNamesTheCodec(t *testing.T) {
	for _, tc := range []struct {
		refusal slstest.CodecRefusal
		cause   error
	}{
		{slstest.UnsupportedCompression, kerr.UnsupportedCompressionType},
		{slstest.CorruptMessage, kerr.CorruptMessage},
	} {
		t.Run(tc.refusal.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{RefuseCodecs: []kgo.CompressionCodecType{kgo.CodecLz4, kgo.CodecGzip}, CodecRefusal: tc.refusal})
			for _, c := range []struct {
				codec producer.Compression
				parts []string
			}{
				{producer.LZ4, []string{"lz4", "Compression: LZ4", "set Compression: Gzip", "SLS's own samples"}},
				{producer.Gzip, []string{"gzip", "Compression: Gzip", "set Compression: NoCompression"}},
			} {
				p := codecProducer(t, s, c.codec)
				// A codec refusal is final: were it retried, the record
				// would fail with ErrDeliveryTimeout after a minute.
				err := p.LogSync(context.Background(), "app", compressible)
				checkOneSentinel(t, c.codec.String(), err, producer.ErrRejected)
				if !errors.Is(err, tc.cause) {
					t.Errorf("%v: %v does not wrap %v", c.codec, err, tc.cause)
				}
				if err != nil {
					checkContains(t, c.codec.String(), err.Error(), c.parts...)
				}
			}
			p := codecProducer(t, s, producer.Snappy)
			if err := p.LogSync(context.Background(), "app", compressible); err != nil {
				t.Fatalf("snappy, not refused: %v", err)
			}
			if logs := s.Logs("app"); len(logs) != 1 {
				t.Errorf("stored %d logs, want the snappy record only", len(logs))
			}
		})
	}
}

// codecProducer builds a producer on s that compresses with codec; a
// record that is not delivered within a minute fails.
func codecProducer(t *testing.T, s *slstest.Server, codec producer.Compression) *producer.Producer {
	t.Helper()
	p, err := producer.New(producer.Config{
		Project:         s.Project(),
		Endpoint:        s.Endpoint(),
		Credentials:     s.Credentials(),
		TLS:             s.TLSConfig(),
		Compression:     codec,
		DeliveryTimeout: time.Minute,
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}
