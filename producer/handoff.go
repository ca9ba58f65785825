package producer

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Log does not call kgo.Client.Produce itself: it queues the encoded record
// for one goroutine (run) that hands records to franz-go. Produce takes
// franz-go's producer-wide lock, picks a partition and appends the record to
// its batch, 200-300 ns that the logging goroutine (a request handler, say)
// no longer waits for, and that concurrent loggers no longer queue for on
// that lock. The queue is a slice swapped whole under a mutex, so the
// goroutine takes everything queued in one step and is woken only when it
// had nothing to do. Records reach franz-go in the order Log accepted them.
//
// The queue needs no bound of its own: records in it are already counted
// against MaxBufferedBytes.
type handoff struct {
	mu      sync.Mutex
	queue   []*pending
	spare   []*pending    // the previous queue's array, for reuse
	idle    bool          // run is waiting for wake
	stopped bool          // run returns, leaving what is queued
	wake    chan struct{} // capacity 1; sent to only when idle was set
	done    chan struct{} // closed when run has returned
	settled chan struct{} // closed by settle once what stop left is failed
	once    sync.Once
}

// spareCap is the queue capacity kept however little of it is used.
const spareCap = 4096

func newHandoff() *handoff {
	return &handoff{wake: make(chan struct{}, 1), done: make(chan struct{}), settled: make(chan struct{})}
}

// push queues pd. It reports false, and queues nothing, after stop.
func (h *handoff) push(pd *pending) bool {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return false
	}
	h.queue = append(h.queue, pd)
	wake := h.idle
	h.idle = false
	h.mu.Unlock()
	if wake {
		h.wake <- struct{}{}
	}
	return true
}

// run hands queued records to franz-go until stop.
func (p *Producer) run() {
	h := p.handoff
	defer close(h.done)
	var batch []*pending
	for {
		h.mu.Lock()
		if batch != nil && (cap(batch) <= spareCap || len(batch) > cap(batch)/4) {
			clear(batch) // drop the references: delivered records can be freed
			h.spare = batch[:0]
		} // else let a burst's big array go
		for len(h.queue) == 0 && !h.stopped {
			h.idle = true
			h.mu.Unlock()
			<-h.wake
			h.mu.Lock()
		}
		if h.stopped {
			h.mu.Unlock()
			return
		}
		batch, h.queue, h.spare = h.queue, h.spare, nil
		h.mu.Unlock()
		for _, pd := range batch {
			if pd.ls == nil { // Flush's marker
				close(pd.done)
				continue
			}
			p.cl.Produce(context.Background(), &pd.rec, p.promised)
		}
	}
}

// flush waits until everything queued before the call is in franz-go's
// hands, or failed by Close, or ctx is done.
func (h *handoff) flush(ctx context.Context) error {
	mark := &pending{done: make(chan error)}
	var marked <-chan error = mark.done
	var settled <-chan struct{}
	if !h.push(mark) { // stopped: Close is failing what was queued
		marked, settled = nil, h.settled
	}
	select {
	case <-marked:
		return nil
	case <-settled:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends run and returns what was still queued, for Close to fail.
func (h *handoff) stop() []*pending {
	h.mu.Lock()
	h.stopped = true
	wake := h.idle
	h.idle = false
	h.mu.Unlock()
	if wake {
		h.wake <- struct{}{}
	}
	<-h.done
	h.mu.Lock()
	left := h.queue
	h.queue = nil
	h.mu.Unlock()
	return left
}

// failQueued fails records that Close found still queued, as franz-go fails
// the ones it still buffers.
func (p *Producer) failQueued(left []*pending) {
	for _, pd := range left {
		if pd.ls == nil { // Flush's marker
			close(pd.done)
			continue
		}
		p.promise(&pd.rec, kgo.ErrClientClosed)
	}
	p.handoff.settle()
}

// settle releases Flushes waiting after stop.
func (h *handoff) settle() { h.once.Do(func() { close(h.settled) }) }
