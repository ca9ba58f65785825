package target

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Without SLS_PROJECT the target is a running emulator, and its Config
// reaches it: a producer built from it pings the logstore.
func TestSetupEmulator(t *testing.T) {
	t.Setenv(producer.EnvProject, "")
	var out bytes.Buffer
	tg, err := Setup(&out, slstest.Config{Logstores: map[string]int{"access": 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Emulator == nil {
		t.Fatal("no emulator")
	}
	if tg.Logstore != "access" {
		t.Errorf("Logstore = %q, want %q", tg.Logstore, "access")
	}
	if want := "shipping to the embedded SLS emulator at " + tg.Emulator.Endpoint().String(); !strings.Contains(out.String(), want) {
		t.Errorf("output %q lacks %q", &out, want)
	}

	p, err := producer.New(tg.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Ping(ctx, tg.Logstore); err != nil {
		t.Fatal(err)
	}
}

// An emulator config that names no logstore gets the emulator's default one.
func TestSetupEmulatorDefaultLogstore(t *testing.T) {
	t.Setenv(producer.EnvProject, "")
	tg, err := Setup(new(bytes.Buffer), slstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Logstore != "app" {
		t.Errorf("Logstore = %q, want %q", tg.Logstore, "app")
	}
}

// With SLS_PROJECT but no SLS_LOGSTORE, Setup says what to set.
func TestSetupMissingLogstore(t *testing.T) {
	isolate(t)
	t.Setenv(producer.EnvProject, "demo")
	t.Setenv(producer.EnvEndpoint, "127.0.0.1:1")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tTargetTestKeyID01")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "target-test-secret")
	t.Setenv(producer.EnvLogstore, "")
	var out bytes.Buffer
	tg, err := Setup(&out, slstest.Config{})
	if err == nil {
		tg.Close()
		t.Fatal("no error without SLS_LOGSTORE")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "target: ") || !strings.Contains(msg, "SLS_LOGSTORE is not set") {
		t.Errorf("error %q should start with %q and say that SLS_LOGSTORE is not set", msg, "target: ")
	}
	if out.Len() != 0 {
		t.Errorf("Setup wrote %q; it should write nothing when it fails", &out)
	}
}

// With only SLS_PROJECT set, one error names everything missing, so that one
// run tells the user all there is to set.
func TestSetupIncompleteEnv(t *testing.T) {
	isolate(t)
	t.Setenv(producer.EnvProject, "demo")
	tg, err := Setup(new(bytes.Buffer), slstest.Config{})
	if err == nil {
		tg.Close()
		t.Fatal("no error with only SLS_PROJECT set")
	}
	for _, want := range []string{"SLS_ENDPOINT", "ALIBABA_CLOUD_ACCESS_KEY_ID", "SLS_LOGSTORE is not set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

// With the environment complete, the target is real SLS as
// producer.ConfigFromEnv describes it, and no emulator starts. Nothing dials:
// SLS_ENDPOINT is a closed port and the credentials are static.
func TestSetupRealSLS(t *testing.T) {
	isolate(t)
	t.Setenv(producer.EnvProject, "my-project")
	t.Setenv(producer.EnvEndpoint, "127.0.0.1:1")
	t.Setenv(producer.EnvLogstore, "app-logs")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tTargetTestKeyID01")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "target-test-secret")
	var out bytes.Buffer
	tg, err := Setup(&out, slstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Emulator != nil {
		t.Error("an emulator started although SLS_PROJECT is set")
	}
	if tg.Config.Project != "my-project" || tg.Config.Endpoint.String() != "127.0.0.1:1" || tg.Logstore != "app-logs" {
		t.Errorf("target is project %q, endpoint %v, logstore %q; want my-project, 127.0.0.1:1, app-logs",
			tg.Config.Project, tg.Config.Endpoint, tg.Logstore)
	}
	if tg.Config.TLS != nil {
		t.Error("Config.TLS is set: real SLS is trusted through the system CAs")
	}
	c, err := tg.Config.Credentials.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "LTAI5tTargetTestKeyID01" {
		t.Errorf("credential %v does not come from ALIBABA_CLOUD_ACCESS_KEY_ID", c)
	}
	if out.Len() != 0 {
		t.Errorf("Setup wrote %q for real SLS; it should write nothing", &out)
	}
}

// isolate keeps the machine's Alibaba Cloud configuration out of a test: a
// fresh HOME, no ALIBABA_CLOUD_* variables, and no ECS metadata lookup, so
// the credential chain sees only what the test sets and never leaves the
// machine.
func isolate(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") || strings.HasPrefix(k, "SLS_") {
			t.Setenv(k, "") // restores the original value after the test
			os.Unsetenv(k)
		}
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}
