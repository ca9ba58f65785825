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

// badLogins registers a revoked key, an expired and a valid STS key on s
// and returns the ways a login fails. Each is tried by every client:
// franz-go, sarama, kafka-go and kcat (librdkafka).
func badLogins(t *testing.T, s *slstest.Server) []badLogin {
	t.Helper()
	c, err := s.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.AddKey("LTAIrevokedkey0001", "revoked-secret")
	s.RevokeKey("LTAIrevokedkey0001")
	s.AddSTSKey("STS.expiredkey0001", "sts-secret", "sts-token", time.Now().Add(-time.Minute))
	s.AddSTSKey("STS.validkey00001", "sts-valid-secret", "sts-valid-token", time.Now().Add(time.Hour))
	return []badLogin{
		{"wrong secret", s.Project(), c.AccessKeyID + "#wrong-secret", "AccessKey is invalid"},
		{"wrong project", "other-project", c.Password(), "username must be the SLS project name"},
		{"revoked key", s.Project(), "LTAIrevokedkey0001#revoked-secret", "AccessKey has been disabled"},
		{"expired STS key", s.Project(), "STS.expiredkey0001#sts-secret#sts-token", "STS security token has expired"},
		{"STS key with wrong token", s.Project(), "STS.validkey00001#sts-valid-secret#wrong-token", "STS security token is invalid"},
		{"STS key without token", s.Project(), "STS.validkey00001#sts-valid-secret", "AccessKeyId belongs to an STS credential"},
		{"static key with token", s.Project(), c.Password() + "#stray-token", "STS security token is invalid"},
		{"malformed", s.Project(), "justonepart", "password must be <AccessKeyId>#<AccessKeySecret>"},
	}
}

// checkNoSecret fails if a text a user sees (an error, a log) repeats a
// secret or token of the bad logins, or the server's own secret, which the
// wrong-project login sends.
func checkNoSecret(t *testing.T, s *slstest.Server, msg string) {
	t.Helper()
	c, err := s.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{
		c.AccessKeySecret,
		"wrong-secret", "revoked-secret", "sts-secret", "sts-token",
		"sts-valid-secret", "sts-valid-token", "wrong-token", "stray-token", "justonepart",
	} {
		if strings.Contains(msg, secret) {
			t.Errorf("text repeats the secret %q: %s", secret, msg)
		}
	}
}

// testBadLogins tries every bad login with one client, in parallel
// subtests. login returns what the client tells its user about the refusal
// (an error message, stderr) and fails the test if the client succeeded.
// The message must name the emulator's reason and no secret, and nothing
// may be stored.
func testBadLogins(t *testing.T, s *slstest.Server, login func(t *testing.T, bl badLogin) string) {
	t.Helper()
	logins := badLogins(t, s)
	for _, bl := range logins {
		t.Run(bl.name, func(t *testing.T) {
			t.Parallel()
			msg := login(t, bl)
			if !strings.Contains(msg, bl.reason) {
				t.Errorf("client reports %q, want the emulator's reason %q", msg, bl.reason)
			}
			checkNoSecret(t, s, msg)
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		if n := len(s.Logs("app")); n != 0 {
			t.Errorf("stored %d logs from refused logins", n)
		}
		if st := s.Stats(); st.Authentications != 0 || st.AuthFailures < int64(len(logins)) {
			t.Errorf("Stats = %+v, want no successful and at least %d refused authentications", st, len(logins))
		}
	})
}

// checkPlaintextRefused checks what a client that produced to s without
// TLS reported (err, and output for the failure message): it must have
// failed without getting as far as SASL, and stored nothing.
func checkPlaintextRefused(t *testing.T, s *slstest.Server, err error, output string) {
	t.Helper()
	if err == nil {
		t.Fatalf("a plaintext client produced to the TLS-only endpoint\n%s", output)
	}
	if st := s.Stats(); st.Authentications != 0 || st.AuthFailures != 0 {
		t.Errorf("Stats = %+v: a plaintext client must not get as far as SASL", st)
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs", n)
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
