package spool

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Record is what the spool keeps of a log record.
type Record struct {
	Topic string    // the Kafka topic: the logstore, or "<logstore>.json"
	Time  time.Time // kept to the nanosecond, without location or monotonic reading
	Value []byte
}

// Append writes r to the spool for a caller that keeps r in memory and
// sends it itself: Next does not hand it out. When Append returns, r is
// in the page cache, so it survives the process dying; Options.Sync
// bounds what a power loss takes. The caller must Ack the returned ID
// once r is delivered (or is never to be delivered), or Release it to
// let Next hand r out again. ErrFull: MaxBytes is reached (see Space).
func (s *Spool) Append(r Record) (ID, error) { return s.append(r, markHeld) }

// Spill writes r to the spool for Next to hand out later, oldest first:
// for a record that does not fit in memory. It persists r as Append does.
func (s *Spool) Spill(r Record) error {
	_, err := s.append(r, markWaiting)
	return err
}

func (s *Spool) append(r Record, mark uint32) (ID, error) {
	size := recordSize(r.Topic, r.Value)
	n := padded(size)
	if len(r.Topic) > maxTopic || n > s.opts.SegmentBytes-segHeader {
		return 0, fmt.Errorf("%w: a record of %d bytes (topic %d) does not fit in a segment of %d bytes: raise SegmentBytes",
			ErrTooLarge, size, len(r.Topic), s.opts.SegmentBytes)
	}
	var nanos int64 // the zero Time, which UnixNano cannot represent
	if !r.Time.IsZero() {
		nanos = r.Time.UnixNano()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	seg := s.active
	if seg == nil || seg.w+n > int64(len(seg.data)) {
		var err error
		if seg, err = s.roll(n); err != nil {
			s.mu.Unlock()
			return 0, err
		}
	}
	off := seg.w
	if err := writeRecord(seg.data, off, n, r.Topic, nanos, r.Value, mark, seg.count+1); err != nil {
		// The mapping is broken (see fault.go): records go to a new
		// segment from now on.
		seg.seal()
		s.active = nil
		s.mu.Unlock()
		return 0, err
	}
	seg.w = off + n
	seg.count++
	s.appended++
	s.appBytes += n
	if mark == markWaiting {
		s.waiting.Add(1)
	}
	seg.end.Store(off + n)          // publishes the record to Next and the syncer
	prefault := seg.needsPrefault() // under mu: seg may be reclaimed once it is not active
	s.mu.Unlock()
	if prefault {
		s.kickBackground()
	}
	return makeID(seg.seq, off), nil
}

// writeRecord encodes a record into data[off:off+n], zeroed, of a mapped
// segment, and stores the segment's new record count.
func writeRecord(data []byte, off, n int64, topic string, nanos int64, value []byte, mark uint32, count int64) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	b := data[off : off+n]
	putRecord(b, kindRecord, topic, nanos, value)
	le.PutUint32(b[4:], mark)
	atomic.StoreUint64(countAt(data, countOff), packCount(uint32(count)))
	return nil
}

// roll makes a segment with room for n bytes active: the prepared next
// one, or one it creates. It may release mu while a segment is created,
// so another appender may have rolled meanwhile. The caller holds mu.
func (s *Spool) roll(n int64) (*segment, error) {
	for {
		if s.closed {
			return nil, ErrClosed
		}
		if a := s.active; a != nil && a.w+n <= int64(len(a.data)) {
			return a, nil
		}
		if s.next != nil {
			if s.active != nil && s.active.seal() {
				s.kickBackground()
			}
			s.active, s.next = s.next, nil
			s.kickBackground() // prepare the one after
			continue
		}
		if s.creating {
			s.created.Wait()
			continue
		}
		if !s.degraded.Load() {
			if err := s.prepareLocked(true); err == nil {
				continue
			} else if !s.degraded.Load() {
				return nil, err
			}
		}
		// No room on disk (space.go): the full segment is sealed, to be
		// deleted once its records are acknowledged.
		if s.active != nil {
			if s.active.seal() {
				s.kickBackground()
			}
			s.active = nil
		}
		return nil, s.noSpace
	}
}

// prepareLocked creates the next segment if the disk budget allows. It
// releases mu while the file is created and preallocated, which can take
// a while on a busy disk. If the disk cannot hold it and degrade is set,
// the spool is degraded (space.go); a successful creation ends that. The
// caller holds mu, and no segment is being created.
func (s *Spool) prepareLocked(degrade bool) error {
	size := s.opts.SegmentBytes
	if s.disk+size > s.opts.MaxBytes {
		return fmt.Errorf("%w: %d of MaxBytes %d bytes hold records not yet acknowledged", ErrFull, s.disk, s.opts.MaxBytes)
	}
	var err error
	if s.nextSeq > maxSeq {
		err = fmt.Errorf("spool: segment numbers exhausted in %s: drain the spool and delete its segments", s.opts.Dir)
	}
	seq := s.nextSeq
	var seg *segment
	if err == nil {
		s.nextSeq++
		s.creating = true
		s.disk += size
		s.mu.Unlock()
		if err = checkFree(s.opts.Dir, size); err == nil {
			seg, err = createSegment(s.opts.Dir, seq, size)
		}
		s.mu.Lock()
		s.creating = false
		s.created.Broadcast()
		if err != nil {
			s.disk -= size
			s.nextSeq = seq // no file has the number
		}
	}
	if err != nil {
		if degrade || s.degraded.Load() {
			s.degradeLocked(err, size)
			return s.noSpace
		}
		return err
	}
	s.recoverLocked()
	s.addSegment(seg)
	s.dirDirty.Store(true)
	s.next = seg
	return nil
}
