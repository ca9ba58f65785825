package slstest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"strings"
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

func password(t *testing.T, s *slstest.Server) string {
	t.Helper()
	c, err := s.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.Password()
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
		if !l.Time.Equal(ts) {
			t.Errorf("log time = %v, want record timestamp %v", l.Time, ts)
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
}

func TestFranzGoSpreadsOverShards(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 4}})
	cl := franzClient(t, s, s.Project(), password(t, s), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	var recs []*kgo.Record
	for range 40 {
		recs = append(recs, &kgo.Record{Topic: "app", Value: []byte("x")})
	}
	if err := cl.ProduceSync(ctx(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	perShard := map[int]int{}
	next := map[int]int64{}
	for _, l := range s.Logs("app") {
		perShard[l.Shard]++
		if l.Offset != next[l.Shard] {
			t.Errorf("shard %d offset %d, want %d (logs out of order)", l.Shard, l.Offset, next[l.Shard])
		}
		next[l.Shard]++
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
	s := slstest.New(t, slstest.Config{Project: "demo"})
	c, _ := s.Credentials().Credential(context.Background())
	s.AddSTSKey("STS.old", "oldsecret", "tok-old", time.Now().Add(-time.Minute))
	s.AddKey("LTAIrevoked", "revsecret")
	s.RevokeKey("LTAIrevoked")
	cases := map[string][2]string{
		"wrong secret":  {"demo", c.AccessKeyID + "#nope"},
		"wrong project": {"other", c.Password()},
		"revoked key":   {"demo", "LTAIrevoked#revsecret"},
		"expired STS":   {"demo", "STS.old#oldsecret#tok-old"},
		"malformed":     {"demo", "justonepart"},
	}
	for name, up := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cl := franzClient(t, s, up[0], up[1], kgo.RecordDeliveryTimeout(1500*time.Millisecond))
			err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("err = %v, want SASL_AUTHENTICATION_FAILED", err)
			}
			if strings.Contains(err.Error(), "nope") || strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), "oldsecret") {
				t.Errorf("error echoes the secret: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		if got := s.Stats().AuthFailures; got < int64(len(cases)) {
			t.Errorf("AuthFailures = %d, want >= %d", got, len(cases))
		}
	})
}

func TestRevokeAndExpireOpenConnection(t *testing.T) {
	now := time.Now()
	clock := now
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	s := slstest.New(t, slstest.Config{Now: func() time.Time { <-mu; defer func() { mu <- struct{}{} }(); return clock }})
	s.AddSTSKey("STS.a", "sec", "tok", now.Add(time.Minute))
	cl := franzClient(t, s, s.Project(), "STS.a#sec#tok", kgo.RecordDeliveryTimeout(3*time.Second))
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	<-mu
	clock = now.Add(2 * time.Minute) // the STS key is now expired
	mu <- struct{}{}
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
