package spool

import (
	"errors"
	"os"
	"sync"
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
type Spool struct {
	opts Options
	lock *os.File // the directory lock; closing it releases the lock

	// mu is the appender's lock: the active segment, the prepared next
	// one, the disk budget.
	mu       sync.Mutex
	active   *segment
	next     *segment // preallocated, empty; becomes active when active is full
	creating bool     // a segment is being created (without mu)
	created  sync.Cond
	nextSeq  uint64
	disk     int64         // bytes of segment files, including one being created
	space    chan struct{} // closed when a segment is reclaimed
	closed   bool
	appended int64 // records appended or recovered
	appBytes int64 // their bytes
	_        [64]byte

	// The acknowledgement side runs on other goroutines than appends;
	// padding keeps its counters off the appender's cache lines.
	acked      atomic.Int64
	ackedBytes atomic.Int64
	waiting    atomic.Int64 // records for Next: spilled or recovered and not yet handed out, or released
	_          [64]byte

	// tab lists the mapped segments by sequence number. It is replaced,
	// never changed (under tabMu), so that Ack looks a segment up without
	// a lock.
	tab   atomic.Pointer[[]*segment]
	tabMu sync.Mutex
	// ackMu is held for reading by Ack while it touches a mapping and for
	// writing by whoever unmaps one.
	ackMu sync.RWMutex
	// rmu is Next's and Release's: the cursor, the released records.
	rmu      sync.Mutex
	cur      cursor
	released idHeap
	topics   map[string]string // interned topics for Next

	isClosed atomic.Bool
	dirDirty atomic.Bool   // a segment was created since the directory was last synced
	kick     chan struct{} // wakes the janitor
	stop     chan struct{}
	bg       sync.WaitGroup // the janitor and the syncer

	// degraded: the disk could not take a new segment (space.go); noSpace
	// (under mu) is the error appends return meanwhile.
	degraded     atomic.Bool
	noSpace      error
	degradations int64 // episodes, under mu

	recovered int64 // records found unacknowledged by Open
	damaged   int64 // bytes of damaged data Open discarded
	lost      int64 // records not acknowledged that the damage took
	syncErrs  atomic.Int64
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
	acked, ackedBytes := s.acked.Load(), s.ackedBytes.Load()
	s.mu.Lock()
	st := Stats{
		Records:   s.appended - acked,
		Bytes:     s.appBytes - ackedBytes,
		DiskBytes: s.disk,
	}
	if s.creating {
		st.DiskBytes -= s.opts.SegmentBytes // reserved, not yet on disk
	}
	st.Degradations = s.degradations
	s.mu.Unlock()
	st.Degraded = s.degraded.Load()
	st.Waiting = s.waiting.Load()
	st.Recovered = s.recovered
	st.Damaged = s.damaged
	st.Lost = s.lost
	st.SyncErrors = s.syncErrs.Load()
	return st
}

// Waiting returns how many records wait for Next: a cheap check for an
// appender that keeps records in order behind a backlog.
func (s *Spool) Waiting() int64 { return s.waiting.Load() }

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
	s := &Spool{
		opts:    opts,
		lock:    lock,
		space:   make(chan struct{}),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		topics:  make(map[string]string),
		nextSeq: 1,
	}
	s.created.L = &s.mu
	s.tab.Store(&[]*segment{})
	if err := s.recoverAll(); err != nil {
		s.releaseAll(false)
		lock.Close()
		return nil, err
	}
	s.mu.Lock()
	err = s.prepareLocked(true)
	if err == nil {
		s.active, s.next = s.next, nil
	}
	s.mu.Unlock()
	if err != nil && !errors.Is(err, ErrFull) && !errors.Is(err, ErrNoSpace) {
		// Full: the recovered records fill MaxBytes; appends wait for
		// them to be acknowledged. No space: appends fail at once until
		// the disk has room (space.go).
		s.releaseAll(false)
		lock.Close()
		return nil, err
	}
	s.startBackground()
	return s, nil
}

// Space returns a channel that is closed when disk space is next
// reclaimed, or the Spool closed. After ErrFull, call Space, then Append
// again (space may have been reclaimed in between), and wait for the
// channel only if that is full too.
func (s *Spool) Space() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.space
}

// Close writes what is mapped to disk, releases the segments and the
// directory lock. Records not acknowledged stay on disk for the next Open.
// Ack, Release and Next fail with ErrClosed afterwards. Close is safe to
// call more than once.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.isClosed.Store(true)
	close(s.space)
	for s.creating { // an Append creating a segment finishes it first
		s.created.Wait()
	}
	if s.active != nil {
		s.active.seal()
	}
	s.mu.Unlock()
	close(s.stop)
	s.bg.Wait()
	var errs []error
	if s.opts.Sync > 0 {
		errs = append(errs, s.syncAll())
	}
	errs = append(errs, s.releaseAll(true))
	if s.opts.Sync > 0 { // the deletions
		errs = append(errs, s.opts.durable.syncDir(s.opts.Dir))
	}
	errs = append(errs, s.lock.Close())
	return errors.Join(errs...)
}

// releaseAll unmaps every segment; with reclaim, it deletes those whose
// records are all acknowledged (and the empty prepared one).
func (s *Spool) releaseAll(reclaim bool) error {
	s.ackMu.Lock()
	s.rmu.Lock()
	segs := *s.tab.Load()
	s.tab.Store(&[]*segment{})
	s.rmu.Unlock()
	s.ackMu.Unlock()
	var errs []error
	for _, seg := range segs {
		remove := reclaim && (seg.reclaimable() || seg == s.next)
		errs = append(errs, seg.release(remove))
	}
	return errors.Join(errs...)
}

func (s *Spool) kickBackground() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
