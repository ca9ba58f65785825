package producer

import (
	"sync"
	"sync/atomic"
)

// flushes lets Flush wait for exactly the records accepted before it was
// called, whichever way and order they finish (acknowledged, failed,
// re-queued after their partition failed, still in the hand-off queue).
// Records count into the current epoch; Flush seals it and starts the next,
// and waits until the sealed epoch and every one before it is empty. Log
// pays one atomic add; Flush allocates one epoch.
type flushes struct {
	mu  sync.Mutex // serializes sealing
	cur atomic.Pointer[flushEpoch]
}

type flushEpoch struct {
	n      atomic.Int64 // records accepted in the epoch and not finished
	sealed atomic.Bool
	prev   atomic.Pointer[flushEpoch] // nil once prev is done
	next   atomic.Pointer[flushEpoch]
	ended  atomic.Bool
	done   chan struct{} // closed once sealed, empty, and prev done
}

func newFlushes() *flushes {
	f := &flushes{}
	f.cur.Store(&flushEpoch{done: make(chan struct{})})
	return f
}

// enter counts a record accepted now into the current epoch.
func (f *flushes) enter() *flushEpoch {
	e := f.cur.Load()
	e.n.Add(1)
	return e
}

// leave counts a record of e as finished.
func (e *flushEpoch) leave() { e.leaveN(1) }

// leaveN counts n records of e as finished.
func (e *flushEpoch) leaveN(n int64) {
	if e.n.Add(-n) == 0 && e.sealed.Load() {
		e.try()
	}
}

// seal closes the current epoch to new records and returns a channel that
// is closed once every record accepted so far has finished.
func (f *flushes) seal() <-chan struct{} {
	f.mu.Lock()
	old := f.cur.Load()
	next := &flushEpoch{done: make(chan struct{})}
	next.prev.Store(old)
	old.next.Store(next)
	f.cur.Store(next)
	old.sealed.Store(true)
	f.mu.Unlock()
	old.try()
	return old.done
}

// try ends e if it is sealed, empty and its predecessor ended, then tries
// its successor, whose predecessor it is.
func (e *flushEpoch) try() {
	for e != nil {
		if !e.sealed.Load() || e.n.Load() != 0 {
			return
		}
		if p := e.prev.Load(); p != nil && !p.ended.Load() {
			return
		}
		if !e.ended.CompareAndSwap(false, true) {
			return
		}
		e.prev.Store(nil) // let ended epochs be collected
		close(e.done)
		e = e.next.Load()
	}
}
