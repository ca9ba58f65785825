package spool

import (
	"cmp"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
)

// table owns the mapped segments: the list of them by sequence number,
// the acknowledgements written into them (ack.go), and the reclaimer,
// which unmaps and deletes the segments whose records are all
// acknowledged. Lookups take no lock: the list is replaced, never
// changed. Whoever touches a mapping found in the list (Ack, Next,
// Release) holds gate for reading, so that the reclaimer, which holds it
// for writing to retire segments, waits them out before it unmaps.
type table struct {
	log  *slog.Logger
	list atomic.Pointer[[]*segment]
	mu   sync.Mutex // serialises replacing list
	gate sync.RWMutex
	// What Ack counted, read by Stats.
	acked, ackedBytes atomic.Int64
	_                 [64]byte
}

func (t *table) init(log *slog.Logger) {
	t.log = log
	t.list.Store(&[]*segment{})
}

// segments returns the mapped segments, in order.
func (t *table) segments() []*segment { return *t.list.Load() }

// search returns where segment seq is, or would be, in segs.
func search(segs []*segment, seq uint64) (int, bool) {
	return slices.BinarySearchFunc(segs, seq, func(seg *segment, seq uint64) int { return cmp.Compare(seg.seq, seq) })
}

// lookup returns the mapped segment seq, or nil.
func (t *table) lookup(seq uint64) *segment {
	segs := *t.list.Load()
	if i, ok := search(segs, seq); ok {
		return segs[i]
	}
	return nil
}

// atOrAfter returns the first mapped segment from seq on, or nil.
func (t *table) atOrAfter(seq uint64) *segment {
	segs := *t.list.Load()
	if i, _ := search(segs, seq); i < len(segs) {
		return segs[i]
	}
	return nil
}

// add lists seg.
func (t *table) add(seg *segment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.list.Load()
	i, _ := search(old, seg.seq)
	segs := slices.Insert(slices.Clone(old), i, seg)
	t.list.Store(&segs)
}

// retire takes segments out of the list (all of them if gone is nil) and
// waits out whoever looked one up before: after it, nothing touches
// their mappings, and Next's cursor, which may hold one, sees retired.
func (t *table) retire(gone []*segment) []*segment {
	t.mu.Lock()
	old := *t.list.Load()
	var keep []*segment
	if gone != nil {
		keep = slices.DeleteFunc(slices.Clone(old), func(seg *segment) bool { return slices.Contains(gone, seg) })
	} else {
		gone = old
	}
	t.list.Store(&keep)
	t.mu.Unlock()
	t.gate.Lock()
	for _, seg := range gone {
		seg.retired = true
	}
	t.gate.Unlock()
	return gone
}

// reclaim deletes the sealed segments whose records are all acknowledged
// and returns the bytes it freed. The janitor calls it. A sync of a
// segment being deleted finishes first; the directory is synced by the
// caller.
func (t *table) reclaim() (freed int64) {
	var gone []*segment
	for _, seg := range *t.list.Load() {
		if seg.reclaimable() {
			gone = append(gone, seg)
		}
	}
	if len(gone) == 0 {
		return 0
	}
	for _, seg := range t.retire(gone) {
		freed += int64(len(seg.data))
		seg.syncMu.Lock()
		seg.gone = true
		if err := seg.release(true); err != nil {
			t.log.Warn("spool: cannot delete a segment whose records are all delivered", "segment", seg.path, "err", err)
		}
		seg.syncMu.Unlock()
	}
	return freed
}

// releaseAll unmaps every segment; with reclaim, it deletes those whose
// records are all acknowledged, and next (the prepared one, empty). It
// reports whether it deleted any. No goroutine of the Spool runs.
func (t *table) releaseAll(reclaim bool, next *segment) (removed bool, err error) {
	var errs []error
	for _, seg := range t.retire(nil) {
		remove := reclaim && (seg.reclaimable() || seg == next)
		removed = removed || remove
		errs = append(errs, seg.release(remove))
	}
	return removed, errors.Join(errs...)
}
