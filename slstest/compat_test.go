package slstest_test

// Compatibility tests: real Kafka clients other than franz-go, configured as
// the SLS documentation configures them, against the emulator. The
// client-specific tests are in compat_sarama_test.go,
// compat_kafkago_test.go and compat_kcat_test.go; the fault knobs are
// tested in compat_faults_test.go.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// sarama records metrics with rcrowley/go-metrics, whose first
		// Meter starts one process-wide ticker goroutine that is never
		// stopped (meterArbiter.tick). It belongs to no client or
		// connection, so it is not a leak of the code under test.
		goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"),
	)
}

// badLogin is a SASL login that SLS refuses, and the reason the emulator
// gives, which a client should pass on to its user.
type badLogin struct {
	name       string
	user, pass string
	reason     string
}

// badLogins registers a revoked key and an expired STS key on s and
// returns the four ways a login fails: wrong secret, wrong project, revoked
// key, expired STS token.
func badLogins(t *testing.T, s *slstest.Server) []badLogin {
	t.Helper()
	c, err := s.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.AddKey("LTAIrevokedkey0001", "revoked-secret")
	s.RevokeKey("LTAIrevokedkey0001")
	s.AddSTSKey("STS.expiredkey0001", "sts-secret", "sts-token", time.Now().Add(-time.Minute))
	return []badLogin{
		{"wrong secret", s.Project(), c.AccessKeyID + "#wrong-secret", "AccessKey is invalid"},
		{"wrong project", "other-project", c.Password(), "username must be the SLS project name"},
		{"revoked key", s.Project(), "LTAIrevokedkey0001#revoked-secret", "AccessKey has been disabled"},
		{"expired STS key", s.Project(), "STS.expiredkey0001#sts-secret#sts-token", "STS security token has expired"},
	}
}

// checkNoSecret fails if an error text repeats a secret of the bad logins.
func checkNoSecret(t *testing.T, msg string) {
	t.Helper()
	for _, secret := range []string{"wrong-secret", "revoked-secret", "sts-secret", "sts-token"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error repeats the secret %q: %s", secret, msg)
		}
	}
}

// writeCA writes the emulator's CA certificate to a file, for clients that
// read trust roots from a path.
func writeCA(t *testing.T, s *slstest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sls-ca.pem")
	if err := os.WriteFile(path, s.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitLogs waits, bounded, for n logs in a logstore.
func waitLogs(t *testing.T, s *slstest.Server, logstore string, n int) []slstest.Log {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logs, err := s.WaitLogs(c, logstore, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != n {
		t.Fatalf("logstore %q holds %d logs, want %d: %+v", logstore, len(logs), n, logs)
	}
	return logs
}

// checkStored checks that logs hold exactly the wanted field sets, in any
// order.
func checkStored(t *testing.T, logs []slstest.Log, want []map[string]string) {
	t.Helper()
	left := append([]map[string]string(nil), want...)
next:
	for _, l := range logs {
		for i, w := range left {
			if equalFields(l.Fields, w) {
				left = append(left[:i], left[i+1:]...)
				continue next
			}
		}
		t.Errorf("unexpected log on shard %d: %v", l.Shard, l.Fields)
	}
	for _, w := range left {
		t.Errorf("missing log %v", w)
	}
}

func equalFields(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// perShard counts logs per shard.
func perShard(logs []slstest.Log) map[int]int {
	m := map[int]int{}
	for _, l := range logs {
		m[l.Shard]++
	}
	return m
}

func content(v string) map[string]string { return map[string]string{"content": v} }

// TestApiVersionsAdvertiseKafka21 checks that ApiVersions lists what a Kafka
// 2.1 broker lists, not only the requests the emulator serves: librdkafka
// derives message format v2, LZ4 and zstd support from Fetch and
// FindCoordinator being offered, and without them produces message format
// v0, which SLS refuses. kcat covers this end to end in compat_kcat_test.go.
func TestApiVersionsAdvertiseKafka21(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	cl := franzClient(t, s, s.Project(), password(t, s))
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if got := kversion.FromApiVersionsResponse(resp); !got.Equal(kversion.V2_1_0()) {
		t.Errorf("advertised versions:\n%v\nwant Kafka 2.1:\n%v", got, kversion.V2_1_0())
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
