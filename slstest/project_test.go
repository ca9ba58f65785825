package slstest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/slstest"
)

// TestUnknownProjectIsUnknownTopic checks SLS's error table: a valid
// AccessKey with a project that does not exist gets
// UNKNOWN_TOPIC_OR_PARTITION ("the project or logstore does not exist"),
// in both AuthFailure modes, for metadata, produce, fetch and offset
// commits; an all-topics metadata request lists nothing. A refused key
// with another project still fails as a refused key.
func TestUnknownProjectIsUnknownTopic(t *testing.T) {
	for _, mode := range []slstest.AuthFailure{slstest.AtProduce, slstest.AtSASL} {
		t.Run(mode.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Project: "demo", Logstores: map[string]int{"app": 1}, AuthFailure: mode})
			cl := franzClient(t, s, "no-such-project", password(t, s), kgo.UnknownTopicRetries(0), kgo.RecordDeliveryTimeout(5*time.Second))

			md := kmsg.NewPtrMetadataRequest()
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr("app")
			md.Topics = append(md.Topics, rt)
			resp, err := md.RequestWith(ctx(t), cl)
			if err != nil {
				t.Fatal(err)
			}
			if code := resp.Topics[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
				t.Errorf("metadata for app: code %d, want UNKNOWN_TOPIC_OR_PARTITION", code)
			}
			all, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx(t), cl)
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Topics) != 0 {
				t.Errorf("all-topics metadata lists %d topics for a project that does not exist, want none", len(all.Topics))
			}

			err = cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				t.Errorf("produce: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
			}

			fetch := kmsg.NewPtrFetchRequest()
			ft := kmsg.NewFetchRequestTopic()
			ft.Topic = "app"
			ft.Partitions = append(ft.Partitions, kmsg.NewFetchRequestTopicPartition())
			fetch.Topics = append(fetch.Topics, ft)
			fresp, err := fetch.RequestWith(ctx(t), cl)
			if err != nil {
				t.Fatal(err)
			}
			if code := fresp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
				t.Errorf("fetch: code %d, want UNKNOWN_TOPIC_OR_PARTITION", code)
			}
			if err := commitOffset(t, cl, "g", "app"); !errors.Is(err, kerr.UnknownTopicOrPartition) {
				t.Errorf("offset commit: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
			}
			if n := len(s.Logs("app")); n != 0 {
				t.Errorf("stored %d logs for another project", n)
			}
			if st := s.Stats(); st.AuthFailures != 0 || st.AuthorizationErr != 0 {
				t.Errorf("Stats = %+v, want the key accepted and nothing refused as unauthorized", st)
			}
		})
	}

	t.Run("refused key", func(t *testing.T) {
		s := slstest.New(t, slstest.Config{Project: "demo", Logstores: map[string]int{"app": 1}})
		c, _ := s.Credentials().Credential(context.Background())
		cl := franzClient(t, s, "no-such-project", c.AccessKeyID+"#wrong-secret", kgo.RecordDeliveryTimeout(5*time.Second))
		err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Errorf("produce with a refused key and another project: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
	})
}
