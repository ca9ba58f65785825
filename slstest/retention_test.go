package slstest_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/slstest"
)

// TestMaxStoredBytes checks the retention bound: past MaxStoredBytes a
// logstore drops its oldest logs, Logs returns the newest, and a consumer
// starting at the beginning reads from the first log kept.
func TestMaxStoredBytes(t *testing.T) {
	const (
		total = 100
		size  = 1 << 10
		bound = 20 << 10 // room for about 9 logs of 1 KiB, counted twice
	)
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, MaxStoredBytes: bound})
	cl := franzClient(t, s, s.Project(), password(t, s))
	for i := range total {
		v := strconv.Itoa(i) + ":" + strings.Repeat("x", size)
		if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	logs := s.Logs("app")
	if len(logs) == 0 || len(logs) > bound/(2*size) {
		t.Fatalf("kept %d logs, want between 1 and %d", len(logs), bound/(2*size))
	}
	for i, l := range logs {
		want := total - len(logs) + i
		if l.Offset != int64(want) || !strings.HasPrefix(l.Fields["content"], strconv.Itoa(want)+":") {
			t.Fatalf("log %d: offset %d %.8q, want the newest logs, offset %d", i, l.Offset, l.Fields["content"], want)
		}
	}
	if s.Stats().Records != total {
		t.Errorf("Stats.Records = %d, want %d: dropping is not refusing", s.Stats().Records, total)
	}
	c := franzConsumer(t, s, kgo.ConsumeTopics("app"))
	got := poll(ctx(t), t, c, len(logs))
	if got[0].Offset != logs[0].Offset {
		t.Errorf("a consumer from the start read offset %d first, want %d, the first kept", got[0].Offset, logs[0].Offset)
	}
}
