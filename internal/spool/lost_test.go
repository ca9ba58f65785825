//go:build unix

package spool

import (
	"os"
	"strings"
	"testing"
)

// Every record not yet acknowledged that damage takes is counted: Open's
// Recovered + Lost is what the previous Spool left not acknowledged,
// whatever the damage, and the warning says how many and where.
func TestDamageIsCounted(t *testing.T) {
	flip := func(t *testing.T, path string, off, n int64) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := off; i < off+n; i++ {
			b[i] ^= 0xff
		}
		patch(t, path, off, b[off:off+n])
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, offs []int64)
		lost   int64
		say    string
	}{
		{"flip 64 bytes in the middle", func(t *testing.T, path string, offs []int64) {
			flip(t, path, offs[100]+300, 64) // the end of record 100, the start of 101
		}, 2, "2 records not yet delivered were lost"},
		{"flip a header", func(t *testing.T, path string, offs []int64) {
			flip(t, path, offs[10], 24)
		}, 1, "1 records not yet delivered were lost"},
		{"truncate mid-record", func(t *testing.T, path string, offs []int64) {
			if err := os.Truncate(path, offs[60]+100); err != nil {
				t.Fatal(err)
			}
		}, 90, "90 records not yet delivered were lost"},
		{"truncate between records", func(t *testing.T, path string, offs []int64) {
			if err := os.Truncate(path, offs[120]); err != nil {
				t.Fatal(err)
			}
		}, 30, "30 records not yet delivered are missing"},
		{"acknowledged records damaged", func(t *testing.T, path string, offs []int64) {
			flip(t, path, offs[2]+100, 8) // acknowledged before the damage
			flip(t, path, offs[5]+100, 8) // not acknowledged
		}, 1, "1 records not yet delivered were lost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := small(t, t.TempDir())
			o.SegmentBytes, o.MaxBytes = 1<<20, 8<<20 // all in one segment
			s := open(t, o)
			const n = 150
			var offs []int64
			var acked int64
			for i := range n {
				id, err := s.Append(rec(i))
				if err != nil {
					t.Fatal(err)
				}
				offs = append(offs, id.off())
				if i < 5 { // delivered before the process ended
					if err := s.Ack(id); err != nil {
						t.Fatal(err)
					}
					acked++
				}
			}
			path := s.app.active.path
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			left := n - acked
			tc.damage(t, path, offs)

			o2 := small(t, o.Dir)
			o2.SegmentBytes, o2.MaxBytes = o.SegmentBytes, o.MaxBytes
			s2 := open(t, o2)
			got, _ := drain(t, s2)
			st := s2.Stats()
			if st.Lost != tc.lost || st.Recovered+st.Lost != left || int64(len(got)) != st.Recovered {
				t.Errorf("lost %d, recovered %d (handed out %d): want %d lost, %d in all", st.Lost, st.Recovered, len(got), tc.lost, left)
			}
			w := warningsOf(o2).all()
			if len(w) != 1 || !strings.Contains(w[0], tc.say) || !strings.Contains(w[0], path) || !strings.Contains(w[0], "lost_records=") {
				t.Errorf("warnings %q, want one saying %q of %s", w, tc.say, path)
			}
			s2.Close()
			// Counted once: the next Open finds the loss behind it.
			o3 := small(t, o.Dir)
			s3 := open(t, o3)
			if st := s3.Stats(); st.Lost != 0 || st.Recovered != int64(len(got)) {
				t.Errorf("second reopen: %+v", st)
			}
			if w := warningsOf(o3).all(); len(w) != 0 {
				t.Errorf("second reopen warns: %q", w)
			}
		})
	}
}

// A crash (the segment not sealed) keeps the count: the last record,
// appended and torn, is counted lost.
func TestTornRecordIsCounted(t *testing.T) {
	o := small(t, t.TempDir())
	path, offs := crashed(t, o, 100)
	patch(t, path, offs[99]+150, make([]byte, 200))
	o = small(t, o.Dir)
	s := open(t, o)
	if st := s.Stats(); st.Lost != 1 || st.Recovered != 99 {
		t.Errorf("stats %+v, want 99 recovered and 1 lost", st)
	}
	if w := warningsOf(o).all(); len(w) != 1 || strings.Contains(w[0], "estimated") {
		t.Errorf("warnings %q, want one with the count from the header, not an estimate", w)
	}
}

// A segment without counts (written before the header had them) gets an
// estimate, said to be one.
func TestLossWithoutCountsIsEstimated(t *testing.T) {
	o := small(t, t.TempDir())
	path, offs := crashed(t, o, 100)
	patch(t, path, countOff, make([]byte, 16))
	patch(t, path, offs[40]+30, []byte("garbage garbage garbage garbage!"))
	s := open(t, small(t, o.Dir))
	st := s.Stats()
	if st.Lost != 1 || st.Recovered != 99 {
		t.Errorf("stats %+v, want 99 recovered and about 1 lost", st)
	}
	s.Close()
}
