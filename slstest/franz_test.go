package slstest_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/slskafka/slskafka/slstest"
)

// franzClient builds a franz-go producer configured as the SLS docs
// configure a Kafka client: SASL_SSL, PLAIN, versions capped at 2.1, no
// idempotence, leader acks.
func franzClient(t *testing.T, s *slstest.Server, user, pass string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{
		kgo.SeedBrokers(s.Endpoint().String()),
		kgo.DialTLSConfig(s.TLSConfig()),
		kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()),
		kgo.MaxVersions(kversion.V2_1_0()),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.RecordRetries(3),
		kgo.RetryTimeout(5 * time.Second),
		kgo.ProduceRequestTimeout(5 * time.Second),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestFranzGoProducesPlainAndExpanded(t *testing.T) {
	s := slstest.New(t, slstest.Config{Project: "demo", Logstores: map[string]int{"app": 2}})
	cl := franzClient(t, s, "demo", password(t, s))

	ts := time.UnixMilli(1_700_000_000_123)
	recs := []*kgo.Record{
		{Topic: "app", Value: []byte("plain text line"), Timestamp: ts},
		{Topic: "app.json", Value: []byte(`{"level":"info","n":3,"ok":true,"nil":null,"req":{"method":"GET","path":"/x"},"tags":["a","b"]}`), Timestamp: ts},
		{Topic: "app", Value: []byte(`{"via":"header"}`), Timestamp: ts, Headers: []kgo.RecordHeader{{Key: "data-parse-format", Value: []byte("json")}}},
		{Topic: "app.json", Value: []byte(`not json`), Timestamp: ts},
		// JSON on the plain topic without the header is not expanded.
		{Topic: "app", Value: []byte(`{"via":"plain"}`), Timestamp: ts},
	}
	if err := cl.ProduceSync(ctx(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	logs, err := s.WaitLogs(ctx(t), "app", len(recs))
	if err != nil {
		t.Fatal(err)
	}
	byContent := map[string]slstest.Log{}
	for _, l := range logs {
		if want := ts.Truncate(time.Second); !l.Time.Equal(want) {
			t.Errorf("log time = %v, want the record timestamp in whole seconds, %v", l.Time, want)
		}
		key := l.Fields["content"] + l.Fields["level"] + l.Fields["via"]
		byContent[key] = l
	}
	if l, ok := byContent["plain text line"]; !ok || len(l.Fields) != 1 {
		t.Errorf("plain record not stored as content: %+v", byContent)
	}
	exp, ok := byContent["info"]
	if !ok {
		t.Fatalf("expanded record missing: %+v", logs)
	}
	want := map[string]string{"level": "info", "n": "3", "ok": "true", "nil": "null", "req": `{"method":"GET","path":"/x"}`, "tags": `["a","b"]`}
	for k, v := range want {
		if exp.Fields[k] != v {
			t.Errorf("expanded field %q = %q, want %q", k, exp.Fields[k], v)
		}
	}
	if len(exp.Fields) != len(want) {
		t.Errorf("expanded fields = %v, want %v", exp.Fields, want)
	}
	if _, ok := byContent["header"]; !ok {
		t.Errorf("data-parse-format header did not expand: %+v", logs)
	}
	if _, ok := byContent["not json"]; !ok {
		t.Errorf("invalid JSON on .json topic not kept as content: %+v", logs)
	}
	if l, ok := byContent[`{"via":"plain"}`]; !ok || len(l.Fields) != 1 {
		t.Errorf("JSON on the plain topic without the header not stored as content: %+v", logs)
	}
}

func TestFranzGoSpreadsOverShards(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 4}})
	cl := franzClient(t, s, s.Project(), password(t, s), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	// Four rounds, so that each shard gets several batches and the
	// offsets of all but the first come from a BaseOffset above 0.
	var results kgo.ProduceResults
	for round := range 4 {
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: "app", Value: []byte("x" + strconv.Itoa(10*round+i))})
		}
		rs := cl.ProduceSync(ctx(t), recs...)
		if err := rs.FirstErr(); err != nil {
			t.Fatal(err)
		}
		results = append(results, rs...)
	}
	perShard := map[int]int{}
	next := map[int]int64{}
	stored := map[string]slstest.Log{}
	for _, l := range s.Logs("app") {
		perShard[l.Shard]++
		if l.Offset != next[l.Shard] {
			t.Errorf("shard %d offset %d, want %d (logs out of order)", l.Shard, l.Offset, next[l.Shard])
		}
		next[l.Shard]++
		stored[l.Fields["content"]] = l
	}
	// The offsets the client was told (from each response's BaseOffset)
	// are the ones the records were stored at: consecutive per shard.
	acked := map[int32]map[int64]bool{}
	for _, r := range results {
		rec := r.Record
		if acked[rec.Partition] == nil {
			acked[rec.Partition] = map[int64]bool{}
		}
		acked[rec.Partition][rec.Offset] = true
		if l := stored[string(rec.Value)]; l.Shard != int(rec.Partition) || l.Offset != rec.Offset {
			t.Errorf("record %s acknowledged at shard %d offset %d, stored at shard %d offset %d", rec.Value, rec.Partition, rec.Offset, l.Shard, l.Offset)
		}
	}
	for p, offsets := range acked {
		for o := range int64(len(offsets)) {
			if !offsets[o] {
				t.Errorf("shard %d: acknowledged offsets %v are not 0..%d", p, offsets, len(offsets)-1)
				break
			}
		}
	}
	for shard := range 4 {
		if perShard[shard] != 10 {
			t.Errorf("shard %d got %d logs, want 10 (%v)", shard, perShard[shard], perShard)
		}
	}
}

