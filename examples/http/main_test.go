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

func TestHTTPExampleRuns(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, "127.0.0.1:0", 5); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	s := out.String()
	// The request that arrived inside a trace is logged with that trace id.
	for _, want := range []string{"trace_id=4bf92f3577b34da6a3ce929d0e0e4736", "http.status=404", "order not found", "summary: 6 request logs delivered, 0 failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "span_id=") != 6 {
		t.Errorf("want a span_id on all 6 logs:\n%s", s)
	}
}
