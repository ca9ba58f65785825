package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example runs to completion on the embedded emulator and prints the
// producer's metrics, the failure of the missing logstore among them.
func TestOtelRuns(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, true); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	// Literal names, not the producer.Metric* constants: dashboards and
	// alerts use these strings, so a rename must fail here.
	for _, want := range []string{"slskafka.producer.records.delivered", "slskafka.producer.records.failed", "logstore_not_found", "OnError: 1 record(s)"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// The storage error the example injects is retried, and counted.
	if !regexp.MustCompile(`(?m)^\s*slskafka\.producer\.partition\.retries\s+[1-9]`).MatchString(s) {
		t.Errorf("output shows no partition retry:\n%s", s)
	}
}

// Without -json the example prints the faults it injects, OnError and the
// summary, and not the exporter's JSON.
func TestOtelShort(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, false); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"injected: the emulator answers", "injected: one record goes to", "OnError: 1 record(s)", "slskafka.producer.records.failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "ScopeMetrics") || strings.Count(s, "\n") > 60 {
		t.Errorf("output has the exporter's JSON or more than 60 lines:\n%s", s)
	}
}
