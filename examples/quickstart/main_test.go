package main

import (
	"context"
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
