package slstest_test

import (
	"errors"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/slskafka/slskafka/slstest"
)

// TestKafkaGoRefusedKeyIsAuthorization checks that kafka-go reports a
// refused AccessKey (AtProduce, SLS's documented TopicAuthorizationException)
// as an authorization failure: its Transport looks the topic up in an
// all-topics Metadata response, where the emulator answers every logstore
// with TOPIC_AUTHORIZATION_FAILED; an empty list made kafka-go report
// "Unknown Topic Or Partition".
func TestKafkaGoRefusedKeyIsAuthorization(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	c, err := s.Credentials().Credential(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w := kafkaGoWriter(t, s, s.Project(), c.AccessKeyID+"#wrong-secret", true)
	err = w.WriteMessages(kafkaGoCtx(t), kafka.Message{Topic: "app", Value: []byte("x")})
	if !errors.Is(err, kafka.TopicAuthorizationFailed) {
		t.Errorf("kafka-go with a refused key: %v, want kafka.TopicAuthorizationFailed", err)
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs", n)
	}
}
