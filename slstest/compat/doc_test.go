package slstest_test

// Compatibility tests of the emulator with Kafka clients other than franz-go
// that are Go modules (sarama, segmentio/kafka-go), configured as the SLS
// documentation configures them. They live in a module of their own so that
// users of package slstest do not get these clients in their module graph;
// librdkafka (kcat) and the franz-go tests stay with slstest.
//
// The helpers below are those of slstest's compat_test.go and franz_test.go
// that these tests use: test files cannot be shared across modules.

import (
	"context"
	"strings"
	"testing"
	"time"

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
// and returns the ways a login fails.
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
// and fails the test if the client succeeded. The message must name the
// emulator's reason and no secret, and nothing may be stored.
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
// TLS reported: it must have failed without getting as far as SASL, and
// stored nothing.
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

// password is the emulator's own AccessKey as a SASL password.
func password(t *testing.T, s *slstest.Server) string {
	t.Helper()
	c, err := s.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.Password()
}
