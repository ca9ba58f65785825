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

// The example runs to completion on the embedded emulator, and the logs
// carry the resource, the scope, the severity and the trace.
func TestOtellogRuns(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	s := out.String()
	for _, want := range []string{"summary: 5 records accepted, 5 delivered, 0 failed, 5 stored",
		"service.name:        checkout", "otel.scope.name:     checkout", "severity_number:     13", "req.method:          POST", "trace_id:"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
