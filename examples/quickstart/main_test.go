package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The quickstart runs to completion on the embedded emulator.
func TestQuickstartRuns(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, 300); err != nil {
		t.Fatal(err)
	}
}

// With SLS_PROJECT set but not SLS_LOGSTORE, target says what to set and
// starts no emulator.
func TestTargetMissingLogstore(t *testing.T) {
	isolate(t)
	t.Setenv("SLS_PROJECT", "demo")
	t.Setenv("SLS_ENDPOINT", "127.0.0.1:1")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tQuickstartTestKey1")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "quickstart-test-secret")
	var out bytes.Buffer
	_, _, emulator, err := target(&out)
	if emulator != nil {
		emulator.Close()
		t.Error("an emulator started although SLS_PROJECT is set")
	}
	if err == nil || !strings.Contains(err.Error(), "SLS_LOGSTORE is not set") {
		t.Errorf("error = %v, want one saying that SLS_LOGSTORE is not set", err)
	}
	if out.Len() != 0 {
		t.Errorf("target wrote %q; it should write nothing for real SLS", &out)
	}
}

// With the environment complete, the target is real SLS as
// producer.ConfigFromEnv describes it. Nothing dials: the endpoint is a
// closed port and the credentials are static.
func TestTargetRealSLS(t *testing.T) {
	isolate(t)
	t.Setenv("SLS_PROJECT", "my-project")
	t.Setenv("SLS_ENDPOINT", "127.0.0.1:1")
	t.Setenv("SLS_LOGSTORE", "app-logs")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tQuickstartTestKey1")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "quickstart-test-secret")
	cfg, logstore, emulator, err := target(new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if emulator != nil {
		emulator.Close()
		t.Error("an emulator started although SLS_PROJECT is set")
	}
	if cfg.Project != "my-project" || cfg.Endpoint.String() != "127.0.0.1:1" || logstore != "app-logs" || cfg.TLS != nil {
		t.Errorf("target is project %q, endpoint %v, logstore %q, TLS %v; want my-project, 127.0.0.1:1, app-logs and the system CAs",
			cfg.Project, cfg.Endpoint, logstore, cfg.TLS)
	}
	c, err := cfg.Credentials.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "LTAI5tQuickstartTestKey1" {
		t.Errorf("credential %v does not come from ALIBABA_CLOUD_ACCESS_KEY_ID", c)
	}
}

// isolate keeps the machine's Alibaba Cloud configuration out of a test: a
// fresh HOME, no ALIBABA_CLOUD_* or SLS_* variables, and no ECS metadata
// lookup, so the credential chain sees only what the test sets and never
// leaves the machine.
func isolate(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") || strings.HasPrefix(k, "SLS_") {
			t.Setenv(k, "") // restores the original value after the test
			os.Unsetenv(k)
		}
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}
