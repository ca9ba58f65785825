package slstest_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/slskafka/slskafka/slstest"
)

// saramaConfig configures sarama as Telegraf's kafka output and Beats'
// Kafka output do for SLS: Kafka 2.1, SASL PLAIN over TLS, leader acks, no
// idempotence. Retries and timeouts are short so failing cases end fast.
func saramaConfig(s *slstest.Server, user, pass string, handshake int16) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "slstest-sarama"
	cfg.Version = sarama.V2_1_0_0
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	cfg.Net.SASL.Version = handshake
	// sarama refuses SASL v0 together with ApiVersions, as clients that
	// predate KIP-152 never sent ApiVersions first.
	cfg.ApiVersionsRequest = handshake != sarama.SASLHandshakeV0
	cfg.Net.SASL.User = user
	cfg.Net.SASL.Password = pass
	cfg.Net.TLS.Enable = true
	cfg.Net.TLS.Config = s.TLSConfig()
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 5 * time.Second
	cfg.Net.WriteTimeout = 5 * time.Second
	cfg.Metadata.Retry.Max = 1
	cfg.Metadata.Retry.Backoff = 10 * time.Millisecond
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	cfg.Producer.Idempotent = false
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 2
	cfg.Producer.Retry.Backoff = 10 * time.Millisecond
	// Round robin makes the spread over shards deterministic; Telegraf and
	// Beats default to random or hash partitioning, which spread too.
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	return cfg
}

// saramaHandshakes are the two SASL flows sarama offers: v1 (SaslHandshake
// v1 then SaslAuthenticate), which Telegraf picks for Kafka >= 1.0, and v0
// (SaslHandshake v0 then a bare token), the default of older sarama and
// Beats releases.
var saramaHandshakes = []struct {
	name    string
	version int16
}{
	{"handshake v1", sarama.SASLHandshakeV1},
	{"handshake v0", sarama.SASLHandshakeV0},
}

func TestSaramaSyncProducer(t *testing.T) {
	for _, hs := range saramaHandshakes {
		t.Run(hs.name, func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
			p, err := sarama.NewSyncProducer([]string{s.Endpoint().String()}, saramaConfig(s, s.Project(), password(t, s), hs.version))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()

			var plain []*sarama.ProducerMessage
			var want []map[string]string
			for i := range 6 {
				v := "sarama line " + strconv.Itoa(i)
				plain = append(plain, &sarama.ProducerMessage{Topic: "app", Value: sarama.StringEncoder(v)})
				want = append(want, content(v))
			}
			if err := p.SendMessages(plain); err != nil {
				t.Fatal(err)
			}
			if got := perShard(waitLogs(t, s, "app", 6)); got[0] != 3 || got[1] != 3 {
				t.Errorf("logs per shard = %v, want 3 on each of 2 (round robin)", got)
			}

			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "app.json", Value: sarama.StringEncoder(`{"level":"warn","msg":"disk","req":{"id":7}}`)}); err != nil {
				t.Fatal(err)
			}
			want = append(want, map[string]string{"level": "warn", "msg": "disk", "req": `{"id":7}`})
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{
				Topic:   "app",
				Value:   sarama.StringEncoder(`{"via":"header"}`),
				Headers: []sarama.RecordHeader{{Key: []byte("data-parse-format"), Value: []byte("json")}},
			}); err != nil {
				t.Fatal(err)
			}
			want = append(want, map[string]string{"via": "header"})
			checkStored(t, waitLogs(t, s, "app", 8), want)
		})
	}
}

func TestSaramaAsyncProducer(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 3}})
	cfg := saramaConfig(s, s.Project(), password(t, s), sarama.SASLHandshakeV1)
	cfg.Producer.Return.Errors = true
	cfg.Producer.Compression = sarama.CompressionGZIP // Telegraf's and Beats' default codec
	// Batch by count and time, as Telegraf and Beats do; without a
	// frequency, a batch short of Flush.Messages waits for more messages.
	cfg.Producer.Flush.Messages = 10
	cfg.Producer.Flush.Frequency = 10 * time.Millisecond
	p, err := sarama.NewAsyncProducer([]string{s.Endpoint().String()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var want []map[string]string
	go func() {
		for i := range n {
			v := `{"seq":` + strconv.Itoa(i) + `,"host":"web-1"}`
			p.Input() <- &sarama.ProducerMessage{Topic: "app.json", Value: sarama.StringEncoder(v)}
		}
	}()
	for i := range n {
		want = append(want, map[string]string{"seq": strconv.Itoa(i), "host": "web-1"})
	}
	timeout := time.After(10 * time.Second)
	for acked := 0; acked < n; {
		select {
		case <-p.Successes():
			acked++
		case err := <-p.Errors():
			t.Fatalf("async produce failed: %v", err)
		case <-timeout:
			t.Fatalf("%d of %d messages acknowledged in 10s", acked, n)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	logs := waitLogs(t, s, "app", n)
	checkStored(t, logs, want)
	if got := perShard(logs); got[0] != 10 || got[1] != 10 || got[2] != 10 {
		t.Errorf("logs per shard = %v, want 10 on each of 3 (round robin)", got)
	}
}

func TestSaramaAuthFailures(t *testing.T) {
	s := slstest.New(t, slstest.Config{AuthFailure: slstest.AtSASL})
	testBadLogins(t, s, func(t *testing.T, bl badLogin) string {
		p, err := sarama.NewSyncProducer([]string{s.Endpoint().String()}, saramaConfig(s, bl.User, bl.Pass, sarama.SASLHandshakeV1))
		if err == nil {
			_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "app", Value: sarama.StringEncoder("x")})
			p.Close()
		}
		if !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
			t.Fatalf("err = %v, want sarama.ErrSASLAuthenticationFailed", err)
		}
		return err.Error()
	})
}

// With SaslHandshake v0 the PLAIN token travels outside the Kafka protocol,
// so a refused login can only be signalled by closing the connection, as
// Kafka does; the client then sees the connection end, not a reason.
func TestSaramaHandshakeV0WrongSecretFails(t *testing.T) {
	s := slstest.New(t, slstest.Config{AuthFailure: slstest.AtSASL})
	c, _ := s.Credentials().Credential(t.Context())
	p, err := sarama.NewSyncProducer([]string{s.Endpoint().String()}, saramaConfig(s, s.Project(), c.AccessKeyID+"#wrong-secret", sarama.SASLHandshakeV0))
	if err == nil {
		_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "app", Value: sarama.StringEncoder("x")})
		p.Close()
	}
	if err == nil {
		t.Fatal("a wrong secret authenticated over SaslHandshake v0")
	}
	if st := s.Stats(); st.AuthFailures == 0 || st.Authentications != 0 {
		t.Errorf("Stats = %+v, want a refused and no successful authentication", st)
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs", n)
	}
}

func TestSaramaWithoutTLSCannotConnect(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	cfg := saramaConfig(s, s.Project(), password(t, s), sarama.SASLHandshakeV1)
	cfg.Net.TLS.Enable = false
	cfg.Net.TLS.Config = nil
	p, err := sarama.NewSyncProducer([]string{s.Endpoint().String()}, cfg)
	if err == nil {
		_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "app", Value: sarama.StringEncoder("x")})
		p.Close()
	}
	checkPlaintextRefused(t, s, err, "")
}
