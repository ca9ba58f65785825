package spool

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Record is what the spool keeps of a log record.
type Record struct {
	Topic string    // the Kafka topic: the logstore, or "<logstore>.json"
	Time  time.Time // kept to the nanosecond, without location or monotonic reading
	Value []byte
}

// appender owns the write side of a Spool: the segment appended to, the
// prepared next one, segment numbers, the disk budget (whole segments,
// against Options.MaxBytes) and the full-disk state (space.go). Appends
// are serialised by mu, which guards every field below it; the table
// learns of each segment it creates, the reader of each record spilled.
type appender struct {
	opts    Options
	tab     *table
	dur     *syncer
	waiting *atomic.Int64 // the reader's count of records for Next
	wake    func()        // wakes the janitor: to prefault, prepare, reclaim

	mu       sync.Mutex
	created  sync.Cond // broadcast when a creation ends
	active   *segment
	next     *segment // preallocated, empty; becomes active when active is full
	creating bool     // a segment is being created (without mu)
	closed   bool
	nextSeq  uint64
	disk     int64         // bytes of segment files, including one being created
	space    chan struct{} // closed when a segment is reclaimed
	appended int64         // records appended or recovered
	appBytes int64         // their bytes
	full     degradation
	// The acknowledgement side runs on other goroutines than appends;
	// padding keeps its counters off the appender's cache lines.
	_ [64]byte
}

func (a *appender) init(opts Options, tab *table, dur *syncer, waiting *atomic.Int64, wake func()) {
	a.opts, a.tab, a.dur, a.waiting, a.wake = opts, tab, dur, waiting, wake
	a.created.L = &a.mu
	a.space = make(chan struct{})
	a.nextSeq = 1
}

// adopt takes over what Open recovered: its records, its segments'
// disk, and the segment numbers used.
func (a *appender) adopt(r recovery) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nextSeq = max(a.nextSeq, r.nextSeq)
	a.disk += r.disk
	a.appended += r.records
	a.appBytes += r.bytes
}

// start creates the first segment to append to. Full (the recovered
// records fill MaxBytes) and no space (space.go) are not errors: appends
// fail until they are acknowledged, or the disk has room.
func (a *appender) start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.prepareLocked(true)
	if err == nil {
		a.active, a.next = a.next, nil
	}
	if errors.Is(err, ErrFull) || errors.Is(err, ErrNoSpace) {
		return nil
	}
	return err
}

// close refuses appends from now on and seals the active segment; it
// reports false if the appender was closed already.
func (a *appender) close() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.closed = true
	close(a.space)
	for a.creating { // an Append creating a segment finishes it first
		a.created.Wait()
	}
	if a.active != nil {
		a.active.seal()
	}
	return true
}

// appenderStats are the appender's counts, read together.
type appenderStats struct {
	appended, appBytes, disk, degradations int64
}

func (a *appender) stats() appenderStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := appenderStats{appended: a.appended, appBytes: a.appBytes, disk: a.disk, degradations: a.full.episodes}
	if a.creating {
		st.disk -= a.opts.SegmentBytes // reserved, not yet on disk
	}
	return st
}

func (a *appender) spaceChan() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.space
}

// freed gives back the disk of reclaimed segments, and tells whoever
// waits for space.
func (a *appender) freed(bytes int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.disk -= bytes
	if !a.closed {
		close(a.space)
		a.space = make(chan struct{})
	}
}

// current returns the active and the prepared segment, for the janitor
// to prefault.
func (a *appender) current() (active, next *segment) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.active, a.next
}

// prepared returns the prepared segment, empty, which Close deletes.
func (a *appender) prepared() *segment {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.next
}

// End returns the position after the last record appended or spilled: any
// record appended later has a larger ID.
func (s *Spool) End() ID {
	a := &s.app
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active == nil {
		return makeID(a.nextSeq, 0)
	}
	return makeID(a.active.seq, a.active.w)
}

// Append writes r to the spool for a caller that keeps r in memory and
// sends it itself: Next does not hand it out. When Append returns, r is
// in the page cache, so it survives the process dying; Options.Sync
// bounds what a power loss takes. The caller must Ack the returned ID
// once r is delivered (or is never to be delivered), or Release it to
// let Next hand r out again. ErrFull: MaxBytes is reached (see Space).
func (s *Spool) Append(r Record) (ID, error) { return s.app.append(r, markHeld) }

// Spill writes r to the spool for Next to hand out later, oldest first:
// for a record that does not fit in memory. It persists r as Append does.
func (s *Spool) Spill(r Record) error {
	_, err := s.app.append(r, markWaiting)
	return err
}

