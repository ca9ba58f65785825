//go:build unix

package spool

import (
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// diskFull makes segment creation fail as a full disk does, until the
// returned function gives the space back; it counts the attempts.
func diskFull(t *testing.T) (restore func(), attempts *atomic.Int64) {
	attempts = new(atomic.Int64)
	var full atomic.Bool
	full.Store(true)
	old := allocate
	allocate = func(f *os.File, size int64) error {
		if full.Load() {
			attempts.Add(1)
			return syscall.ENOSPC
		}
		return old(f, size)
	}
	t.Cleanup(func() { allocate = old })
	return func() { full.Store(false) }, attempts
}

// A full disk fails appends at once with ErrNoSpace, says so once with the
// directory and the free space, does not try the disk on every append,
// and the spool takes records again once a segment can be created.
func TestFullDiskDegradesAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := small(t, t.TempDir())
		s, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		synctest.Wait() // the janitor prepared the next segment
		restore, attempts := diskFull(t)
		var ids []ID
		for i := 0; ; i++ {
			id, err := s.Append(rec(i))
			if err != nil {
				if !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrFull) {
					t.Fatalf("append on a full disk: %v, want ErrNoSpace (not ErrFull, which waits)", err)
				}
				if !strings.Contains(err.Error(), o.Dir) || !strings.Contains(err.Error(), "bytes free") {
					t.Errorf("error does not name the directory and the free space: %v", err)
				}
				break
			}
			ids = append(ids, id)
		}
		// The janitor may have tried once ahead of need, the appender once.
		tried := attempts.Load()
		for i := range 1000 {
			if _, err := s.Append(rec(i)); !errors.Is(err, ErrNoSpace) {
				t.Fatalf("append %d while degraded: %v", i, err)
			}
			if err := s.Spill(rec(i)); !errors.Is(err, ErrNoSpace) {
				t.Fatalf("spill %d while degraded: %v", i, err)
			}
		}
		if n := attempts.Load(); n != tried || tried > 2 {
			t.Errorf("%d segment creations tried, %d during 2000 appends on a full disk: want no disk work per append", tried, n-tried)
		}
		st := s.Stats()
		if !st.Degraded || st.Degradations != 1 {
			t.Errorf("stats %+v, want degraded once", st)
		}
		w := warningsOf(o).all()
		if len(w) != 1 || !strings.Contains(w[0], "dir="+o.Dir) || !strings.Contains(w[0], "free_bytes=") {
			t.Fatalf("warnings %q, want one naming the directory and the free space", w)
		}

		// Still full after a minute of retries: no more warnings.
		time.Sleep(time.Minute)
		synctest.Wait()
		if attempts.Load() == tried {
			t.Error("no retry in a minute")
		}
		if w := warningsOf(o).all(); len(w) != 1 {
			t.Errorf("retries warned again: %q", w)
		}
		// Space returns: within one retry interval the spool takes
		// records again, and what was appended before is still there.
		restore()
		time.Sleep(noSpaceRetry)
		synctest.Wait()
		if _, err := s.Append(rec(1)); err != nil {
			t.Fatalf("append once space returned: %v", err)
		}
		if st := s.Stats(); st.Degraded || st.Records != int64(len(ids))+1 {
			t.Errorf("stats after space returned %+v, want %d records, not degraded", st, len(ids)+1)
		}
		for _, id := range ids {
			if err := s.Ack(id); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// The spool's own segments filling the disk are what frees it: once
// their records are acknowledged, the spool resumes without waiting for
// the retry timer.
func TestFullDiskResumesWhenOwnSegmentsAreReclaimed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := small(t, t.TempDir())
		s, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var ids []ID
		for i := range 400 { // two segments and a bit
			id, err := s.Append(rec(i))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		synctest.Wait() // the janitor prepared the next segment
		restore, _ := diskFull(t)
		var err2 error
		for i := 0; err2 == nil; i++ {
			var id ID
			if id, err2 = s.Append(rec(i)); err2 == nil {
				ids = append(ids, id)
			}
		}
		if !errors.Is(err2, ErrNoSpace) {
			t.Fatal(err2)
		}
		restore() // a reclaimed segment is what makes room
		for _, id := range ids {
			if err := s.Ack(id); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait() // the janitor reclaimed and prepared; no time passed
		if _, err := s.Append(rec(1)); err != nil {
			t.Fatalf("append after the full segments were reclaimed: %v", err)
		}
	})
}

// Too little free space is found before a file is created.
func TestTooLittleFreeSpace(t *testing.T) {
	o := small(t, t.TempDir())
	old := freeSpace
	var free atomic.Int64
	free.Store(o.SegmentBytes - 1)
	freeSpace = func(string) int64 { return free.Load() }
	t.Cleanup(func() { freeSpace = old })
	o.SegmentBytes = 64 << 10
	s := open(t, o)
	if !s.Degraded() {
		t.Fatalf("opened on a disk with %d bytes free for %d-byte segments: not degraded", free.Load(), o.SegmentBytes)
	}
	if _, err := s.Append(rec(0)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("append: %v", err)
	}
	if files := segFiles(t, o.Dir); len(files) != 0 {
		t.Errorf("segment files %v on a disk too full for one", files)
	}
}

// Segments are sized to the disk as well as to MaxBytes.
func TestSegmentSize(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct{ maxBytes, budget, want int64 }{
		{1 << 30, -1, 64 * mib},
		{1 << 30, 1 << 40, 64 * mib},
		{1 << 30, 8 * mib, mib},        // the 8 MiB tmpfs
		{1 << 30, 2 * mib, mib / 2},    // less than 4 MiB free
		{1 << 30, 100 << 10, 64 << 10}, // almost nothing free
		{128 * mib, -1, 8 * mib},
		{16 * mib, 1 << 40, mib},
	} {
		got := segmentSize(tc.maxBytes, tc.budget)
		if got != tc.want {
			t.Errorf("segmentSize(%d, %d) = %d, want %d", tc.maxBytes, tc.budget, got, tc.want)
		}
		if o, err := (Options{Dir: "x", MaxBytes: tc.maxBytes}).normalize(tc.budget); err != nil || o.SegmentBytes != tc.want {
			t.Errorf("normalize(MaxBytes %d, budget %d) = %d, %v", tc.maxBytes, tc.budget, o.SegmentBytes, err)
		}
	}
}
