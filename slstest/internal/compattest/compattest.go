// Package compattest holds the helpers that the emulator's compatibility
// tests share: those in package slstest (franz-go, kcat) and those in the
// slstest/compat module (sarama, kafka-go), which test files of another
// module cannot reach.
package compattest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/slstest"
)

// BadLogin is a SASL login that SLS refuses, and the reason the emulator
// gives, which a client should pass on to its user.
type BadLogin struct {
	Name       string
	User, Pass string
	Reason     string
}

// BadLogins registers a revoked key, an expired and a valid STS key on s
// and returns the ways a login fails. Each is tried by every client:
// franz-go, sarama, kafka-go and kcat (librdkafka). A valid key with
// another project is not one of them: it logs in and finds no logstore,
// as SLS answers a project that does not exist.
func BadLogins(t *testing.T, s *slstest.Server) []BadLogin {
	t.Helper()
	c, err := s.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.AddKey("LTAIrevokedkey0001", "revoked-secret")
	s.RevokeKey("LTAIrevokedkey0001")
	s.AddSTSKey("STS.expiredkey0001", "sts-secret", "sts-token", time.Now().Add(-time.Minute))
	s.AddSTSKey("STS.validkey00001", "sts-valid-secret", "sts-valid-token", time.Now().Add(time.Hour))
	return []BadLogin{
		{"wrong secret", s.Project(), c.AccessKeyID + "#wrong-secret", "AccessKey is invalid"},
		{"revoked key", s.Project(), "LTAIrevokedkey0001#revoked-secret", "AccessKey has been disabled"},
		{"expired STS key", s.Project(), "STS.expiredkey0001#sts-secret#sts-token", "STS security token has expired"},
		{"STS key with wrong token", s.Project(), "STS.validkey00001#sts-valid-secret#wrong-token", "STS security token is invalid"},
		{"STS key without token", s.Project(), "STS.validkey00001#sts-valid-secret", "AccessKeyId belongs to an STS credential"},
		{"static key with token", s.Project(), c.Password() + "#stray-token", "STS security token is invalid"},
		{"malformed", s.Project(), "justonepart", "password must be <AccessKeyId>#<AccessKeySecret>"},
	}
}

// CheckNoSecret fails if a text a user sees (an error, a log) repeats a
// secret or token of the bad logins, or the server's own secret, which the
// static-key-with-token login sends.
func CheckNoSecret(t *testing.T, s *slstest.Server, msg string) {
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

// RefusesBadLogins tries every bad login with one client, in parallel
// subtests. login returns what the client tells its user about the refusal
// (an error message, stderr) and fails the test if the client succeeded.
// The message must name the emulator's reason and no secret, and nothing
// may be stored.
func RefusesBadLogins(t *testing.T, s *slstest.Server, login func(t *testing.T, bl BadLogin) string) {
	t.Helper()
	logins := BadLogins(t, s)
	for _, bl := range logins {
		t.Run(bl.Name, func(t *testing.T) {
			t.Parallel()
			msg := login(t, bl)
			if !strings.Contains(msg, bl.Reason) {
				t.Errorf("client reports %q, want the emulator's reason %q", msg, bl.Reason)
			}
			CheckNoSecret(t, s, msg)
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

// CheckPlaintextRefused checks what a client that produced to s without
// TLS reported (err, and output for the failure message): it must have
// failed without getting as far as SASL, and stored nothing.
func CheckPlaintextRefused(t *testing.T, s *slstest.Server, err error, output string) {
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

// WriteCA writes the emulator's CA certificate to a file, for clients that
// read trust roots from a path.
func WriteCA(t *testing.T, s *slstest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sls-ca.pem")
	if err := os.WriteFile(path, s.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// WaitLogs waits, bounded, for n logs in a logstore.
func WaitLogs(t *testing.T, s *slstest.Server, logstore string, n int) []slstest.Log {
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

// CheckStored checks that logs hold exactly the wanted field sets, in any
// order.
func CheckStored(t *testing.T, logs []slstest.Log, want []map[string]string) {
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

// PerShard counts logs per shard.
func PerShard(logs []slstest.Log) map[int]int {
	m := map[int]int{}
	for _, l := range logs {
		m[l.Shard]++
	}
	return m
}

// Content is the fields of a log whose only field is content, as a plain
// (non-JSON) record value is stored.
func Content(v string) map[string]string { return map[string]string{"content": v} }

// Password is the emulator's own AccessKey as a SASL password.
func Password(t *testing.T, s *slstest.Server) string {
	t.Helper()
	c, err := s.Credentials().Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.Password()
}
