//go:build unix

package spool

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// crashed leaves a spool with n records in one segment as a crash would:
// the segment is not sealed. It returns the segment's path and the
// records' offsets.
func crashed(t *testing.T, o Options, n int) (string, []int64) {
	t.Helper()
	s := open(t, o)
	var offs []int64
	for i := range n {
		id, err := s.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, id.off())
	}
	path := s.app.active.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	patch(t, path, 32, make([]byte, 16)) // what a crash leaves: no recorded end
	return path, offs
}

func patch(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func upTo(n int) []int {
	var s []int
	for i := range n {
		s = append(s, i)
	}
	return s
}

func TestTornTailIsCutWithOneWarning(t *testing.T) {
	o := small(t, t.TempDir())
	crashed(t, o, 100)
	if s := open(t, o); s.Stats().Damaged != 0 {
		t.Fatalf("a crash without damage: %+v", s.Stats())
	} else {
		s.Close()
	}

	// The last record half written: its second half never made it.
	o = small(t, t.TempDir())
	path, offs := crashed(t, o, 100)
	last := offs[len(offs)-1]
	patch(t, path, last+150, make([]byte, 200))
	s := open(t, o)
	got, _ := drain(t, s)
	if !slices.Equal(got, upTo(99)) {
		t.Fatalf("replayed %d records, want the 99 whole ones", len(got))
	}
	w := warningsOf(o).all()
	if len(w) != 1 || !strings.Contains(w[0], "cut") || !strings.Contains(w[0], "discarded_bytes=") {
		t.Fatalf("warnings %q, want one saying how much was cut", w)
	}
	if st := s.Stats(); st.Damaged == 0 || st.Damaged > 340 {
		t.Fatalf("damaged bytes %d, want the torn record's", st.Damaged)
	}
	s.Close()
	// The cut is not reported again.
	o = small(t, o.Dir)
	s = open(t, o)
	if w := warningsOf(o).all(); len(w) != 0 {
		t.Fatalf("second reopen warns again: %q", w)
	}
	s.Close()
}

// A disk that filled up or a copy cut short ends the file mid-record; a
// write the machine did not finish leaves garbage over the last records.
func TestDamagedTailIsCut(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, offs []int64)
		whole  int
		warn   string
	}{
		{"truncated", func(t *testing.T, path string, offs []int64) {
			if err := os.Truncate(path, offs[60]+100); err != nil {
				t.Fatal(err)
			}
		}, 60, "cut 100 bytes"},
		{"garbled", func(t *testing.T, path string, offs []int64) {
			patch(t, path, offs[98]+40, []byte(strings.Repeat("\xde\xad\xbe\xef", 100))) // inside record 98, into 99
		}, 98, "cut"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := small(t, t.TempDir())
			path, offs := crashed(t, o, 100)
			tc.damage(t, path, offs)
			s := open(t, o)
			got, _ := drain(t, s)
			if !slices.Equal(got, upTo(tc.whole)) {
				t.Fatalf("replayed %d records, want the %d whole ones", len(got), tc.whole)
			}
			if w := warningsOf(o).all(); len(w) != 1 || !strings.Contains(w[0], tc.warn) {
				t.Fatalf("warnings %q, want one saying %q", w, tc.warn)
			}
		})
	}
}

// Damage in the middle of a segment (a page lost in a power failure, a
// bad sector) costs the records in it, not the whole records behind it.
func TestDamageMidSegmentKeepsRecordsAfterIt(t *testing.T) {
	o := small(t, t.TempDir())
	path, offs := crashed(t, o, 150)
	patch(t, path, offs[40]+10, []byte("garbage garbage garbage")) // record 40's header
	patch(t, path, offs[70]+100, make([]byte, offs[73]-offs[70]))  // zeros from inside 70 into 73
	s := open(t, o)
	got, _ := drain(t, s)
	want := slices.DeleteFunc(upTo(150), func(i int) bool { return i == 40 || (i >= 70 && i <= 73) })
	if !slices.Equal(got, want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
	w := warningsOf(o).all()
	kept := fmt.Sprintf("the %d whole records after them are kept", len(want)-40)
	if len(w) != 1 || !strings.Contains(w[0], "in 2 places") || !strings.Contains(w[0], kept) {
		t.Fatalf("warnings %q", w)
	}
	s.Close()
	o = small(t, o.Dir)
	s = open(t, o)
	if w := warningsOf(o).all(); len(w) != 0 {
		t.Fatalf("reported again: %q", w)
	}
	if got, _ := drain(t, s); !slices.Equal(got, want) {
		t.Fatalf("second reopen replayed %v", got)
	}
}

func TestDamagedHeaderAndUnreadableSegment(t *testing.T) {
	o := small(t, t.TempDir())
	path, _ := crashed(t, o, 20)
	patch(t, path, 0, []byte("NOTASPOOL"))
	short := o.Dir + "/" + segName(99)
	if err := os.WriteFile(short, []byte("tiny"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, o)
	if got, _ := drain(t, s); !slices.Equal(got, upTo(20)) {
		t.Fatalf("replayed %v", got)
	}
	w := warningsOf(o).all()
	if len(w) != 1 || !strings.Contains(w[0], "header") || !strings.Contains(w[0], ".unreadable") {
		t.Fatalf("warnings %q", w)
	}
	if _, err := os.Stat(short + ".unreadable"); err != nil {
		t.Fatal(err)
	}
	// New segments are numbered after every one seen.
	id, err := s.Append(rec(1))
	if err != nil {
		t.Fatal(err)
	}
	if id.seq() <= 99 {
		t.Fatalf("new segment %d reuses a number", id.seq())
	}
}

// A mapping whose file another program truncates faults when touched;
// the caller gets ErrIO, not a crash.
func TestFaultIsAnError(t *testing.T) {
	o := small(t, t.TempDir())
	s := open(t, o)
	id, err := s.Append(rec(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(s.app.active.path, 4096); err != nil {
		t.Fatal(err)
	}
	var ferr error
	for i := 0; ferr == nil && i < 400; i++ {
		_, ferr = s.Append(rec(i))
	}
	if ferr == nil || !strings.Contains(ferr.Error(), "I/O error") {
		t.Fatalf("appending past the truncation: %v", ferr)
	}
	// The spool carries on in a new segment.
	if _, err := s.Append(rec(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(id); err != nil {
		t.Fatal(err)
	}
}
