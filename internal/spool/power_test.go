//go:build unix

package spool

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// powerImage is a sync step that keeps what a power loss leaves of a
// spool's directory: the entries as of the directory's last sync, each
// file with the bytes last synced, zeros elsewhere (the files are
// preallocated, and unwritten blocks read as zeros). Nothing is written
// to disk: the spool's files stay what the page cache holds, which is
// what the tearing variant takes a part of.
type powerImage struct {
	dir   string
	mu    sync.Mutex
	files map[string][]byte // by name: the bytes synced last
	names map[string]int64  // the entries at the last directory sync, with their sizes
}

// newPowerImage starts an image of dir with what it holds now, as if it
// had all been synced.
func newPowerImage(t *testing.T, dir string) *powerImage {
	t.Helper()
	p := &powerImage{dir: dir, files: map[string][]byte{}, names: map[string]int64{}}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p.files[e.Name()], p.names[e.Name()] = b, int64(len(b))
	}
	return p
}

func (p *powerImage) syncRange(path string, data []byte, from, to int64) error {
	from &^= pageSize - 1 // msync writes whole pages
	name := filepath.Base(path)
	p.mu.Lock()
	defer p.mu.Unlock()
	img := p.files[name]
	if len(img) < len(data) {
		img = append(img, make([]byte, len(data)-len(img))...)
	}
	copy(img[from:to], data[from:to])
	p.files[name] = img
	return nil
}

func (p *powerImage) syncDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	names := map[string]int64{}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && e.Name() != lockName {
			names[e.Name()] = fi.Size()
		}
	}
	p.mu.Lock()
	p.names = names
	p.mu.Unlock()
	return nil
}

// afterPowerLoss returns a new directory with what a power loss leaves.
// With tear, each file also keeps a part of what was written to it after
// its last sync: from the first byte that changed to halfway to the last
// one, as if the disk had written the pages in order and lost power
// mid-write.
func (p *powerImage) afterPowerLoss(t *testing.T, tear bool) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := t.TempDir()
	for name, size := range p.names {
		b := make([]byte, size)
		copy(b, p.files[name])
		if cur, err := os.ReadFile(filepath.Join(p.dir, name)); tear && err == nil && len(cur) == len(b) {
			first, last := -1, -1
			for i := range b {
				if b[i] != cur[i] {
					if first < 0 {
						first = i
					}
					last = i
				}
			}
			if first >= 0 {
				cut := first + (last-first+1)/2
				copy(b[first:cut], cur[first:cut])
			}
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// powered are options for a power-loss test: those of small, with img as
// the sync step and a sync interval that never comes, so that the test
// decides when syncAll runs.
func powered(t *testing.T, img *powerImage) Options {
	o := small(t, img.dir)
	o.Sync, o.durable = time.Hour, img
	return o
}

// cutPower stops s as a power loss does: its goroutines end (the janitor
// finishes what it is doing) and nothing more is synced.
func cutPower(t *testing.T, s *Spool) {
	t.Helper()
	s.closed.Store(true)
	a := &s.app
	a.mu.Lock()
	a.closed = true
	for a.creating {
		a.created.Wait()
	}
	a.mu.Unlock()
	s.bg.halt()
	if _, err := s.tab.releaseAll(false, nil); err != nil {
		t.Fatal(err)
	}
	s.lock.Close()
}

// reopen opens the spool a power loss left in dir.
func reopen(t *testing.T, dir string) (*Spool, Options) {
	t.Helper()
	o := small(t, dir)
	return open(t, o), o
}

// What was synced survives a power loss, and nothing else is needed:
// records appended and acknowledged after the last sync are lost or
// kept, whole, in any mix the disk leaves; never a record synced.
func TestPowerLossKeepsWhatWasSynced(t *testing.T) {
	for _, tear := range []bool{false, true} {
		name := map[bool]string{false: "dropped", true: "torn"}[tear]
		t.Run(name, func(t *testing.T) {
			img := newPowerImage(t, t.TempDir())
			s := open(t, powered(t, img))
			held := map[int]ID{}
			var kept []int // appended and not acknowledged when synced
			for i := range 400 {
				if i%5 == 4 {
					if err := s.Spill(rec(i)); err != nil {
						t.Fatal(err)
					}
					kept = append(kept, i)
					continue
				}
				id, err := s.Append(rec(i))
				if err != nil {
					t.Fatal(err)
				}
				if i%3 == 0 {
					if err := s.Ack(id); err != nil {
						t.Fatal(err)
					}
					continue
				}
				held[i] = id
				kept = append(kept, i)
			}
			if err := s.syncAll(); err != nil {
				t.Fatal(err)
			}
			// After the sync: what the power loss may take.
			ackedLate := map[int]bool{}
			for i, id := range held {
				if i%3 == 1 {
					if err := s.Ack(id); err != nil {
						t.Fatal(err)
					}
					ackedLate[i] = true
				}
			}
			for i := 400; i < 500; i++ {
				if _, err := s.Append(rec(i)); err != nil {
					t.Fatal(err)
				}
			}
			cutPower(t, s)

			s2, o2 := reopen(t, img.afterPowerLoss(t, tear))
			got, _ := drain(t, s2)
			if !tear {
				if !slices.Equal(got, kept) {
					t.Fatalf("replayed %d records %v, want the %d synced and not acknowledged", len(got), got, len(kept))
				}
				if st := s2.Stats(); st.Damaged != 0 || st.Lost != 0 {
					t.Fatalf("a power loss without tearing counted damage: %+v", st)
				}
				return
			}
			seen := map[int]bool{}
			for _, i := range got {
				if seen[i] || i < 0 || i >= 500 {
					t.Fatalf("record %d replayed twice, or never appended", i)
				}
				seen[i] = true
			}
			for _, i := range kept {
				if !seen[i] && !ackedLate[i] {
					t.Errorf("record %d, synced and not acknowledged, lost", i)
				}
			}
			if w := warningsOf(o2).all(); len(w) > 1 {
				t.Errorf("warnings %q, want at most one", w)
			}
			t.Logf("torn: %d replayed of %d synced, %d acknowledged after the sync, 100 appended after it; %+v", len(got), len(kept), len(ackedLate), s2.Stats())
		})
	}
}

// contents returns the bytes of the files in dir.
func contents(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, path := range segFiles(t, dir) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(path)] = b
	}
	return m
}

