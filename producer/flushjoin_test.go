package producer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slskafka/slskafka/slstest"
)

// A Flush whose context ends returns only once the goroutine that kept
// franz-go sending without lingering has ended: otherwise it would still
// call into a client that Close then shuts down.
func TestFlushJoinsItsHelper(t *testing.T) {
	s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}})
	p, err := New(Config{
		Project: s.Project(), Endpoint: s.Endpoint(), Credentials: s.Credentials(),
		TLS: s.TLSConfig(), DialContext: s.DialContext,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.LogSync(ctx, "app", Record{Fields: []Field{{Key: "i", Value: "connected"}}}); err != nil {
		t.Fatal(err)
	}
	s.SetLatency(time.Hour) // nothing is acknowledged: every Flush waits
	if err := p.Log(ctx, "app", Record{Fields: []Field{{Key: "i", Value: "held"}}}); err != nil {
		t.Fatal(err)
	}
	ended, end := context.WithCancel(context.Background())
	end()
	for i := range 20 {
		if err := p.Flush(ended); !errors.Is(err, context.Canceled) {
			t.Fatalf("Flush %d = %v, want context.Canceled", i, err)
		}
		if n := p.flushes.helpers.Load(); n != 0 {
			t.Fatalf("after Flush %d returned, %d helper goroutines still run", i, n)
		}
	}
	if err := p.Close(ended); !errors.Is(err, ErrClosed) {
		t.Fatalf("Close = %v, want ErrClosed", err)
	}
	if n := p.flushes.helpers.Load(); n != 0 {
		t.Fatalf("after Close returned, %d helper goroutines still run", n)
	}
}
