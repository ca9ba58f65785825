package slstest_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/plain"

	"github.com/slskafka/slskafka/slstest"
)

// consumed is a record as a consumer read it back.
type consumed struct {
	key, value string
	null       bool // the key is null
	offset     int64
	time       time.Time
}

// writeShapes writes, one produce request each, a content log and an
// expanded log to a one-shard logstore of an emulator with jumping
// offsets, and returns what a consumer must read back: the shapes of
// SLS's consumption overview, at the offsets the emulator stored.
func writeShapes(t *testing.T, s *slstest.Server) []consumed {
	t.Helper()
	p, err := sarama.NewSyncProducer([]string{s.Endpoint().String()}, saramaConfig(s, s.Project(), password(t, s), sarama.SASLHandshakeV1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	at := time.Unix(1_700_000_000, 250_000_000)
	var want []consumed
	for i := range 3 {
		n := strconv.Itoa(i)
		for _, m := range []struct {
			topic, value string
			want         consumed
		}{
			{"app", "plain line " + n, consumed{key: "content", value: "plain line " + n}},
			{"app.json", `{"n":` + n + `,"msg":"shape"}`, consumed{null: true, value: `{"msg":"shape","n":"` + n + `"}`}},
		} {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: m.topic, Value: sarama.StringEncoder(m.value), Timestamp: at}); err != nil {
				t.Fatal(err)
			}
			m.want.time = at.Truncate(time.Second)
			want = append(want, m.want)
		}
	}
	logs := waitLogs(t, s, "app", len(want))
	for i, l := range logs {
		want[i].offset = l.Offset
	}
	if logs[len(logs)-1].Offset == int64(len(logs)-1) {
		t.Fatalf("offsets %d..%d are dense: JumpingOffsets is off", logs[0].Offset, logs[len(logs)-1].Offset)
	}
	return want
}

// checkConsumed compares what a consumer read with what it must have.
func checkConsumed(t *testing.T, got, want []consumed) {
	t.Helper()
	for i, w := range want {
		g := got[i]
		if g.key != w.key || g.null != w.null || g.value != w.value || g.offset != w.offset || !g.time.Equal(w.time) {
			t.Errorf("record %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestSaramaConsumerReadsSLSShapes reads with sarama's partition consumer
// across jumping offsets.
func TestSaramaConsumerReadsSLSShapes(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, JumpingOffsets: true})
	want := writeShapes(t, s)
	c, err := sarama.NewConsumer([]string{s.Endpoint().String()}, saramaConfig(s, s.Project(), password(t, s), sarama.SASLHandshakeV1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition("app", 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var got []consumed
	// A bound on a test that goes wrong, not a synchronisation.
	deadline := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case m := <-pc.Messages():
			got = append(got, consumed{key: string(m.Key), null: m.Key == nil, value: string(m.Value), offset: m.Offset, time: m.Timestamp})
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-deadline:
			t.Fatalf("read %d of %d records", len(got), len(want))
		}
	}
	checkConsumed(t, got, want)
}

// TestKafkaGoReaderReadsSLSShapes reads with kafka-go's Reader across
// jumping offsets.
func TestKafkaGoReaderReadsSLSShapes(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, JumpingOffsets: true})
	want := writeShapes(t, s)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   []string{s.Endpoint().String()},
		Topic:     "app",
		Partition: 0,
		Dialer:    &kafka.Dialer{Timeout: 5 * time.Second, TLS: s.TLSConfig(), SASLMechanism: plain.Mechanism{Username: s.Project(), Password: password(t, s)}},
		MaxWait:   100 * time.Millisecond,
	})
	defer r.Close()
	var got []consumed
	for len(got) < len(want) {
		m, err := r.ReadMessage(kafkaGoCtx(t))
		if err != nil {
			t.Fatalf("read %d of %d records: %v", len(got), len(want), err)
		}
		got = append(got, consumed{key: string(m.Key), null: m.Key == nil, value: string(m.Value), offset: m.Offset, time: m.Time})
	}
	checkConsumed(t, got, want)
}
