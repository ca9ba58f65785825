package main

import (
	"context"
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
	if err := run(ctx); err != nil {
		t.Fatal(err)
	}
}

// Interrupted (Ctrl-C) before it starts, it stops cleanly and succeeds.
func TestSlogExampleInterrupted(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx); err != nil {
		t.Fatal(err)
	}
}
