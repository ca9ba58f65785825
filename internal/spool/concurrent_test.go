//go:build unix

package spool

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

// Appenders, a spiller, a reader that acknowledges what Next hands out and
// an acknowledger of held records run at once over many small segments;
// in the end every record was handed out or acknowledged exactly once and
// every segment but the active ones is reclaimed.
func TestConcurrentUse(t *testing.T) {
	o := small(t, t.TempDir())
	o.MaxBytes = 64 * o.SegmentBytes
	s := open(t, o)
	const perWriter, writers = 3000, 3
	held := make(chan ID, 1024)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				n := w*perWriter + i
				if i%2 == 0 {
					if err := s.Spill(rec(n)); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				id, err := s.Append(rec(n))
				if err != nil {
					t.Error(err)
					return
				}
				held <- id
			}
		})
	}
	var ackers sync.WaitGroup
	ackers.Go(func() {
		for id := range held {
			if err := s.Ack(id); err != nil {
				t.Error(err)
			}
		}
	})
	seen := make(map[int]bool)
	spilled := writers * perWriter / 2
	for len(seen) < spilled && !t.Failed() {
		e, ok, err := s.Next(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			runtime.Gosched() // the writers are still spilling
			continue
		}
		n := idOf(t, e.Value)
		if seen[n] || n%perWriter%2 != 0 {
			t.Fatalf("record %d handed out twice, or held by its appender", n)
		}
		seen[n] = true
		if err := s.Ack(e.ID); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(held)
	ackers.Wait()
	waitFor(t, s, "everything reclaimed", func(st Stats) bool {
		return st.Records == 0 && st.Waiting == 0 && st.DiskBytes <= 2*o.SegmentBytes
	})
}

func TestFullDiskIsErrNoSpace(t *testing.T) {
	// The disk is full from the start: Open succeeds (records on disk may
	// still be delivered), appends get ErrNoSpace, not ErrFull: nothing
	// the caller waits for frees a full disk. The hook is set before
	// Open and restored after Close, when no goroutine of the spool runs.
	o := small(t, t.TempDir())
	allocate = func(*os.File, int64) error { return syscall.ENOSPC }
	t.Cleanup(func() { allocate = preallocate })
	s := open(t, o)
	var err error
	for i := 0; err == nil && i < 10000; i++ {
		_, err = s.Append(rec(i))
	}
	if !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("appending on a full disk: %v, want ErrNoSpace wrapping ENOSPC", err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(o.Dir, "*.tmp")); len(tmp) > 0 {
		t.Fatalf("a failed creation left %v behind", tmp)
	}
}

// syncAll writes every appended byte and every sealed segment, once.
func TestSyncAll(t *testing.T) {
	o := small(t, t.TempDir())
	s := open(t, o)
	for i := range 400 { // into a third segment
		if _, err := s.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	segs := s.tab.segments() // the janitor may prepare one more meanwhile
	if err := s.syncAll(); err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs {
		seg.syncMu.Lock()
		if seg.synced != seg.end.Load() || seg.final != seg.sealed.Load() {
			t.Errorf("segment %d: synced to %d of %d, final %v, sealed %v", seg.seq, seg.synced, seg.end.Load(), seg.final, seg.sealed.Load())
		}
		seg.syncMu.Unlock()
	}
}
