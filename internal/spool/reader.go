package spool

import (
	"container/heap"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is a record Next hands out.
type Entry struct {
	ID    ID
	Topic string
	Time  time.Time
	Value []byte // a copy: it stays valid after the record is acknowledged
}

// reader owns what Next hands out: the cursor that passes over the
// segments in order, the records released behind it, the count of
// records waiting for Next (which Spill and Ack change too: it is the
// length of the reader's queue), and the topics interned for entries.
// Next and Release are serialised by mu; both hold the table's gate while
// they touch a mapping.
type reader struct {
	tab     *table
	waiting atomic.Int64 // spilled or recovered and not yet handed out, or released
	_       [64]byte

	mu       sync.Mutex
	cur      cursor
	released idHeap
	topics   map[string]string
}

func (rd *reader) init(tab *table) {
	rd.tab = tab
	rd.topics = make(map[string]string)
}

// Next hands out the oldest record waiting in the spool (spilled, found
// by Open, or released), appending its value to dst[:0]; ok is false if
// none waits. The record is held from then on: the caller must Ack or
// Release it. Records being appended are handed out once Spill returned.
func (s *Spool) Next(dst []byte) (e Entry, ok bool, err error) {
	rd := &s.rd
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if s.closed.Load() {
		return Entry{}, false, ErrClosed
	}
	rd.tab.gate.RLock()
	defer rd.tab.gate.RUnlock()
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	return rd.next(dst)
}

// next is Next under the locks.
func (rd *reader) next(dst []byte) (Entry, bool, error) {
	for len(rd.released) > 0 {
		id := rd.released.pop()
		if seg := rd.tab.lookup(id.seq()); seg != nil && seg.holds(id.off()) {
			if e, ok := rd.take(seg, id.off(), markReleased, dst); ok {
				return e, true, nil
			}
		}
	}
	for {
		seg := rd.cur.seg
		if seg != nil && seg.retired { // reclaimed
			rd.cur = cursor{seq: seg.seq + 1}
			seg = nil
		}
		if seg == nil {
			if seg = rd.tab.atOrAfter(rd.cur.seq); seg == nil {
				return Entry{}, false, nil
			}
			if seg.seq != rd.cur.seq || rd.cur.off < segHeader {
				rd.cur.off = segHeader
			}
			rd.cur.seg, rd.cur.seq = seg, seg.seq
		}
		sealed := seg.sealed.Load() // before end: a sealed segment's end is final
		if rd.cur.off >= seg.end.Load() {
			if !sealed {
				return Entry{}, false, nil // the segment being appended to
			}
			rd.cur = cursor{seq: seg.seq + 1}
			continue
		}
		off := rd.cur.off
		size, kind := int64(le.Uint32(seg.data[off+8:])), le.Uint16(seg.data[off+12:])
		if size < recHeader || (kind != kindRecord && kind != kindSkip) {
			// A short damaged range that Open zeroed (recover.go).
			rd.cur.off += align
			continue
		}
		rd.cur.off += padded(size)
		if kind != kindRecord {
			continue
		}
		switch atomic.LoadUint32(markAt(seg.data[off:])) {
		case markWaiting:
			// Passing it with the cursor is what hands it out: no write
			// to the page.
			rd.waiting.Add(-1)
			return rd.entry(seg, off, dst), true, nil
		case markReleased: // released before the cursor reached it
			if e, ok := rd.take(seg, off, markReleased, dst); ok {
				return e, true, nil
			}
		}
	}
}

// Release hands a held record back to the spool: Next returns it again,
// before records appended after it. For a caller that gives up its copy
// in memory (a delivery timeout, memory needed) without the record being
// delivered. Do not Ack a record after releasing it, until Next hands it
// out again. ErrUnknownID: id names no record that is held.
func (s *Spool) Release(id ID) error {
	rd := &s.rd
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.tab.gate.RLock()
	defer rd.tab.gate.RUnlock()
	return protect(func() error {
		seg := rd.tab.lookup(id.seq())
		if seg == nil || !seg.holds(id.off()) {
			return s.unknown(id)
		}
		mark := markAt(seg.data[id.off():])
		behind := id < makeID(rd.cur.seq, rd.cur.off) // Next handed it out, if it waited
		if !atomic.CompareAndSwapUint32(mark, markHeld, markReleased) &&
			!(behind && atomic.CompareAndSwapUint32(mark, markWaiting, markReleased)) {
			return fmt.Errorf("%w: record %#x is not held", ErrUnknownID, uint64(id))
		}
		rd.waiting.Add(1)
		if behind {
			rd.released.push(id)
		}
		return nil
	})
}

// take hands out the record at off, behind the cursor, if its mark is
// still from.
func (rd *reader) take(seg *segment, off int64, from uint32, dst []byte) (Entry, bool) {
	if !atomic.CompareAndSwapUint32(markAt(seg.data[off:]), from, markWaiting) {
		return Entry{}, false // acknowledged
	}
	rd.waiting.Add(-1)
	return rd.entry(seg, off, dst), true
}

// entry reads the record at off, appending its value to dst[:0].
func (rd *reader) entry(seg *segment, off int64, dst []byte) Entry {
	h := seg.data[off:]
	size, tlen := int64(le.Uint32(h[8:])), int64(le.Uint16(h[14:]))
	t := h[recHeader : recHeader+tlen]
	topic, ok := rd.topics[string(t)]
	if !ok {
		topic = string(t)
		rd.topics[topic] = topic
	}
	e := Entry{
		ID:    makeID(seg.seq, off),
		Topic: topic,
		Value: append(dst[:0], h[recHeader+tlen:size]...),
	}
	if nanos := int64(le.Uint64(h[16:])); nanos != 0 {
		e.Time = time.Unix(0, nanos)
	}
	return e
}

// cursor is where Next continues: segment seq (or the first one after
// it, if seq is gone), offset off. seg caches the segment while it is
// mapped: Next drops it once the segment is retired.
type cursor struct {
	seq uint64
	off int64
	seg *segment
}

// idHeap holds released records behind the cursor, oldest on top.
type idHeap []ID

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(ID)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
func (h *idHeap) push(id ID) { heap.Push(h, id) }
func (h *idHeap) pop() ID    { return heap.Pop(h).(ID) }

// WaitingBefore reports whether a record with an ID below end may still
// wait for Next: a released one, or one the cursor has not reached. It
// errs towards true.
func (s *Spool) WaitingBefore(end ID) bool {
	rd := &s.rd
	if rd.waiting.Load() == 0 {
		return false
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if len(rd.released) > 0 && rd.released[0] < end {
		return true
	}
	return makeID(rd.cur.seq, rd.cur.off) < end
}
