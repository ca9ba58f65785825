package spool

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBytes = 1 << 30
	DefaultSync     = time.Second
	// DefaultSegmentBytes is the segment size when MaxBytes allows 16 of
	// them; less MaxBytes gets smaller segments, down to 1 MiB. Larger
	// segment files cost the kernel less per byte written (the page cache
	// uses larger folios): 64 MiB took 0.34 ms of CPU per MiB to create,
	// fill and delete, 8 MiB 1.0 ms, 1 MiB 1.5 ms (Linux 6.18, ext4).
	DefaultSegmentBytes = 64 << 20
)

const (
	minSegment = 64 << 10
	maxSegment = 1 << 30 // offsets are 32 bits in an ID
)

// Options configures a Spool. The zero value of each field is its default.
type Options struct {
	// Dir is the spool's directory, created with mode 0700 if missing. An
	// existing directory must not be accessible to other users (group or
	// other permission bits), since the spool holds log content.
	Dir string
	// MaxBytes bounds the disk the segment files take, counted as whole
	// segments since each is preallocated. Default DefaultMaxBytes (1 GiB);
	// at least twice SegmentBytes.
	MaxBytes int64
	// SegmentBytes is the size of one segment file: the unit in which disk
	// is allocated and reclaimed. Default: MaxBytes/16, between 1 MiB and
	// DefaultSegmentBytes (64 MiB). The largest record is a segment less
	// 88 bytes.
	SegmentBytes int64
	// Sync is how often what was appended is written to disk (msync).
	// Records are in the page cache, which survives the process dying, as
	// soon as Append returns; Sync bounds what a power loss or kernel crash
	// can take. Default DefaultSync (1 s); negative: never, the kernel
	// writes dirty pages back on its own schedule (vm.dirty_expire_centisecs,
	// 30 s by default).
	Sync time.Duration
	// Logger receives the spool's warnings (damaged data found when
	// opening, failed syncs). Default slog.Default().
	Logger *slog.Logger
}

func (o Options) normalize() (Options, error) {
	if o.Dir == "" {
		return o, errors.New("spool: Options.Dir is empty: name a directory for the spool")
	}
	if o.MaxBytes < 0 || o.SegmentBytes < 0 {
		return o, errors.New("spool: MaxBytes and SegmentBytes must not be negative")
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = min(DefaultSegmentBytes, max(1<<20, o.MaxBytes/16))
	}
	o.SegmentBytes = (o.SegmentBytes + pageSize - 1) &^ (pageSize - 1)
	if o.SegmentBytes < minSegment || o.SegmentBytes > maxSegment {
		return o, fmt.Errorf("spool: SegmentBytes %d is outside [%d, %d]", o.SegmentBytes, minSegment, maxSegment)
	}
	if o.MaxBytes < 2*o.SegmentBytes {
		return o, fmt.Errorf("spool: MaxBytes %d must be at least twice SegmentBytes (%d): one segment is appended to while the next is prepared", o.MaxBytes, o.SegmentBytes)
	}
	if o.Sync == 0 {
		o.Sync = DefaultSync
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

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

	recovered int64 // records found unacknowledged by Open
	damaged   int64 // bytes of damaged data Open discarded
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
	// SyncErrors counts failed writes of the mapped pages to disk.
	SyncErrors int64
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
	s.mu.Unlock()
	st.Waiting = s.waiting.Load()
	st.Recovered = s.recovered
	st.Damaged = s.damaged
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
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if err := checkDir(opts.Dir); err != nil {
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
	err = s.prepareLocked()
	if err == nil {
		s.active, s.next = s.next, nil
	}
	s.mu.Unlock()
	if err != nil && !errors.Is(err, ErrFull) {
		// Full: the recovered records fill MaxBytes; appends wait for
		// them to be acknowledged.
		s.releaseAll(false)
		lock.Close()
		return nil, err
	}
	s.startBackground()
	return s, nil
}

// checkDir creates dir (0700) or checks that it is private.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("spool: create directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("spool: %s is not a directory", dir)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	// A directory made for the spool with the usual mode (0755) is
	// tightened; one that holds anything else, or is someone else's, is
	// not the spool's to change.
	if ownedByMe(fi) && onlySpoolFiles(dir) {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("spool: make directory private: %w", err)
		}
		return nil
	}
	return fmt.Errorf("spool: directory %s has mode %#o, open to other users, and holds other files or belongs to another user: the spool holds log content; use a directory of its own with mode 0700 (chmod 700 %s)", dir, perm, dir)
}

// onlySpoolFiles reports whether dir holds nothing but what a Spool
// writes.
func onlySpoolFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := e.Name()
		name = strings.TrimSuffix(strings.TrimSuffix(name, ".tmp"), ".unreadable")
		if _, ok := parseSegName(name); !ok && name != lockName {
			return false
		}
	}
	return true
}

const lockName = "LOCK"

// lockDirectory takes the directory's lock and writes this process's id
// into the lock file, for the error a second opener gets.
func lockDirectory(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: open lock file: %w", err)
	}
	held, err := lockDir(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: lock %s: %w", path, err)
	}
	if !held {
		owner, _ := os.ReadFile(path)
		f.Close()
		return nil, fmt.Errorf("%w: %s is held by process %s (a spool directory serves one producer at a time: give each its own)",
			ErrLocked, dir, string(bytes.TrimSpace(owner)))
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
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
		sealSafely(s.active)
	}
	s.mu.Unlock()
	close(s.stop)
	s.bg.Wait()
	var errs []error
	if s.opts.Sync > 0 {
		errs = append(errs, s.syncAll())
	}
	errs = append(errs, s.releaseAll(true), s.lock.Close())
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

// lookup returns the mapped segment seq, or nil.
func (s *Spool) lookup(seq uint64) *segment {
	segs := *s.tab.Load()
	i, ok := slices.BinarySearchFunc(segs, seq, func(seg *segment, seq uint64) int { return cmpSeq(seg.seq, seq) })
	if !ok {
		return nil
	}
	return segs[i]
}

// atOrAfter returns the first mapped segment from seq on, or nil.
func (s *Spool) atOrAfter(seq uint64) *segment {
	segs := *s.tab.Load()
	i, _ := slices.BinarySearchFunc(segs, seq, func(seg *segment, seq uint64) int { return cmpSeq(seg.seq, seq) })
	if i == len(segs) {
		return nil
	}
	return segs[i]
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// addSegment adds seg to the table, whose segments are in order.
func (s *Spool) addSegment(seg *segment) {
	s.tabMu.Lock()
	defer s.tabMu.Unlock()
	old := *s.tab.Load()
	segs := make([]*segment, 0, len(old)+1)
	segs = append(segs, old...)
	segs = append(segs, seg)
	slices.SortFunc(segs, func(a, b *segment) int { return cmpSeq(a.seq, b.seq) })
	s.tab.Store(&segs)
}

// removeSegments takes segments out of the table.
func (s *Spool) removeSegments(gone []*segment) {
	s.tabMu.Lock()
	defer s.tabMu.Unlock()
	segs := slices.DeleteFunc(slices.Clone(*s.tab.Load()), func(seg *segment) bool { return slices.Contains(gone, seg) })
	s.tab.Store(&segs)
}

func (s *Spool) kickBackground() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
