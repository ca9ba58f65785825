package producer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The queue keeps order, stop hands back what run had not taken, nothing
// is queued after stop, and a Flush then waits until Close has failed what
// was left.
func TestHandoffStop(t *testing.T) {
	h := newHandoff()
	close(h.done) // no run goroutine: stop must not wait for one
	a, b := &pending{}, &pending{}
	if !h.push(a) || !h.push(b) {
		t.Fatal("push before stop refused")
	}
	left := h.stop()
	if len(left) != 2 || left[0] != a || left[1] != b {
		t.Fatalf("stop returned %v, want the two records in order", left)
	}
	if h.push(&pending{}) {
		t.Error("push after stop accepted a record")
	}
	// A Flush after stop waits until Close has failed what stop left
	// (settle): with settled still open, only ctx can end it.
	select {
	case <-h.settled:
		t.Fatal("settled before what stop left was failed")
	default:
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.flush(cancelled); err == nil {
		t.Error("flush after stop returned before what was left was failed")
	}
	h.settle()
	if err := h.flush(context.Background()); err != nil {
		t.Errorf("flush after stop and settle = %v, want nil", err)
	}
}

// Records logged while nothing can be delivered reach franz-go (flush
// returns once they are in its hands), and Close fails every one of them
// with ErrClosed, whether franz-go or the queue still held it.
func TestHandoffFlushAndClose(t *testing.T) {
	for _, queued := range []bool{false, true} {
		name := map[bool]string{false: "in franz-go", true: "still queued"}[queued]
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var failed []Failure
			p := newTestProducer(t, 1<<20, func(c *Config) { // its endpoint refuses connections
				c.OnError = func(f Failure) {
					mu.Lock()
					failed = append(failed, f)
					mu.Unlock()
				}
			})
			if queued { // a queue nobody takes from
				p.handoff.stop()
				p.handoff = newHandoff()
				close(p.handoff.done)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			const n = 1000
			for range n {
				if err := p.Log(ctx, "app", Record{Fields: []Field{{Key: "msg", Value: "hello"}}}); err != nil {
					t.Fatal(err)
				}
			}
			if !queued {
				if err := p.handoff.flush(ctx); err != nil {
					t.Fatalf("handoff flush: %v", err)
				}
			}
			closed, cancelClose := context.WithCancel(context.Background())
			cancelClose()
			p.Close(closed)
			st := p.Stats()
			if st.Accepted != n || st.Failed != n || st.BufferedRecords != 0 || st.BufferedBytes != 0 {
				t.Fatalf("after Close: %+v, want %d accepted and failed, nothing buffered", st, n)
			}
			mu.Lock()
			defer mu.Unlock()
			var reported int
			for _, f := range failed {
				if !errors.Is(f.Err, ErrClosed) {
					t.Errorf("failure %v, want ErrClosed", f.Err)
				}
				reported += f.Records
			}
			if reported != n {
				t.Errorf("OnError reported %d records, want %d", reported, n)
			}
		})
	}
}
