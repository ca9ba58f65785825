package slstest_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/slstest"
)

// TestMetadataAllTopicsRefusedKey checks that an all-topics Metadata
// request with a refused key (AtProduce) answers every logstore, in both
// topic forms, with TOPIC_AUTHORIZATION_FAILED and no partitions, as a
// request naming them does: a client that looks its topic up in the list
// then reports the refusal, not an unknown topic.
func TestMetadataAllTopicsRefusedKey(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2, "audit": 1}})
	c, _ := s.Credentials().Credential(context.Background())
	cl := franzClient(t, s, s.Project(), c.AccessKeyID+"#wrong-secret")
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, tp := range resp.Topics {
		if tp.ErrorCode != kerr.TopicAuthorizationFailed.Code || len(tp.Partitions) != 0 {
			t.Errorf("topic %v: code %d, %d partitions; want TOPIC_AUTHORIZATION_FAILED and none", tp.Topic, tp.ErrorCode, len(tp.Partitions))
		}
		got[*tp.Topic] = true
	}
	for _, topic := range []string{"app", "app.json", "audit", "audit.json"} {
		if !got[topic] {
			t.Errorf("all-topics metadata with a refused key does not list %s (listed: %v)", topic, got)
		}
	}
}
