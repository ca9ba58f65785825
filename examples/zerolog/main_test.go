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

// The example runs to completion on the embedded emulator: zerolog's and
// logrus's JSON lines are stored as fields, nested objects as dotted keys,
// and Debug reaches the console only.
func TestZerologExampleRuns(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	console, stored, ok := strings.Cut(out.String(), "what SLS stored")
	if !ok || !strings.Contains(stored, "summary: 3 records accepted, 3 delivered") {
		t.Fatalf("no summary of what SLS stored:\n%s", &out)
	}
	for _, want := range []string{"db.table:", "attempts:", "slow query", "payment provider failed"} {
		if !strings.Contains(stored, want) {
			t.Errorf("SLS stored no %q:\n%s", want, stored)
		}
	}
	if !strings.Contains(console, "request received") || strings.Contains(stored, "request received") {
		t.Errorf("want the Debug line on the console and not in SLS:\n%s", &out)
	}
}