func (a *appender) append(r Record, mark uint32) (ID, error) {
	size := recordSize(r.Topic, r.Value)
	n := padded(size)
	if len(r.Topic) > maxTopic || n > a.opts.SegmentBytes-segHeader {
		return 0, fmt.Errorf("%w: a record of %d bytes (topic %d) does not fit in a segment of %d bytes: raise SegmentBytes",
			ErrTooLarge, size, len(r.Topic), a.opts.SegmentBytes)
	}
	var nanos int64 // the zero Time, which UnixNano cannot represent
	if !r.Time.IsZero() {
		nanos = r.Time.UnixNano()
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return 0, ErrClosed
	}
	seg := a.active
	if seg == nil || seg.w+n > int64(len(seg.data)) {
		var err error
		if seg, err = a.roll(n); err != nil {
			a.mu.Unlock()
			return 0, err
		}
	}
	off := seg.w
	if err := writeRecord(seg.data, off, n, r.Topic, nanos, r.Value, mark, seg.count+1); err != nil {
		// The mapping is broken (see fault.go): records go to a new
		// segment from now on.
		seg.seal()
		a.active = nil
		a.mu.Unlock()
		return 0, err
	}
	seg.w = off + n
	seg.count++
	a.appended++
	a.appBytes += n
	if mark == markWaiting {
		a.waiting.Add(1)
	}
	seg.end.Store(off + n)          // publishes the record to Next and the syncer
	prefault := seg.needsPrefault() // under mu: seg may be reclaimed once it is not active
	a.mu.Unlock()
	if prefault {
		a.wake()
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
func (a *appender) roll(n int64) (*segment, error) {
	for {
		if a.closed {
			return nil, ErrClosed
		}
		if seg := a.active; seg != nil && seg.w+n <= int64(len(seg.data)) {
			return seg, nil
		}
		if a.next != nil {
			if a.active != nil && a.active.seal() {
				a.wake()
			}
			a.active, a.next = a.next, nil
			a.wake() // prepare the one after
			continue
		}
		if a.creating {
			a.created.Wait()
			continue
		}
		if !a.full.on.Load() {
			if err := a.prepareLocked(true); err == nil {
				continue
			} else if !a.full.on.Load() {
				return nil, err
			}
		}
		// No room on disk (space.go): the full segment is sealed, to be
		// deleted once its records are acknowledged.
		if a.active != nil {
			if a.active.seal() {
				a.wake()
			}
			a.active = nil
		}
		return nil, a.full.err
	}
}

// prepareLocked creates the next segment if the disk budget allows. It
// releases mu while the file is created and preallocated, which can take
// a while on a busy disk. If the disk cannot hold it and degrade is set,
// the spool is degraded (space.go); a successful creation ends that. The
// caller holds mu, and no segment is being created.
func (a *appender) prepareLocked(degrade bool) error {
	size := a.opts.SegmentBytes
	if a.disk+size > a.opts.MaxBytes {
		return fmt.Errorf("%w: %d of MaxBytes %d bytes hold records not yet acknowledged", ErrFull, a.disk, a.opts.MaxBytes)
	}
	var err error
	if a.nextSeq > maxSeq {
		err = fmt.Errorf("spool: segment numbers exhausted in %s: drain the spool and delete its segments", a.opts.Dir)
	}
	seq := a.nextSeq
	var seg *segment
	if err == nil {
		a.nextSeq++
		a.creating = true
		a.disk += size
		a.mu.Unlock()
		if err = checkFree(a.opts.Dir, size); err == nil {
			seg, err = createSegment(a.opts.Dir, seq, size)
		}
		a.mu.Lock()
		a.creating = false
		a.created.Broadcast()
		if err != nil {
			a.disk -= size
			a.nextSeq = seq // no file has the number
		}
	}
	if err != nil {
		if degrade || a.full.on.Load() {
			a.degradeLocked(err, size)
			return a.full.err
		}
		return err
	}
	a.recoverLocked()
	a.tab.add(seg)
	a.dur.dirty.Store(true)
	a.next = seg
	return nil
}

// prepare creates the next segment ahead of need.
func (a *appender) prepare() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.next != nil || a.creating {
		return
	}
	// Full, or a disk error, which the Append that needs the segment
	// meets again and returns (or, if degraded, what ends it).
	if a.prepareLocked(false) == nil {
		next := a.next
		a.mu.Unlock()
		next.prefault()
		a.mu.Lock()
	}
}
