//go:build unix

package spool

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestReopenReplaysUnacknowledgedInOrder(t *testing.T) {
	o := small(t, t.TempDir())
	s := open(t, o)
	const n = 1000 // about 5 segments
	ids := make([]ID, n)
	for i := range n {
		id, err := s.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && id <= ids[i-1] {
			t.Fatalf("IDs do not grow: %#x after %#x", id, ids[i-1])
		}
		ids[i] = id
	}
	if _, ok, _ := s.Next(nil); ok {
		t.Fatal("Next handed out a record its appender holds")
	}
	if err := s.Spill(Record{Topic: "t", Value: []byte("no time")}); err != nil {
		t.Fatal(err)
	}
	if e, _, err := s.Next(nil); err != nil || !e.Time.IsZero() || string(e.Value) != "no time" {
		t.Fatalf("a record without a time came back as %+v, %v", e, err)
	} else if err := s.Ack(e.ID); err != nil {
		t.Fatal(err)
	}
	var want []int
	for i, id := range ids {
		if i%3 == 0 {
			if err := s.Ack(id); err != nil {
				t.Fatal(err)
			}
		} else {
			want = append(want, i)
		}
	}
	if st := s.Stats(); st.Records != int64(len(want)) || st.Waiting != 0 {
		t.Fatalf("stats %+v, want %d records, none waiting", st, len(want))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, o)
	st := s.Stats()
	if st.Recovered != int64(len(want)) || st.Records != int64(len(want)) || st.Waiting != int64(len(want)) {
		t.Fatalf("after reopen: stats %+v, want %d recovered, all waiting", st, len(want))
	}
	got, entries := drain(t, s)
	if !slices.Equal(got, want) {
		t.Fatalf("replayed %d records %v..., want %d", len(got), got[:min(10, len(got))], len(want))
	}
	for _, e := range entries {
		if err := s.Ack(e.ID); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, s, "every recovered segment reclaimed", func(st Stats) bool {
		return st.Records == 0 && st.DiskBytes <= 2*o.SegmentBytes
	})
	if w := warningsOf(o).all(); len(w) > 0 {
		t.Errorf("warnings on a clean reopen: %q", w)
	}
}

