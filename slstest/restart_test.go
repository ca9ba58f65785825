package slstest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/slskafka/slskafka/slstest"
)

// TestRestartOnSameCA stops an emulator and starts another on the same
// address with the same CA and key (an outage): a client configured for
// the first one reconnects to the second without being given a new trust
// root, and delivers.
func TestRestartOnSameCA(t *testing.T) {
	first := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	cred, err := first.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cl := franzClient(t, first, first.Project(), cred.Password(), fastRetries...)
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ca := first.CA()
	addr := first.Endpoint().String()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := slstest.New(t, slstest.Config{
		Addr: addr, CA: &ca, Logstores: map[string]int{"app": 1},
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret,
	})
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("produce after the restart: %v", err)
	}
	checkStored(t, waitLogs(t, second, "app", 1), []map[string]string{content("after")})
	if string(second.CACertPEM()) != string(first.CACertPEM()) {
		t.Error("the second emulator's CA certificate differs from the one handed in")
	}
}

// TestConfigCAMustBeACA checks that Config.CA refuses what cannot sign the
// server certificate.
func TestConfigCAMustBeACA(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	ca := s.CA()
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]tls.Certificate{
		"no certificate":    {PrivateKey: ca.PrivateKey},
		"no key":            {Certificate: ca.Certificate},
		"another key":       {Certificate: ca.Certificate, PrivateKey: otherKey},
		"not a certificate": {Certificate: [][]byte{[]byte("junk")}, PrivateKey: ca.PrivateKey},
	} {
		if _, err := slstest.Start(slstest.Config{CA: &bad}); err == nil || !strings.HasPrefix(err.Error(), "slstest: Config.CA") {
			t.Errorf("%s: Start = %v, want a Config.CA error", name, err)
		}
	}
	// A server certificate is not a CA.
	conn, err := tls.Dial("tcp", s.Endpoint().String(), s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	leafDER := conn.ConnectionState().PeerCertificates[0].Raw
	conn.Close()
	notCA := tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: ca.PrivateKey}
	if _, err := slstest.Start(slstest.Config{CA: &notCA}); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("a server certificate as CA: Start = %v, want a not-a-CA error", err)
	}
}

// TestInMemoryUnderSynctest runs a franz-go client against an InMemory
// emulator in a testing/synctest bubble: an STS key that expires in an
// hour expires without the test waiting for it.
func TestInMemoryUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}})
		s.AddSTSKey("STS.short", "sts-secret", "sts-token", time.Now().Add(time.Hour))
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(s.Endpoint().String()),
			kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
				c, err := s.DialContext(ctx, network, host)
				if err != nil {
					return nil, err
				}
				return tls.Client(c, s.TLSConfig()), nil
			}),
			kgo.SASL(plain.Auth{User: s.Project(), Pass: "STS.short#sts-secret#sts-token"}.AsMechanism()),
			kgo.MaxVersions(kversion.V2_1_0()),
			kgo.DisableIdempotentWrite(),
			kgo.RequiredAcks(kgo.LeaderAck()),
			kgo.RecordRetries(1),
		)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "app", Value: []byte("in time")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		err = cl.ProduceSync(t.Context(), &kgo.Record{Topic: "app", Value: []byte("too late")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Errorf("after the STS key expired: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
		checkStored(t, s.Logs("app"), []map[string]string{content("in time")})
	})
}
