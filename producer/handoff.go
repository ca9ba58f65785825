package producer

import (
	"sync"
	"sync/atomic"
	"time"
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
// franz-go holds at most a quarter of MaxBufferedBytes (kafka.go); when it
// is full, run blocks in Produce with the record's deadline context and the
// rest wait here. During an outage run takes them from the queue and holds
// them (pending.go), where each fails at its own deadline and is known
// never to have been sent. Records franz-go failed before their own
// deadline come back through requeue, ahead of the queue.
//
// The queue needs no bound of its own: records in it are already charged
// to the budget.
type handoff struct {
	mu      sync.Mutex
	queue   []*pending
	requeue []*pending    // handed back by the promise; go first
	spare   []*pending    // the previous queue's array, for reuse
	idle    bool          // run is waiting for wake
	stopped bool          // run fails what is queued and returns
	wake    chan struct{} // capacity 1; sent to only when idle was set
	done    chan struct{} // closed when run has returned
	handed  broadcast     // run has handed records over
	// halted is stopped, read without mu: run checks it before each
	// record it hands to franz-go, so that what it took from the queue
	// is failed at once, not offered one by one to a closed client.
	halted atomic.Bool
	// requeued counts the records pushFront queued: franz-go handed them
	// back before their deadline (for tests: export_test.go).
	requeued atomic.Int64
	// inFranz counts the records handed to franz-go whose promise has
	// not run. The promise updates it for every record: on a cache line
	// of its own, not mu's, which every Log takes.
	_       [64]byte
	inFranz atomic.Int64
	_       [56]byte
}

// spareCap is the queue capacity kept however little of it is used.
const spareCap = 4096

func newHandoff() *handoff {
	return &handoff{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// push queues pd. It reports false, and queues nothing, after stop.
func (h *handoff) push(pd *pending) bool { return h.add(&h.queue, pd) }

// pushFront queues pd ahead of the records never handed over, for a record
// whose partition franz-go failed before its deadline.
func (h *handoff) pushFront(pd *pending) bool {
	if !h.add(&h.requeue, pd) {
		return false
	}
	h.requeued.Add(1)
	return true
}

func (h *handoff) add(q *[]*pending, pd *pending) bool {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return false
	}
	*q = append(*q, pd)
	wake := h.idle
	h.idle = false
	h.mu.Unlock()
	if wake {
		h.wake <- struct{}{}
	}
	return true
}

// take returns what is queued and what was handed back (requeued), and
// whether stop was called (then with what is left, for Close to fail). If
// block, it waits until there is something to return.
func (h *handoff) take(prev []*pending, block bool) (queued, requeued []*pending, stopped bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev != nil && (cap(prev) <= spareCap || len(prev) > cap(prev)/4) {
		clear(prev) // drop the references: finished records' slabs are reused
		h.spare = prev[:0]
	} // else let a burst's big array go
	for block && len(h.queue) == 0 && len(h.requeue) == 0 && !h.stopped {
		h.idle = true
		h.mu.Unlock()
		<-h.wake
		h.mu.Lock()
	}
	queued, h.queue, h.spare = h.queue, h.spare, nil
	requeued, h.requeue = h.requeue, nil
	return queued, requeued, h.stopped
}

// wait returns once a record is queued, stop is called, up or deadline is
// closed, or tick fires (then it reports true). A push that saw run idle
// may leave a wake-up in the channel after wait returned for another
// reason; it costs take one extra round, nothing more.
func (h *handoff) wait(up, deadline <-chan struct{}, tick <-chan time.Time) (ticked bool) {
	h.mu.Lock()
	if len(h.queue) > 0 || len(h.requeue) > 0 || h.stopped {
		h.mu.Unlock()
		return false
	}
	h.idle = true
	h.mu.Unlock()
	select {
	case <-h.wake:
	case <-up:
	case <-deadline:
	case <-tick:
		ticked = true
	}
	h.mu.Lock()
	h.idle = false
	h.mu.Unlock()
	return ticked
}

// stop makes run fail what is queued and return. Records pushed after it
// are refused.
func (h *handoff) stop() {
	h.mu.Lock()
	h.stopped = true
	h.halted.Store(true)
	wake := h.idle
	h.idle = false
	h.mu.Unlock()
	if wake {
		h.wake <- struct{}{}
	}
}

// broadcast tells whoever waits that something happened: next returns a
// channel that the next fire closes.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{} // nil: nobody waits
}

func (b *broadcast) next() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) fire() {
	b.mu.Lock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
	b.mu.Unlock()
}