// The image is what was synced: without a sync, a power loss leaves the
// directory as it was.
func TestPowerImageKeepsOnlyWhatWasSynced(t *testing.T) {
	img := newPowerImage(t, t.TempDir())
	s := open(t, powered(t, img))
	if _, err := s.Append(rec(1)); err != nil {
		t.Fatal(err)
	}
	cutPower(t, s)
	if got := contents(t, img.afterPowerLoss(t, false)); len(got) != 0 {
		t.Fatalf("nothing synced, yet %d segment files survive", len(got))
	}
	if got := contents(t, img.afterPowerLoss(t, true)); len(got) != 0 {
		t.Fatalf("nothing synced, yet %d segment files survive a torn write", len(got))
	}
}

// Acknowledgements are synced like records: those written after a
// segment's last sync, sealed or not, survive a power loss once the next
// sync ran.
func TestAcksAfterLastSyncSurvivePowerLoss(t *testing.T) {
	img := newPowerImage(t, t.TempDir())
	s := open(t, powered(t, img))
	var ids []ID
	for i := range 300 { // the first segment sealed, the second appended to
		id, err := s.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0].seq() == ids[299].seq() {
		t.Fatal("the records fit in one segment")
	}
	if err := s.syncAll(); err != nil { // the first segment's final sync
		t.Fatal(err)
	}
	for _, id := range ids[1:299] {
		if err := s.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.syncAll(); err != nil {
		t.Fatal(err)
	}
	cutPower(t, s)
	s2, _ := reopen(t, img.afterPowerLoss(t, false))
	if got, _ := drain(t, s2); !slices.Equal(got, []int{0, 299}) {
		t.Fatalf("after a power loss, replayed %d records, want the 2 not acknowledged", len(got))
	}
}

// Deleting a segment whose records are all acknowledged is synced: after
// a power loss it does not come back with its records.
func TestReclaimSurvivesPowerLoss(t *testing.T) {
	img := newPowerImage(t, t.TempDir())
	s := open(t, powered(t, img))
	var ids []ID
	for i := range 300 {
		id, err := s.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := s.syncAll(); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(img.dir, segName(ids[0].seq()))
	var want []int
	for i, id := range ids {
		if id.seq() != ids[0].seq() {
			want = append(want, i)
			continue
		}
		if err := s.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, s, "the first segment deleted", func(Stats) bool {
		_, err := os.Stat(first)
		return os.IsNotExist(err)
	})
	cutPower(t, s) // the janitor finishes reclaiming first
	s2, _ := reopen(t, img.afterPowerLoss(t, false))
	if got, _ := drain(t, s2); !slices.Equal(got, want) {
		t.Fatalf("after a power loss, replayed %d records, want the %d of the second segment: the deletion of the first was not synced", len(got), len(want))
	}
}

// Close syncs the deletions it makes: the segments it deletes (every
// record acknowledged) do not come back after a power loss.
func TestCloseSyncsDeletions(t *testing.T) {
	img := newPowerImage(t, t.TempDir())
	s := open(t, powered(t, img))
	for i := range 300 {
		id, err := s.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, img.afterPowerLoss(t, false)); len(got) != 0 {
		t.Fatalf("%d segment files, all delivered, back after a power loss", len(got))
	}
}

// dirFails is a sync step whose directory syncs fail while fail is set.
type dirFails struct {
	*powerImage
	fail atomic.Bool
}

func (d *dirFails) syncDir(dir string) error {
	if d.fail.Load() {
		return errors.New("injected")
	}
	return d.powerImage.syncDir(dir)
}

// A directory sync that fails after a deletion is counted, said once, and
// done by the next sync.
func TestFailedDirectorySyncIsRetried(t *testing.T) {
	img := &dirFails{powerImage: newPowerImage(t, t.TempDir())}
	o := powered(t, img.powerImage)
	o.durable = img
	s := open(t, o)
	var ids []ID
	for i := range 300 {
		id, err := s.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := s.syncAll(); err != nil {
		t.Fatal(err)
	}
	img.fail.Store(true)
	first := segName(ids[0].seq())
	for _, id := range ids {
		if id.seq() == ids[0].seq() {
			if err := s.Ack(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, s, "the failed directory sync", func(st Stats) bool { return st.SyncErrors > 0 })
	if w := warningsOf(o).all(); len(w) != 1 || !strings.Contains(w[0], "directory") {
		t.Fatalf("warnings %q, want one about the directory", w)
	}
	img.fail.Store(false)
	if err := s.syncAll(); err != nil {
		t.Fatal(err)
	}
	img.mu.Lock()
	_, back := img.names[first]
	img.mu.Unlock()
	if back {
		t.Fatal("the next sync did not sync the directory after the failed one")
	}
}
