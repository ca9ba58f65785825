package slstest_test

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/slstest"
)

// fastRetries makes franz-go retry a failed partition at once. A retriable
// produce error also makes franz-go refresh metadata before it retries, and
// that refresh waits for MetadataMinAge (default 5 s), not only for the
// retry backoff.
var fastRetries = []kgo.Opt{
	kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
	kgo.MetadataMinAge(10 * time.Millisecond),
}

func TestFailNextIsServedThenRetried(t *testing.T) {
	for _, f := range []slstest.Fault{slstest.StorageError, slstest.NetworkError} {
		t.Run(f.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
			cl := franzClient(t, s, s.Project(), password(t, s), append(fastRetries, kgo.RecordRetries(5))...)
			s.FailNext("app", f, 2)
			if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("survives")}).FirstErr(); err != nil {
				t.Fatalf("produce after 2 injected %s: %v", f, err)
			}
			if got := s.Stats().FaultsServed; got != 2 {
				t.Errorf("FaultsServed = %d, want 2", got)
			}
			if got := s.Stats().ProduceRequests; got != 3 {
				t.Errorf("ProduceRequests = %d, want 3 (2 failed, 1 stored)", got)
			}
			// A failed request stores nothing, so the retry stores the
			// record once.
			checkStored(t, waitLogs(t, s, "app", 1), []map[string]string{content("survives")})
		})
	}
}

func TestFailNextWithoutRetriesFails(t *testing.T) {
	for _, tc := range []struct {
		fault slstest.Fault
		want  *kerr.Error
	}{
		{slstest.StorageError, kerr.KafkaStorageError},
		{slstest.NetworkError, kerr.NetworkException},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
			// RecordRetries(0): a batch fails once it has been tried
			// more than 0 times after a retriable error, so the first
			// error is final.
			cl := franzClient(t, s, s.Project(), password(t, s), append(fastRetries, kgo.RecordRetries(0))...)
			s.FailNext("app", tc.fault, 1)
			err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("lost")}).FirstErr()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %s", err, tc.want.Message)
			}
			if got := s.Stats().FaultsServed; got != 1 {
				t.Errorf("FaultsServed = %d, want 1", got)
			}
			if n := len(s.Logs("app")); n != 0 {
				t.Errorf("stored %d logs from a failed request", n)
			}
			// The fault is used up: the next record is stored.
			if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("next")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			checkStored(t, waitLogs(t, s, "app", 1), []map[string]string{content("next")})
		})
	}
}

func TestFailNextIsPerLogstore(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1, "audit": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s), append(fastRetries, kgo.RecordRetries(0))...)
	s.FailNext("audit", slstest.StorageError, 1)
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("unaffected")}).FirstErr(); err != nil {
		t.Fatalf("a fault for logstore audit hit logstore app: %v", err)
	}
	err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "audit.json", Value: []byte(`{"a":1}`)}).FirstErr()
	if !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("audit.json: err = %v, want KAFKA_STORAGE_ERROR (faults apply to both topic forms)", err)
	}
}

func TestDropConnectionsClientReconnects(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s), fastRetries...)
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()
	s.DropConnections()
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("produce after DropConnections: %v", err)
	}
	checkStored(t, waitLogs(t, s, "app", 2), []map[string]string{content("before"), content("after")})
	after := s.Stats()
	if after.Connections <= before.Connections {
		t.Errorf("Connections = %d after the drop, was %d: the client did not reconnect", after.Connections, before.Connections)
	}
	if after.Authentications <= before.Authentications {
		t.Errorf("Authentications = %d after the drop, was %d: a new connection must authenticate again", after.Authentications, before.Authentications)
	}
}

func TestSetLatencyDelaysProduce(t *testing.T) {
	const latency = 300 * time.Millisecond
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s))
	// Connect and authenticate first, so only the produce is measured.
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("warm")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	s.SetLatency(latency)
	start := time.Now()
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("slow")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < latency {
		t.Errorf("produce with latency %v took %v", latency, took)
	}
	s.SetLatency(0)
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("fast")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitLogs(t, s, "app", 3)
}

func TestOversizeBatchIsRefused(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, MaxBatchBytes: 1024})
	// Uncompressed, so that the batch on the wire is as large as the value.
	cl := franzClient(t, s, s.Project(), password(t, s), kgo.ProducerBatchCompression(kgo.NoCompression()))
	err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte(strings.Repeat("x", 4096))}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("err = %v, want MESSAGE_TOO_LARGE", err)
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs from an oversize batch", n)
	}
	// The connection and the server stay usable.
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("small")}).FirstErr(); err != nil {
		t.Fatalf("produce after an oversize batch: %v", err)
	}
	checkStored(t, waitLogs(t, s, "app", 1), []map[string]string{content("small")})
}

// TestCloseEndsEveryGoroutine leaves connections in each state a client can
// leave them in (mid TLS handshake, mid SASL, authenticated and waiting for
// a delayed response) and checks that Close returns promptly and leaves no
// goroutine behind.
func TestCloseEndsEveryGoroutine(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}, Latency: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Endpoint().String()

	// 1. TCP connected, no TLS handshake yet.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// 2. TLS done, SASL not started.
	tlsOnly, err := tls.Dial("tcp", addr, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer tlsOnly.Close()
	if err := tlsOnly.Handshake(); err != nil {
		t.Fatal(err)
	}

	// 3. A client with a produce request in flight, its response held back
	// by an hour of latency.
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.DialTLSConfig(s.TLSConfig()),
		kgo.SASL(plain.Auth{User: s.Project(), Pass: password(t, s)}.AsMechanism()),
		kgo.MaxVersions(kversion.V2_1_0()),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
	)
	if err != nil {
		t.Fatal(err)
	}
	produced := make(chan error, 1)
	cl.Produce(t.Context(), &kgo.Record{Topic: "app", Value: []byte("held")}, func(_ *kgo.Record, err error) { produced <- err })
	if _, err := s.WaitLogs(ctx(t), "app", 1); err != nil {
		t.Fatal(err)
	}

	// 4. Authenticated and idle.
	pending := rawAuthenticated(t, s)
	defer pending.Close()

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s with connections open")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// The client's request can no longer be answered; closing the client
	// fails it.
	cl.Close()
	if err := <-produced; err == nil {
		t.Error("a produce whose response Close dropped reported success")
	}
	goleak.VerifyNone(t, ignore)
}
