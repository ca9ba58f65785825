package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example runs to completion on the embedded emulator.
func TestSlogExampleRuns(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	console, stored, ok := strings.Cut(out.String(), "what SLS stored")
	if !ok || !strings.Contains(stored, "summary:") {
		t.Fatalf("no summary of what SLS stored:\n%s", &out)
	}
	// Debug lines go to the console only, as in the zap example.
	if !strings.Contains(console, "level=DEBUG") || strings.Contains(stored, "DEBUG") {
		t.Errorf("want DEBUG on the console and not in SLS:\n%s", &out)
	}
}

// Interrupted (Ctrl-C) before it starts, it stops cleanly, says so, and
// ships nothing.
func TestSlogExampleInterrupted(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "interrupted") || strings.Contains(out.String(), "summary:") {
		t.Errorf("want an interrupted run without a summary:\n%s", &out)
	}
}
