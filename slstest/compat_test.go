package slstest_test

// Compatibility tests: real Kafka clients other than franz-go, configured as
// the SLS documentation configures them, against the emulator. kcat
// (librdkafka) is tested in compat_kcat_test.go; sarama and kafka-go in the
// slstest/compat module, which keeps them out of slstest's module graph;
// the fault knobs in compat_faults_test.go.

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/slstest"
	"github.com/slskafka/slskafka/slstest/internal/compattest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The helpers shared with the compatibility tests of the other module
// (slstest/internal/compattest), under the names these tests use.
type badLogin = compattest.BadLogin

var (
	badLogins             = compattest.BadLogins
	checkNoSecret         = compattest.CheckNoSecret
	testBadLogins         = compattest.RefusesBadLogins
	checkPlaintextRefused = compattest.CheckPlaintextRefused
	waitLogs              = compattest.WaitLogs
	checkStored           = compattest.CheckStored
	perShard              = compattest.PerShard
	content               = compattest.Content
	password              = compattest.Password
	writeCA               = compattest.WriteCA
)

// TestApiVersionsAdvertiseKafka21 checks that ApiVersions lists what a Kafka
// 2.1 broker lists, not only the requests the emulator serves: librdkafka
// derives message format v2, LZ4 and zstd support from Fetch and
// FindCoordinator being offered, and without them produces message format
// v0, which SLS refuses. kcat covers this end to end in compat_kcat_test.go.
// The consumer requests are offered at Kafka 2.2, as SLS documents its
// consumer groups; SaslAuthenticate stays at v0 (v1 would announce
// re-authentication, which SLS lacks).
func TestApiVersionsAdvertiseKafka21(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	cl := franzClient(t, s, s.Project(), password(t, s))
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	want := kversion.V2_1_0()
	for _, k := range []kmsg.Key{kmsg.Fetch, kmsg.ListOffsets, kmsg.FindCoordinator, kmsg.JoinGroup, kmsg.SyncGroup, kmsg.Heartbeat, kmsg.LeaveGroup, kmsg.OffsetCommit, kmsg.OffsetFetch} {
		v, _ := kversion.V2_2_0().LookupMaxKeyVersion(k.Int16())
		want.SetMaxKeyVersion(k.Int16(), v)
	}
	got := kversion.FromApiVersionsResponse(resp)
	if !got.Equal(want) {
		t.Errorf("advertised versions:\n%v\nwant Kafka 2.1 with the consumer requests at 2.2:\n%v", got, want)
	}
	for k, v := range map[kmsg.Key]int16{kmsg.ListOffsets: 5, kmsg.JoinGroup: 4, kmsg.SASLAuthenticate: 0, kmsg.Produce: 7} {
		if max, _ := got.LookupMaxKeyVersion(k.Int16()); max != v {
			t.Errorf("%s advertised up to v%d, want v%d", k.Name(), max, v)
		}
	}
}

// TestMetadataListsBothTopicForms checks that a metadata request for all
// topics lists <logstore> and <logstore>.json: kafka-go's Transport produces
// from a cached all-topics response and otherwise calls app.json unknown.
func TestMetadataListsBothTopicForms(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2, "audit": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s))
	req := kmsg.NewPtrMetadataRequest() // nil Topics: all topics
	resp, err := req.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, tp := range resp.Topics {
		if tp.ErrorCode != 0 {
			t.Errorf("topic %v: error %d", tp.Topic, tp.ErrorCode)
		}
		got[*tp.Topic] = len(tp.Partitions)
	}
	want := map[string]int{"app": 2, "app.json": 2, "audit": 1, "audit.json": 1}
	if len(got) != len(want) {
		t.Errorf("topics = %v, want %v", got, want)
	}
	for topic, n := range want {
		if got[topic] != n {
			t.Errorf("topic %s has %d partitions, want %d (all: %v)", topic, got[topic], n, got)
		}
	}
}
