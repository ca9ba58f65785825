package spool

import (
	"container/heap"
	"runtime/debug"
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

// Next hands out the oldest record waiting in the spool (spilled, found
// by Open, or released), appending its value to dst[:0]; ok is false if
// none waits. The record is held from then on: the caller must Ack or
// Release it. Records being appended are handed out once Spill returned.
func (s *Spool) Next(dst []byte) (e Entry, ok bool, err error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.isClosed.Load() {
		return Entry{}, false, ErrClosed
	}
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	for len(s.released) > 0 {
		id := s.released.pop()
		if seg := s.lookup(id.seq()); seg != nil && seg.holds(id.off()) {
			if e, ok := s.take(seg, id.off(), markReleased, dst); ok {
				return e, true, nil
			}
		}
	}
	for {
		seg := s.cur.seg
		if seg == nil {
			if seg = s.atOrAfter(s.cur.seq); seg == nil {
				return Entry{}, false, nil
			}
			if seg.seq != s.cur.seq || s.cur.off < segHeader {
				s.cur.off = segHeader
			}
			s.cur.seg, s.cur.seq = seg, seg.seq
		}
		sealed := seg.sealed.Load() // before end: a sealed segment's end is final
		if s.cur.off >= seg.end.Load() {
			if !sealed {
				return Entry{}, false, nil // the segment being appended to
			}
			s.cur = cursor{seq: seg.seq + 1}
			continue
		}
		off := s.cur.off
		size, kind := int64(le.Uint32(seg.data[off+8:])), le.Uint16(seg.data[off+12:])
		if size < recHeader || (kind != kindRecord && kind != kindSkip) {
			// A short damaged range that Open zeroed (recover.go).
			s.cur.off += align
			continue
		}
		s.cur.off += padded(size)
		if kind != kindRecord {
			continue
		}
		switch atomic.LoadUint32(markAt(seg.data[off:])) {
		case markWaiting:
			// Passing it with the cursor is what hands it out: no write
			// to the page.
			s.waiting.Add(-1)
			return s.entry(seg, off, dst), true, nil
		case markReleased: // released before the cursor reached it
			if e, ok := s.take(seg, off, markReleased, dst); ok {
				return e, true, nil
			}
		}
	}
}

// take hands out the record at off, behind the cursor, if its mark is
// still from.
func (s *Spool) take(seg *segment, off int64, from uint32, dst []byte) (Entry, bool) {
	if !atomic.CompareAndSwapUint32(markAt(seg.data[off:]), from, markWaiting) {
		return Entry{}, false // acknowledged
	}
	s.waiting.Add(-1)
	return s.entry(seg, off, dst), true
}

// entry reads the record at off, appending its value to dst[:0].
func (s *Spool) entry(seg *segment, off int64, dst []byte) Entry {
	h := seg.data[off:]
	size, tlen := int64(le.Uint32(h[8:])), int64(le.Uint16(h[14:]))
	t := h[recHeader : recHeader+tlen]
	topic, ok := s.topics[string(t)]
	if !ok {
		topic = string(t)
		s.topics[topic] = topic
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
// mapped; reclaim clears it.
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

// End returns the position after the last record appended or spilled: any
// record appended later has a larger ID.
func (s *Spool) End() ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return makeID(s.nextSeq, 0)
	}
	return makeID(s.active.seq, s.active.w)
}

// WaitingBefore reports whether a record with an ID below end may still
// wait for Next: a released one, or one the cursor has not reached. It
// errs towards true.
func (s *Spool) WaitingBefore(end ID) bool {
	if s.waiting.Load() == 0 {
		return false
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if len(s.released) > 0 && s.released[0] < end {
		return true
	}
	return makeID(s.cur.seq, s.cur.off) < end
}
