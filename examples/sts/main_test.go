package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example streams for 5 s on the embedded emulator while its keys expire
// every 2 s. run fails unless every record was delivered, none failed, the
// emulator refused no request for an expired key and the credential rotated
// at least twice.
func TestSTSRotates(t *testing.T) {
	t.Setenv("SLS_PROJECT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out lockedBuffer
	err := run(ctx, &out, 5*time.Second)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, secretPrefix) || strings.Contains(s, tokenPrefix) || !strings.Contains(s, "AccessKeySecret:[redacted]") {
		t.Error("the output should show credentials only in their redacted form")
	}
}

// lockedBuffer is a bytes.Buffer the provider and run may write concurrently.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
