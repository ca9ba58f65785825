package spool

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// Ack records that the record id, which the caller holds (from Append or
// Next), is done with: delivered, or never to be delivered. Its mark is
// written into the mapped file, so a restart does not send it again. Once
// every record of a full segment is acknowledged, in whatever order, the
// segment's file is deleted. Ack does not block. ErrUnknownID: id names no
// record, or one already acknowledged.
func (s *Spool) Ack(id ID) error {
	released, reclaim, ok, err := s.tab.ack(id)
	switch {
	case err != nil:
		return err
	case !ok:
		return s.unknown(id)
	}
	if released {
		s.rd.waiting.Add(-1)
	}
	if reclaim {
		s.bg.wake()
	}
	return nil
}

// ack writes id's acknowledgement into its segment and counts it. It
// reports whether the record had been released (so counted waiting for
// Next) and whether its segment is now reclaimable; ok is false if id
// names no record not yet acknowledged.
func (t *table) ack(id ID) (released, reclaim, ok bool, err error) {
	t.gate.RLock()
	defer t.gate.RUnlock()
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	seg := t.lookup(id.seq())
	if seg == nil || !seg.holds(id.off()) {
		return false, false, false, nil
	}
	h := seg.data[id.off():]
	done := ackMark(le.Uint32(h))
	mark := markAt(h)
	for {
		m := atomic.LoadUint32(mark)
		if m == done {
			return false, false, false, nil
		}
		if atomic.CompareAndSwapUint32(mark, m, done) {
			released = m == markReleased
			break
		}
	}
	addAcked(seg.data)
	if !seg.acked.Load() { // once per sync, not a write per Ack
		seg.acked.Store(true)
	}
	t.acked.Add(1)
	t.ackedBytes.Add(padded(int64(le.Uint32(h[8:]))))
	reclaim = seg.refs.Add(-1) == 0 && seg.sealed.Load()
	return released, reclaim, true, nil
}

// holds reports whether off can be the start of a record of seg: Ack and
// Release must not write a mark elsewhere in a mapping.
func (seg *segment) holds(off int64) bool {
	return off >= segHeader && off%align == 0 && off+recHeader <= seg.end.Load() &&
		le.Uint16(seg.data[off+12:]) == kindRecord
}

func (s *Spool) unknown(id ID) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("%w: %#x (already acknowledged, or never appended)", ErrUnknownID, uint64(id))
}

// markAt returns the mark word of the record whose header starts h. It
// is 4-byte aligned: records start at multiples of 8 in a page-aligned
// mapping.
func markAt(h []byte) *uint32 { return (*uint32)(unsafe.Pointer(&h[4])) }