func TestCompressionCodecs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := slstest.New(t, slstest.Config{})
			cl := franzClient(t, s, s.Project(), password(t, s), kgo.ProducerBatchCompression(tc.codec), kgo.ProducerLinger(50*time.Millisecond))
			var recs []*kgo.Record
			for i := range 50 {
				recs = append(recs, &kgo.Record{Topic: "app.json", Partition: 0, Value: []byte(`{"msg":"` + strings.Repeat("compress me ", 10) + `","i":` + strconv.Itoa(i) + `}`)})
			}
			if err := cl.ProduceSync(ctx(t), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			logs := s.Logs("app")
			if len(logs) != 50 {
				t.Fatalf("stored %d logs, want 50", len(logs))
			}
			seen := map[string]bool{}
			for _, l := range logs {
				if !strings.HasPrefix(l.Fields["msg"], "compress me") {
					t.Fatalf("bad decoded log: %v", l.Fields)
				}
				seen[l.Fields["i"]] = true
			}
			if len(seen) != 50 {
				t.Errorf("distinct records = %d, want 50", len(seen))
			}
		})
	}
}

func TestUnknownLogstore(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	cl := franzClient(t, s, s.Project(), password(t, s), kgo.RecordDeliveryTimeout(3*time.Second))
	err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "missing", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("err = %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
}

func TestAuthFailures(t *testing.T) {
	s := slstest.New(t, slstest.Config{Project: "demo", AuthFailure: slstest.AtSASL})
	testBadLogins(t, s, func(t *testing.T, bl badLogin) string {
		cl := franzClient(t, s, bl.User, bl.Pass, kgo.RecordDeliveryTimeout(1500*time.Millisecond))
		err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("err = %v, want SASL_AUTHENTICATION_FAILED", err)
		}
		return err.Error()
	})
}