// Acknowledgements come back out of order across shards; a segment is
// deleted once all its records are, whether or not older segments still
// hold records.
func TestOutOfOrderAcksReclaimSegments(t *testing.T) {
	o := small(t, t.TempDir())
	s := open(t, o)
	var ids []ID
	for i := 0; len(segFiles(t, o.Dir)) < 6 || len(ids) < 900; i++ {
		id, err := s.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	bySeg := map[uint64][]ID{}
	for _, id := range ids {
		bySeg[id.seq()] = append(bySeg[id.seq()], id)
	}
	first := ids[0].seq()
	// Acknowledge everything but the first segment's last record, in a
	// random order.
	pinned := bySeg[first][len(bySeg[first])-1]
	rng := rand.New(rand.NewPCG(1, 2))
	order := slices.Clone(ids)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, id := range order {
		if id == pinned {
			continue
		}
		if err := s.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ack(order[0]); !errors.Is(err, ErrUnknownID) && order[0] != pinned {
		t.Fatalf("second Ack: %v, want ErrUnknownID", err)
	}
	active := ids[len(ids)-1].seq()
	// Every sealed segment but the first goes; the first stays for its
	// one record, the active one stays.
	waitFor(t, s, "sealed segments reclaimed", func(Stats) bool {
		for seq := range bySeg {
			_, err := os.Stat(filepath.Join(o.Dir, segName(seq)))
			if gone := errors.Is(err, os.ErrNotExist); gone != (seq != first && seq != active) {
				return false
			}
		}
		return true
	})
	if st := s.Stats(); st.Records != 1 || st.Bytes != padded(recordSize(rec(0).Topic, rec(0).Value)) {
		t.Fatalf("stats %+v, want 1 record", st)
	}
	if err := s.Ack(pinned); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "the first segment reclaimed", func(Stats) bool {
		_, err := os.Stat(filepath.Join(o.Dir, segName(first)))
		return errors.Is(err, os.ErrNotExist)
	})
}

func TestSpillNextRelease(t *testing.T) {
	o := small(t, t.TempDir())
	s := open(t, o)
	// Records held by the appender and spilled ones interleave, across
	// segments; Next hands out the spilled ones only, oldest first.
	held := map[int]ID{}
	var spilled []int
	for i := range 600 {
		if i%4 == 0 {
			id, err := s.Append(rec(i))
			if err != nil {
				t.Fatal(err)
			}
			held[i] = id
			continue
		}
		if err := s.Spill(rec(i)); err != nil {
			t.Fatal(err)
		}
		spilled = append(spilled, i)
	}
	if st := s.Stats(); st.Waiting != int64(len(spilled)) || st.Records != 600 {
		t.Fatalf("stats %+v", st)
	}
	// Hand out half, then release two held records behind the cursor and
	// one handed out: they come back before the rest, oldest first.
	var handed []Entry
	for range len(spilled) / 2 {
		e, ok, err := s.Next(nil)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		handed = append(handed, e)
	}
	for _, id := range []ID{held[8], handed[3].ID, held[0]} {
		if err := s.Release(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Release(held[8]); !errors.Is(err, ErrUnknownID) {
		t.Fatalf("releasing a waiting record: %v", err)
	}
	got, _ := drain(t, s)
	want := append([]int{0, idOf(t, handed[3].Value), 8}, spilled[len(spilled)/2:]...) // handed[3] is 5
	if !slices.Equal(got, want) {
		t.Fatalf("Next after release: %v..., want %v...", got[:5], want[:5])
	}
	if st := s.Stats(); st.Waiting != 0 {
		t.Fatalf("stats %+v, want none waiting", st)
	}
	// Acknowledging a record that waits takes it out of the queue.
	if err := s.Spill(rec(1000)); err != nil {
		t.Fatal(err)
	}
	if err := s.Spill(rec(1001)); err != nil {
		t.Fatal(err)
	}
	e, _, _ := s.Next(nil)
	if err := s.Release(e.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(e.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := drain(t, s); !slices.Equal(got, []int{1001}) {
		t.Fatalf("after acking a waiting record: %v", got)
	}
}

func TestFullAndSpace(t *testing.T) {
	o := small(t, t.TempDir())
	o.MaxBytes = 3 * o.SegmentBytes
	s := open(t, o)
	var ids []ID
	var err error
	for i := 0; err == nil; i++ {
		var id ID
		if id, err = s.Append(rec(i)); err == nil {
			ids = append(ids, id)
		}
	}
	mustFull(t, err)
	if !strings.Contains(err.Error(), "MaxBytes") {
		t.Errorf("full error does not say what is full: %v", err)
	}
	if st := s.Stats(); st.DiskBytes > o.MaxBytes || st.DiskBytes != 3*o.SegmentBytes {
		t.Fatalf("stats %+v, MaxBytes %d", st, o.MaxBytes)
	}
	ch := s.Space()
	_, err = s.Append(rec(0))
	mustFull(t, err)
	select {
	case <-ch:
		t.Fatal("Space closed while nothing was reclaimed")
	default:
	}
	// Acknowledging the first segment's records frees one segment.
	for _, id := range ids {
		if id.seq() == ids[0].seq() {
			if err := s.Ack(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-ch // bounded by the test timeout: reclaim is asynchronous
	waitFor(t, s, "a segment prepared", func(Stats) bool {
		_, err := s.Append(rec(1))
		return err == nil
	})
	if st := s.Stats(); st.DiskBytes > o.MaxBytes {
		t.Fatalf("over MaxBytes: %+v", st)
	}
	// Records bigger than a segment are refused whatever the space.
	_, err = s.Append(Record{Topic: "t", Value: make([]byte, o.SegmentBytes)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge record: %v", err)
	}
}

func TestSecondOpenerIsRefused(t *testing.T) {
	o := small(t, t.TempDir())
	s := open(t, o)
	_, err := Open(o)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if pid := os.Getpid(); !strings.Contains(err.Error(), "process "+strconv.Itoa(pid)) {
		t.Errorf("error does not name the holder (pid %d): %v", pid, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, o)
	if _, err := s2.Append(rec(1)); err != nil {
		t.Fatal(err)
	}
	// A closed Spool refuses everything, clearly.
	if _, err := s.Append(rec(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, _, err := s.Next(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := s.Ack(1 << 32); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ack after Close: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "spool")
	o := small(t, dir)
	s := open(t, o)
	if _, err := s.Append(rec(1)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %#o, want 0700", perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 2 {
		t.Fatalf("files %v, want the lock and segments", entries)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", e.Name(), perm)
		}
	}
	s.Close()

	// A directory made for the spool with the usual mode is tightened; a
	// shared one is refused.
	made := t.TempDir()
	if err := os.Chmod(made, 0o755); err != nil {
		t.Fatal(err)
	}
	open(t, small(t, made)).Close()
	if fi, err := os.Stat(made); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("empty 0755 directory: %v %v, want it made 0700", fi.Mode(), err)
	}
	shared := t.TempDir()
	if err := os.WriteFile(filepath.Join(shared, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Open(small(t, shared))
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("Open on a shared directory others can read: %v", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, o := range []Options{
		{},
		{Dir: t.TempDir(), MaxBytes: -1},
		{Dir: t.TempDir(), SegmentBytes: 1 << 20, MaxBytes: 1 << 20},
		{Dir: t.TempDir(), SegmentBytes: 1 << 10},
	} {
		if s, err := Open(o); err == nil {
			s.Close()
			t.Errorf("Open(%+v) accepted", o)
		}
	}
	o, err := Options{Dir: "x"}.normalize(-1)
	if err != nil || o.MaxBytes != DefaultMaxBytes || o.SegmentBytes != DefaultSegmentBytes || o.Sync != DefaultSync {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
}

// End and WaitingBefore say whether Next has handed out everything
// appended up to a point.
func TestWaitingBefore(t *testing.T) {
	s := open(t, small(t, t.TempDir()))
	if err := s.Spill(Record{Topic: "app", Value: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	end := s.End()
	if !s.WaitingBefore(end) {
		t.Fatal("a spilled record before end is not reported waiting")
	}
	if err := s.Spill(Record{Topic: "app", Value: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	e, ok, err := s.Next(nil)
	if err != nil || !ok || string(e.Value) != "a" {
		t.Fatalf("Next = %q, %v, %v", e.Value, ok, err)
	}
	if s.WaitingBefore(end) {
		t.Error("after Next handed out the only record before end, it is still reported waiting")
	}
	if err := s.Release(e.ID); err != nil {
		t.Fatal(err)
	}
	if !s.WaitingBefore(end) {
		t.Error("a released record before end is not reported waiting")
	}
}
