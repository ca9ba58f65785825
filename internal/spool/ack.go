package spool

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// Ack records that the record id, which the caller holds (from Append or
// Next), is done with: delivered, or never to be delivered. Its mark is written into the mapped file, so a restart does
// not send it again. Once every record of a full segment is acknowledged,
// in whatever order, the segment's file is deleted. Ack does not block.
// ErrUnknownID: id names no record, or one already acknowledged.
func (s *Spool) Ack(id ID) (err error) {
	s.ackMu.RLock()
	defer s.ackMu.RUnlock()
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	seg := s.lookup(id.seq())
	if seg == nil || !seg.holds(id.off()) {
		return s.unknown(id)
	}
	h := seg.data[id.off():]
	done := ackMark(le.Uint32(h))
	mark := markAt(h)
	for {
		m := atomic.LoadUint32(mark)
		if m == done {
			return s.unknown(id)
		}
		if atomic.CompareAndSwapUint32(mark, m, done) {
			if m == markReleased {
				s.waiting.Add(-1)
			}
			break
		}
	}
	addAcked(seg.data)
	if !seg.acked.Load() { // once per sync, not a write per Ack
		seg.acked.Store(true)
	}
	s.acked.Add(1)
	s.ackedBytes.Add(padded(int64(le.Uint32(h[8:]))))
	if seg.refs.Add(-1) == 0 && seg.sealed.Load() {
		s.kickBackground() // reclaim it
	}
	return nil
}

// Release hands a held record back to the spool: Next returns it again,
// before records appended after it. For a caller that gives up its copy
// in memory (a delivery timeout, memory needed) without the record being
// delivered. Do not Ack a record after releasing it, until Next hands it
// out again. ErrUnknownID: id names no record that is held.
func (s *Spool) Release(id ID) error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return protect(func() error {
		seg := s.lookup(id.seq())
		if seg == nil || !seg.holds(id.off()) {
			return s.unknown(id)
		}
		mark := markAt(seg.data[id.off():])
		behind := id < makeID(s.cur.seq, s.cur.off) // Next handed it out, if it waited
		if !atomic.CompareAndSwapUint32(mark, markHeld, markReleased) &&
			!(behind && atomic.CompareAndSwapUint32(mark, markWaiting, markReleased)) {
			return fmt.Errorf("%w: record %#x is not held", ErrUnknownID, uint64(id))
		}
		s.waiting.Add(1)
		if behind {
			s.released.push(id)
		}
		return nil
	})
}

// holds reports whether off can be the start of a record of seg: Ack and
// Release must not write a mark elsewhere in a mapping.
func (seg *segment) holds(off int64) bool {
	return off >= segHeader && off%align == 0 && off+recHeader <= seg.end.Load() &&
		le.Uint16(seg.data[off+12:]) == kindRecord
}

func (s *Spool) unknown(id ID) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("%w: %#x (already acknowledged, or never appended)", ErrUnknownID, uint64(id))
}

// markAt returns the mark word of the record whose header starts h. It
// is 4-byte aligned: records start at multiples of 8 in a page-aligned
// mapping.
func markAt(h []byte) *uint32 { return (*uint32)(unsafe.Pointer(&h[4])) }
