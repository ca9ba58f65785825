package spool

import (
	"errors"
	"os"
	"sync/atomic"
)

// ID names a record in a Spool. IDs grow in the order records were
// appended; the zero ID names none.
type ID uint64

func makeID(seq uint64, off int64) ID { return ID(seq<<32 | uint64(off)) }
func (id ID) seq() uint64             { return uint64(id) >> 32 }
func (id ID) off() int64              { return int64(uint32(id)) }

// Spool is an on-disk queue of log records. It is safe for concurrent
// use. See the package documentation.
//
// It is the parts its work splits into, each owning its state: the
// appender (the segment appended to and the disk budget), the table (the
// mapped segments, the acknowledgements written into them, and reclaiming
// them), the reader (what Next hands out), the syncer (what reaches the
// disk), and the background goroutines that run the table's reclaim and
// the syncer. Open joins them; no part reaches into another's fields.
type Spool struct {
	opts   Options
	lock   *os.File // the directory lock; closing it releases the lock
	app    appender
	tab    table
	rd     reader
	dur    syncer
	bg     background
	closed atomic.Bool // Ack, Release and Next fail with ErrClosed
	found  recovery    // what Open found, for Stats
}

// Stats are a Spool's counts.
type Stats struct {
	// Records and Bytes are the records on disk not yet acknowledged, and
	// the space they take (headers and padding included).
	Records, Bytes int64
	// Waiting is how many of them wait for Next: spilled or recovered, and
	// not handed out (or released since).
	Waiting int64
	// DiskBytes is the size of the segment files, at most MaxBytes.
	DiskBytes int64
	// Recovered counts records Open found not acknowledged.
	Recovered int64
	// Damaged counts bytes of damaged data Open discarded (see the package
	// documentation).
	Damaged int64
	// Lost counts the records not acknowledged that Open found lost to
	// damage (see recover.go): Recovered + Lost is what the previous Spool
	// left not acknowledged.
	Lost int64
	// SyncErrors counts failed writes of the mapped pages, or of the
	// directory, to disk.
	SyncErrors int64
	// Degraded: the disk has no room for another segment; appends fail
	// with ErrNoSpace until it has. Degradations counts such episodes.
	Degraded     bool
	Degradations int64
}

// Stats returns the current counts.
func (s *Spool) Stats() Stats {
	// Acknowledgements are read first, so that Records is never negative.
	acked, ackedBytes := s.tab.acked.Load(), s.tab.ackedBytes.Load()
	a := s.app.stats()
	return Stats{
		Records:      a.appended - acked,
		Bytes:        a.appBytes - ackedBytes,
		Waiting:      s.rd.waiting.Load(),
		DiskBytes:    a.disk,
		Recovered:    s.found.records,
		Damaged:      s.found.damaged,
		Lost:         s.found.lost,
		SyncErrors:   s.dur.errs.Load(),
		Degraded:     s.app.full.on.Load(),
		Degradations: a.degradations,
	}
}

// Waiting returns how many records wait for Next: a cheap check for an
// appender that keeps records in order behind a backlog.
func (s *Spool) Waiting() int64 { return s.rd.waiting.Load() }

// Open opens the spool in opts.Dir, creating the directory if needed. It
// takes the directory's lock (ErrLocked if another Spool holds it),
// checks every segment, cuts damaged data with one warning, and makes the
// records not acknowledged before wait for Next, oldest first.
func Open(opts Options) (*Spool, error) {
	if !supported {
		return nil, ErrUnsupported
	}
	if opts.Dir == "" {
		return nil, errNoDir
	}
	if err := checkDir(opts.Dir); err != nil {
		return nil, err
	}
	opts, err := opts.normalize(diskBudget(opts.Dir))
	if err != nil {
		return nil, err
	}
	lock, err := lockDirectory(opts.Dir)
	if err != nil {
		return nil, err
	}
	found, err := recoverSegments(opts.Dir, opts.Logger)
	if err != nil {
		lock.Close()
		return nil, err
	}
	s := &Spool{opts: opts, lock: lock, found: found}
	s.bg.init()
	s.tab.init(opts.Logger)
	s.rd.init(&s.tab)
	s.dur.init(opts)
	s.app.init(opts, &s.tab, &s.dur, &s.rd.waiting, s.bg.wake)
	for _, seg := range found.segs {
		s.tab.add(seg)
	}
	s.app.adopt(found)
	s.rd.waiting.Add(found.records)
	// What recovery deleted or renamed reaches the disk with the first
	// sync.
	s.dur.dirty.Store(true)
	s.found.segs = nil
	if err := s.app.start(); err != nil {
		s.tab.releaseAll(false, nil)
		lock.Close()
		return nil, err
	}
	s.bg.start(s)
	return s, nil
}

// Space returns a channel that is closed when disk space is next
// reclaimed, or the Spool closed. After ErrFull, call Space, then Append
// again (space may have been reclaimed in between), and wait for the
// channel only if that is full too.
func (s *Spool) Space() <-chan struct{} { return s.app.spaceChan() }

// Close writes what is mapped to disk, releases the segments and the
// directory lock. Records not acknowledged stay on disk for the next Open.
// Ack, Release and Next fail with ErrClosed afterwards. Close is safe to
// call more than once.
func (s *Spool) Close() error {
	s.closed.Store(true)
	if !s.app.close() {
		return nil
	}
	s.bg.halt()
	var errs []error
	if s.dur.on() {
		errs = append(errs, s.dur.all(s.tab.segments()))
	}
	removed, err := s.tab.releaseAll(true, s.app.prepared())
	errs = append(errs, err)
	if removed && s.dur.on() {
		errs = append(errs, s.dur.step.syncDir(s.opts.Dir))
	}
	errs = append(errs, s.lock.Close())
	return errors.Join(errs...)
}