// TestAuthFailuresAreNotLogged checks that the emulator's own diagnostics
// about refused logins, at debug level, name no secret or token.
func TestAuthFailuresAreNotLogged(t *testing.T) {
	var buf bytes.Buffer // written under the handler's lock, read after Close
	s := slstest.New(t, slstest.Config{AuthFailure: slstest.AtSASL, Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	logins := badLogins(t, s)
	for _, bl := range logins {
		if _, resp := rawLogin(t, s, bl.User, bl.Pass); resp.ErrorCode != kerr.SaslAuthenticationFailed.Code {
			t.Errorf("%s: SaslAuthenticate code %d, want SASL_AUTHENTICATION_FAILED", bl.Name, resp.ErrorCode)
		}
	}
	s.Close()
	logged := buf.String()
	if n := strings.Count(logged, "authentication failed"); n < len(logins) {
		t.Errorf("logged %d authentication failures, want >= %d:\n%s", n, len(logins), logged)
	}
	checkNoSecret(t, s, logged)
}

// TestServerPrintsNoSecret checks that printing a Server, as a test
// failure message might, does not show its AccessKey secret.
func TestServerPrintsNoSecret(t *testing.T) {
	const secret = "emulator-secret-0123456789"
	s := slstest.New(t, slstest.Config{AccessKeySecret: secret})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		if got := fmt.Sprintf(verb, s); strings.Contains(got, secret) {
			t.Errorf("Sprintf(%q, server) shows the secret: %s", verb, got)
		}
	}
	// The secret is still served and handed out.
	if c, err := s.Credentials().Credential(context.Background()); err != nil || c.AccessKeySecret != secret {
		t.Errorf("Credentials() = %v, %v; want the configured secret", c.AccessKeyID, err)
	}
	cl := franzClient(t, s, s.Project(), password(t, s))
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestConfigPrintsNoSecret checks that printing a Config, as a test
// failure message might, does not show its AccessKey secret, and still
// shows the rest.
func TestConfigPrintsNoSecret(t *testing.T) {
	const secret = "config-secret-0123456789"
	cfg := slstest.Config{Project: "proj-x", AccessKeyID: "LTAIconfigid", AccessKeySecret: secret}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		got := fmt.Sprintf(verb, cfg)
		if strings.Contains(got, secret) {
			t.Errorf("Sprintf(%q, config) shows the secret: %s", verb, got)
		}
		if verb == "%+v" && (!strings.Contains(got, "proj-x") || !strings.Contains(got, "LTAIconfigid") || !strings.Contains(got, "[redacted]")) {
			t.Errorf("Sprintf(%q, config) = %s; want the project, the id and [redacted]", verb, got)
		}
	}
	if got := fmt.Sprintf("%v", &cfg); strings.Contains(got, secret) {
		t.Errorf("Sprintf(%%v, &config) shows the secret: %s", got)
	}
}

// TestLogsReturnsCopies checks that a caller changing what Logs returned
// does not change what the emulator holds.
func TestLogsReturnsCopies(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s))
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("original")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	first := s.Logs("app")
	first[0].Fields["content"] = "changed"
	first[0].Fields["added"] = "x"
	first[0].Offset = 99
	waited, err := s.WaitLogs(ctx(t), "app", 1)
	if err != nil {
		t.Fatal(err)
	}
	waited[0].Fields["content"] = "changed too"
	checkStored(t, s.Logs("app"), []map[string]string{content("original")})
	if got := s.Logs("app")[0].Offset; got != 0 {
		t.Errorf("offset = %d after changing a returned copy, want 0", got)
	}
}

func TestRevokeAndExpireOpenConnection(t *testing.T) {
	now := time.Now()
	var clock atomic.Int64 // UnixNano
	clock.Store(now.UnixNano())
	s := slstest.New(t, slstest.Config{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	s.AddSTSKey("STS.a", "sec", "tok", now.Add(time.Minute))
	cl := franzClient(t, s, s.Project(), "STS.a#sec#tok", kgo.RecordDeliveryTimeout(3*time.Second))
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	clock.Store(now.Add(2 * time.Minute).UnixNano()) // the STS key is now expired
	err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("late")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("expired key on open connection: err = %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	if n := len(s.Logs("app")); n != 1 {
		t.Errorf("stored %d logs, want 1", n)
	}

	cl2 := franzClient(t, s, s.Project(), password(t, s), kgo.RecordDeliveryTimeout(3*time.Second))
	c, _ := s.Credentials().Credential(context.Background())
	if err := cl2.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	s.RevokeKey(c.AccessKeyID)
	err = cl2.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("revoked")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("revoked key on open connection: err = %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
}

func TestIdempotentClientFailsClearly(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.Endpoint().String()),
		kgo.DialTLSConfig(s.TLSConfig()),
		kgo.SASL(plain.Auth{User: s.Project(), Pass: password(t, s)}.AsMechanism()),
		kgo.RecordDeliveryTimeout(3*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("idempotent produce err = %v, want CLUSTER_AUTHORIZATION_FAILED from InitProducerID", err)
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("idempotent client stored %d logs, want 0", n)
	}
}

func TestPlaintextClientCannotConnect(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.Endpoint().String()),
		kgo.SASL(plain.Auth{User: s.Project(), Pass: password(t, s)}.AsMechanism()),
		kgo.DisableIdempotentWrite(),
		kgo.RecordDeliveryTimeout(2*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr(); err == nil {
		t.Fatal("plaintext client produced to a TLS-only endpoint")
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs, want 0", n)
	}
	// A TLS client that does not trust the CA cannot connect either.
	bad, err := kgo.NewClient(
		kgo.SeedBrokers(s.Endpoint().String()),
		kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}),
		kgo.SASL(plain.Auth{User: s.Project(), Pass: password(t, s)}.AsMechanism()),
		kgo.DisableIdempotentWrite(),
		kgo.RecordDeliveryTimeout(2*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	err = bad.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted TLS client: err = %v, want a certificate error", err)
	}
}
