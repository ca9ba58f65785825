package producer

import (
	"sync"
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
// rest wait here. So during an outage most records wait in this queue,
// where each fails at its own deadline and is known never to have been
// sent. Records whose partition franz-go failed before their own deadline
// come back through requeue, ahead of the queue.
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
	handed  chan struct{} // closed when run has handed records over; nil: nobody waits
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
func (h *handoff) pushFront(pd *pending) bool { return h.add(&h.requeue, pd) }

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

// take waits for records and returns them, requeued ones first, or
// stopped once stop was called (with what is left, for Close to fail).
func (h *handoff) take(prev []*pending) (batch []*pending, stopped bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev != nil && (cap(prev) <= spareCap || len(prev) > cap(prev)/4) {
		clear(prev) // drop the references: finished records' slabs are reused
		h.spare = prev[:0]
	} // else let a burst's big array go
	for len(h.queue) == 0 && len(h.requeue) == 0 && !h.stopped {
		h.idle = true
		h.mu.Unlock()
		<-h.wake
		h.mu.Lock()
	}
	if len(h.requeue) > 0 {
		batch = append(h.requeue, h.queue...)
		h.requeue, h.queue = nil, h.spare
	} else {
		batch, h.queue = h.queue, h.spare
	}
	h.spare = nil
	return batch, h.stopped
}

// handedOver returns a channel closed the next time run hands records to
// franz-go.
func (h *handoff) handedOver() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handed == nil {
		h.handed = make(chan struct{})
	}
	return h.handed
}

func (h *handoff) signalHanded() {
	h.mu.Lock()
	if h.handed != nil {
		close(h.handed)
		h.handed = nil
	}
	h.mu.Unlock()
}

// stop makes run fail what is queued and return. Records pushed after it
// are refused.
func (h *handoff) stop() {
	h.mu.Lock()
	h.stopped = true
	wake := h.idle
	h.idle = false
	h.mu.Unlock()
	if wake {
		h.wake <- struct{}{}
	}
}

// run hands queued records to franz-go until stop, then fails what is left.
func (p *Producer) run() {
	h := p.handoff
	defer close(h.done)
	var batch []*pending
	for {
		var stopped bool
		batch, stopped = h.take(batch)
		if stopped {
			for _, pd := range batch {
				p.failed(pd, errGaveUp)
			}
			return
		}
		// A record handed over now can only be in requests written
		// after this sequence (see kconn.Ledger).
		seq := p.ledger.WriteSeq()
		for _, pd := range batch {
			pd.sent = seq
			pd.rec.Partition = -1 // not partitioned yet
			// pd must not be touched after Produce: its promise may
			// run, and its slab be reused, before Produce returns.
			p.cl.Produce(pd.win.ctx, &pd.rec, p.promised)
		}
		h.signalHanded()
	}
}
