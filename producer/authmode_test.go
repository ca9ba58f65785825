package producer_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// authDeadline is how soon a refused credential must surface as ErrAuth.
const authDeadline = 3 * time.Second

// authModes are the two places the emulator can refuse a credential: at
// produce (TOPIC_AUTHORIZATION_FAILED after a successful SASL login, as SLS
// documents it) and at SASL.
var authModes = []slstest.AuthFailure{slstest.AtProduce, slstest.AtSASL}

// authProducer builds a producer on s with creds, reporting failures to
// onError. It uses only the public API.
func authProducer(t *testing.T, s *slstest.Server, creds auth.Provider, onError func(producer.Failure)) *producer.Producer {
	t.Helper()
	p, err := producer.New(producer.Config{
		Project:     s.Project(),
		Endpoint:    s.Endpoint(),
		Credentials: creds,
		DialContext: s.DialContext, // the only way to an InMemory emulator
		TLS:         s.TLSConfig(),
		Logger:      slog.New(slog.DiscardHandler),
		OnError:     onError,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// within runs f and fails the test if it takes authDeadline or longer,
// logging how long it took. Callers run in a testing/synctest bubble on
// the in-memory emulator, so the time is the bubble's: exact on any
// machine.
func within(t *testing.T, what string, f func(ctx context.Context)) {
	t.Helper()
	// The context bounds a failing test; the assertion is on the time.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	f(ctx)
	took := time.Since(start)
	t.Logf("%s: %v", what, took)
	if took >= authDeadline {
		t.Errorf("%s took %v, want < %v", what, took, authDeadline)
	}
}

// TestErrAuthWithin3sInBothModes checks that a wrong AccessKey, and a key
// revoked while its connection is open, are reported as ErrAuth within
// 3 s by Ping, LogSync and OnError, wherever the endpoint refuses them.
func TestErrAuthWithin3sInBothModes(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Run("wrong key", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					s := slstest.New(t, slstest.Config{AuthFailure: mode, InMemory: true})
					failed := make(chan producer.Failure, 10)
					p := authProducer(t, s, auth.Static("LTAIwrongkey0001", "wrong-secret"), func(f producer.Failure) { failed <- f })
					within(t, "Ping", func(ctx context.Context) {
						if err := p.Ping(ctx, "app"); !errors.Is(err, producer.ErrAuth) {
							t.Errorf("Ping = %v, want ErrAuth", err)
						}
					})
					within(t, "Log until OnError", func(ctx context.Context) {
						if err := p.Log(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "x"}}}); err != nil {
							t.Fatal(err)
						}
						select {
						case f := <-failed:
							if !errors.Is(f.Err, producer.ErrAuth) || f.Records != 1 {
								t.Errorf("OnError got %+v, want ErrAuth for 1 record", f)
							}
						case <-ctx.Done():
							t.Error("no OnError report")
						}
					})
					within(t, "LogSync", func(ctx context.Context) {
						if err := p.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "y"}}}); !errors.Is(err, producer.ErrAuth) {
							t.Errorf("LogSync = %v, want ErrAuth", err)
						}
					})
					if n := len(s.Logs("app")); n != 0 {
						t.Errorf("stored %d logs with a wrong key", n)
					}
				})
			})
			t.Run("revoked on open connection", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					s := slstest.New(t, slstest.Config{AuthFailure: mode, InMemory: true})
					s.AddKey("LTAIrevoked00001", "revoked-secret")
					p := authProducer(t, s, auth.Static("LTAIrevoked00001", "revoked-secret"), func(producer.Failure) {})
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					if err := p.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "ok"}}}); err != nil {
						t.Fatal(err)
					}
					s.RevokeKey("LTAIrevoked00001")
					within(t, "LogSync after revocation", func(ctx context.Context) {
						if err := p.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "revoked"}}}); !errors.Is(err, producer.ErrAuth) {
							t.Errorf("LogSync = %v, want ErrAuth", err)
						}
					})
				})
			})
		})
	}
}

// TestAuthFailuresCountedInBothModes checks that a refused credential is
// counted in Stats.AuthFailures ("connections whose credential SLS
// refused", also the slskafka.producer.auth.failures metric) wherever the
// endpoint refuses it: SLS documents a wrong AccessKey as
// TopicAuthorizationException after a successful SASL login (AtProduce).
func TestAuthFailuresCountedInBothModes(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{AuthFailure: mode})
			p := authProducer(t, s, auth.Static("LTAIwrongkey0001", "wrong-secret"), func(producer.Failure) {})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := p.Ping(ctx, "app"); !errors.Is(err, producer.ErrAuth) {
				t.Fatalf("Ping = %v, want ErrAuth", err)
			}
			if n := p.Stats().AuthFailures; n == 0 {
				t.Errorf("Stats().AuthFailures = 0 after Ping met the refused key (%v), want > 0", mode)
			}
			// A record refused on its own (not through Ping) counts too:
			// on a producer of its own, since after Ping's refusal a
			// record may be failed by a refusal already counted (a
			// connection franz-go was retrying in the background).
			p2 := authProducer(t, s, auth.Static("LTAIwrongkey0001", "wrong-secret"), func(producer.Failure) {})
			if err := p2.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "x"}}}); !errors.Is(err, producer.ErrAuth) {
				t.Fatalf("LogSync = %v, want ErrAuth", err)
			}
			if st := p2.Stats(); st.AuthFailures == 0 {
				t.Errorf("Stats().AuthFailures = 0 after a record was refused (%v): the record's refusal was not counted", mode)
			}
		})
	}
}
