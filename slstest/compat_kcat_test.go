package slstest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/slstest"
)

// kcatPath finds kcat (librdkafka's command-line client). Without it the
// test is skipped, except under CI, where a missing kcat is a failure so
// that librdkafka compatibility is never silently untested.
func kcatPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err == nil {
		return path
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
		t.Fatalf("kcat not found (%v) and CI=%s: install it (apt-get install -y kcat) to test librdkafka compatibility", err, ci)
	}
	t.Skipf("kcat not found (%v); install it (apt-get install -y kcat) to test librdkafka compatibility", err)
	return ""
}

// kcat runs kcat as a producer configured as the SLS docs configure
// librdkafka (SASL_SSL, PLAIN, CA file), feeding it stdin, and returns its
// stderr and exit error. Extra arguments follow -P.
func kcat(t *testing.T, s *slstest.Server, user, pass, caFile, stdin string, args ...string) (string, error) {
	t.Helper()
	_, stderr, err := kcatRun(t, s, user, pass, caFile, stdin, append([]string{"-P"}, args...)...)
	return stderr, err
}

// kcatRun runs kcat with the SLS settings and args, and returns its
// stdout, stderr and exit error.
func kcatRun(t *testing.T, s *slstest.Server, user, pass, caFile, stdin string, args ...string) (string, string, error) {
	t.Helper()
	path := kcatPath(t)
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	argv := []string{
		"-b", s.Endpoint().String(),
		"-X", "security.protocol=sasl_ssl",
		"-X", "sasl.mechanisms=PLAIN",
		"-X", "sasl.username=" + user,
		"-X", "sasl.password=" + pass,
		"-X", "ssl.ca.location=" + caFile,
		// Bounds a delivery that never succeeds; kcat exits sooner when
		// every broker connection fails (authentication, TLS).
		"-X", "message.timeout.ms=10000",
	}
	if slices.Contains(args, "-C") {
		argv = argv[:len(argv)-2] // a producer setting
	}
	cmd := exec.CommandContext(c, path, append(argv, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if c.Err() != nil {
		t.Fatalf("kcat did not exit within 20s: %s", stderr.String())
	}
	return stdout.String(), stderr.String(), err
}

func TestKcatProduces(t *testing.T) {
	kcatPath(t)
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
	ca := writeCA(t, s)
	pass := password(t, s)

	// Keyed records: librdkafka hashes keys onto partitions, so 20
	// distinct keys land on both shards, and equal keys on one shard.
	var in strings.Builder
	var want []map[string]string
	for i := range 20 {
		v := "kcat line " + strconv.Itoa(i)
		fmt.Fprintf(&in, "key-%d|%s\n", i%10, v)
		want = append(want, content(v))
	}
	if stderr, err := kcat(t, s, s.Project(), pass, ca, in.String(), "-t", "app", "-K", "|"); err != nil {
		t.Fatalf("kcat: %v\n%s", err, stderr)
	}
	logs := waitLogs(t, s, "app", 20)
	checkStored(t, logs, want)
	shardOfKey := map[string]int{}
	for _, l := range logs {
		i, _ := strconv.Atoi(strings.TrimPrefix(l.Fields["content"], "kcat line "))
		key := "key-" + strconv.Itoa(i%10)
		if sh, ok := shardOfKey[key]; ok && sh != l.Shard {
			t.Errorf("%s landed on shards %d and %d", key, sh, l.Shard)
		}
		shardOfKey[key] = l.Shard
	}
	if got := perShard(logs); got[0] == 0 || got[1] == 0 {
		t.Errorf("logs per shard = %v, want both shards used", got)
	}

	if stderr, err := kcat(t, s, s.Project(), pass, ca, `{"level":"info","msg":"from kcat","http":{"status":200}}`+"\n", "-t", "app.json", "-z", "lz4"); err != nil {
		t.Fatalf("kcat: %v\n%s", err, stderr)
	}
	want = append(want, map[string]string{"level": "info", "msg": "from kcat", "http": `{"status":200}`})
	if stderr, err := kcat(t, s, s.Project(), pass, ca, `{"via":"header"}`+"\n", "-t", "app", "-H", "data-parse-format=json", "-z", "zstd"); err != nil {
		t.Fatalf("kcat: %v\n%s", err, stderr)
	}
	want = append(want, map[string]string{"via": "header"})
	checkStored(t, waitLogs(t, s, "app", 22), want)
}

func TestKcatAuthFailures(t *testing.T) {
	kcatPath(t)
	s := slstest.New(t, slstest.Config{AuthFailure: slstest.AtSASL})
	ca := writeCA(t, s)
	testBadLogins(t, s, func(t *testing.T, bl badLogin) string {
		stderr, err := kcat(t, s, bl.User, bl.Pass, ca, "x\n", "-t", "app")
		if err == nil {
			t.Fatalf("kcat exited 0 with a bad login\n%s", stderr)
		}
		if !strings.Contains(stderr, "Authentication failure") || !strings.Contains(stderr, "SASL authentication error") {
			t.Errorf("kcat stderr does not name SASL authentication:\n%s", stderr)
		}
		return stderr
	})
}

func TestKcatWithoutTLSCannotConnect(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	path := kcatPath(t)
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, path,
		"-b", s.Endpoint().String(),
		"-X", "security.protocol=sasl_plaintext",
		"-X", "sasl.mechanisms=PLAIN",
		"-X", "sasl.username="+s.Project(),
		"-X", "sasl.password="+password(t, s),
		"-X", "message.timeout.ms=10000",
		"-P", "-t", "app")
	cmd.Stdin = strings.NewReader("x\n")
	out, err := cmd.CombinedOutput()
	if c.Err() != nil {
		t.Fatalf("kcat did not exit within 20s: %s", out)
	}
	checkPlaintextRefused(t, s, err, string(out))
}

// TestKcatConsumes has kcat -P write and kcat -C read back, both with the SLS
// document's settings: kcat -C -t app -o beginning -e prints what SLS
// serves, from every shard, and so does the app.json topic: an expanded
// log as a null key and the JSON object of its fields, all strings; a
// content log as the key "content" and its text.
func TestKcatConsumes(t *testing.T) {
	kcatPath(t)
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}, JumpingOffsets: true})
	ca := writeCA(t, s)
	pass := password(t, s)
	var in strings.Builder
	var want []string
	for i := range 20 {
		fmt.Fprintf(&in, "k%d|%s\n", i, `{"n":`+strconv.Itoa(i)+`,"msg":"kcat round trip"}`)
		// The record key is not stored, so none comes back.
		want = append(want, `|{"msg":"kcat round trip","n":"`+strconv.Itoa(i)+`"}`)
	}
	if stderr, err := kcat(t, s, s.Project(), pass, ca, in.String(), "-t", "app.json", "-K", "|", "-z", "lz4"); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, stderr)
	}
	if stderr, err := kcat(t, s, s.Project(), pass, ca, "plain line one\nplain line two\n", "-t", "app"); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, stderr)
	}
	want = append(want, "content|plain line one", "content|plain line two")
	if got := perShard(waitLogs(t, s, "app", 22)); got[0] == 0 || got[1] == 0 {
		t.Fatalf("logs per shard = %v, want both shards used", got)
	}
	for _, topic := range []string{"app", "app.json"} {
		// A shard's end shows as an empty fetch, which waits
		// fetch.wait.max.ms (500 ms by default) for records.
		stdout, stderr, err := kcatRun(t, s, s.Project(), pass, ca, "", "-X", "fetch.wait.max.ms=50", "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%k|%s\n")
		if err != nil {
			t.Fatalf("kcat -C -t %s: %v\n%s", topic, err, stderr)
		}
		got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("kcat -C -t %s printed:\n%s\nwant the %d logs written, as SLS serves them", topic, stdout, len(want))
		}
	}
}
