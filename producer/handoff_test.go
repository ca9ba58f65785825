package producer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

// newOfflineProducer returns a producer whose endpoint refuses connections.
func newOfflineProducer(t *testing.T, mutate ...func(*Config)) *Producer {
	t.Helper()
	ep, err := endpoint.Parse("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Project: "demo", Endpoint: ep, Credentials: auth.Static("id", "secret"),
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // nothing was delivered: nothing to wait for
		p.Close(ctx)
	})
	return p
}

// The queue keeps order, records handed back come apart, and nothing is
// queued after stop.
func TestHandoffOrder(t *testing.T) {
	h := newHandoff()
	a, b, c := &pending{}, &pending{}, &pending{}
	if !h.push(a) || !h.push(b) || !h.pushFront(c) {
		t.Fatal("push before stop refused")
	}
	queued, requeued, stopped := h.take(nil, true)
	if stopped || len(queued) != 2 || queued[0] != a || queued[1] != b || len(requeued) != 1 || requeued[0] != c {
		t.Fatalf("take = %v, %v (stopped %v), want the two in order and the handed-back one", queued, requeued, stopped)
	}
	if q, r, _ := h.take(queued, false); len(q)+len(r) != 0 {
		t.Fatalf("take without blocking on an empty queue = %v, %v", q, r)
	}
	h.push(a)
	h.stop()
	if h.push(b) || h.pushFront(c) {
		t.Error("push after stop accepted a record")
	}
	if queued, _, stopped := h.take(nil, true); !stopped || len(queued) != 1 || queued[0] != a {
		t.Errorf("take after stop = %v (stopped %v), want what was left and stopped", queued, stopped)
	}
}

// wait returns when a record is queued, or when a channel is ready, and
// says whether the tick was.
func TestHandoffWait(t *testing.T) {
	h := newHandoff()
	up := make(chan struct{})
	close(up)
	if h.wait(up, nil, nil) {
		t.Error("wait reported a tick when up was closed")
	}
	go h.push(&pending{})
	if h.wait(nil, nil, nil) {
		t.Error("wait reported a tick when a record was queued")
	}
	h.take(nil, false)
	tick := make(chan time.Time, 1)
	tick <- time.Now()
	if !h.wait(nil, nil, tick) {
		t.Error("wait did not report the tick")
	}
}

// Records logged while the endpoint is down wait in the producer (run holds
// them), not in franz-go, and all fail when Close gives up: with ErrClosed naming
// the last error, as never sent (Failed, not Unconfirmed), each reported
// once. (Records franz-go holds when Close gives up: TestCloseFitsItsContext
// and TestStoredRecordsAreNeverCountedFailed.)
func TestCloseFailsRecordsHeldWhileDown(t *testing.T) {
	var mu sync.Mutex
	var failed []Failure
	p := newOfflineProducer(t, func(c *Config) {
		c.MaxBufferedBytes = 16 << 20
		c.OnError = func(f Failure) {
			mu.Lock()
			failed = append(failed, f)
			mu.Unlock()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Ping(ctx, "app"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Ping = %v, want ErrUnreachable", err)
	}
	const n = 6000
	r := Record{Fields: fields(strings.Repeat("q", 1000))}
	for range n {
		if err := p.Log(ctx, "app", r); err != nil {
			t.Fatal(err)
		}
	}
	if in := p.handoff.inFranz.Load(); in != 0 {
		t.Errorf("%d records handed to franz-go while the endpoint is down, want them held", in)
	}
	closed, cancelClose := context.WithCancel(context.Background())
	cancelClose()
	err := p.Close(closed)
	if !errors.Is(err, ErrClosed) || !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want ErrClosed and the context's error", err)
	}
	st := p.Stats()
	if st.Accepted != n || st.Failed != n || st.Unconfirmed != 0 || st.BufferedRecords != 0 || st.BufferedBytes != 0 {
		t.Fatalf("after Close: %+v, want %d accepted and failed, nothing buffered or unconfirmed", st, n)
	}
	mu.Lock()
	defer mu.Unlock()
	var reported int
	for _, f := range failed {
		if !errors.Is(f.Err, ErrClosed) || f.Unconfirmed {
			t.Errorf("failure %v (unconfirmed %v), want ErrClosed, not unconfirmed", f.Err, f.Unconfirmed)
		}
		if msg := f.Err.Error(); !strings.Contains(msg, "connection refused") {
			t.Errorf("failure %q does not name the last error", msg)
		}
		reported += f.Records
	}
	if reported != n {
		t.Errorf("OnError reported %d records, want %d", reported, n)
	}
}
