package slstest_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/plain"

	"github.com/slskafka/slskafka/slstest"
)

// kafkaGoWriter builds a segmentio/kafka-go Writer as the SLS docs
// configure one: SASL PLAIN over TLS through a Transport, leader acks. The
// Writer has no topic, so each message names its own. Closing the Writer
// leaves the Transport's connection pool running, so cleanup closes both.
func kafkaGoWriter(t *testing.T, s *slstest.Server, user, pass string, tlsOn bool) *kafka.Writer {
	t.Helper()
	tr := &kafka.Transport{
		ClientID:    "slstest-kafka-go",
		SASL:        plain.Mechanism{Username: user, Password: pass},
		DialTimeout: 5 * time.Second,
	}
	if tlsOn {
		tr.TLS = s.TLSConfig()
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(s.Endpoint().String()),
		Transport:    tr,
		Balancer:     &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireOne,
		// The default waits up to 1 s for a batch to fill.
		BatchTimeout:    5 * time.Millisecond,
		MaxAttempts:     2,
		WriteBackoffMin: 10 * time.Millisecond,
		WriteBackoffMax: 50 * time.Millisecond,
	}
	t.Cleanup(func() {
		w.Close()
		tr.CloseIdleConnections()
	})
	return w
}

func kafkaGoCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestKafkaGoWriter(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
	w := kafkaGoWriter(t, s, s.Project(), password(t, s), true)

	var msgs []kafka.Message
	var want []map[string]string
	for i := range 8 {
		v := "kafka-go line " + strconv.Itoa(i)
		msgs = append(msgs, kafka.Message{Topic: "app", Value: []byte(v)})
		want = append(want, content(v))
	}
	if err := w.WriteMessages(kafkaGoCtx(t), msgs...); err != nil {
		t.Fatal(err)
	}
	if got := perShard(waitLogs(t, s, "app", 8)); got[0] != 4 || got[1] != 4 {
		t.Errorf("logs per shard = %v, want 4 on each of 2 (round robin)", got)
	}

	err := w.WriteMessages(kafkaGoCtx(t),
		kafka.Message{Topic: "app.json", Value: []byte(`{"level":"error","code":500,"ctx":{"user":"u1"},"tags":["x"]}`)},
		kafka.Message{Topic: "app", Value: []byte(`{"via":"header"}`), Headers: []kafka.Header{{Key: "data-parse-format", Value: []byte("json")}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want,
		map[string]string{"level": "error", "code": "500", "ctx": `{"user":"u1"}`, "tags": `["x"]`},
		map[string]string{"via": "header"},
	)
	checkStored(t, waitLogs(t, s, "app", 10), want)
}

func TestKafkaGoAuthFailures(t *testing.T) {
	s := slstest.New(t, slstest.Config{AuthFailure: slstest.AtSASL})
	testBadLogins(t, s, func(t *testing.T, bl badLogin) string {
		w := kafkaGoWriter(t, s, bl.User, bl.Pass, true)
		err := w.WriteMessages(kafkaGoCtx(t), kafka.Message{Topic: "app", Value: []byte("x")})
		if !errors.Is(err, kafka.SASLAuthenticationFailed) {
			t.Fatalf("err = %v, want kafka.SASLAuthenticationFailed", err)
		}
		return err.Error()
	})
}

func TestKafkaGoWithoutTLSCannotConnect(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	w := kafkaGoWriter(t, s, s.Project(), password(t, s), false)
	err := w.WriteMessages(kafkaGoCtx(t), kafka.Message{Topic: "app", Value: []byte("x")})
	checkPlaintextRefused(t, s, err, "")
}
