package main

import (
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Every candidate survives a short append phase, and after a reopen
// replays at least every record it was not told was acknowledged, intact.
func TestCandidates(t *testing.T) {
	for _, c := range candidates {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			if _, err := appendPhase(c, dir, 3000, 100, value(0), time.Second); err != nil {
				t.Fatal(err)
			}
			dir = filepath.Join(t.TempDir(), "r")
			st, err := c.open(dir, -1)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				id, err := st.Append(time.Now().UnixNano(), value(i))
				if err != nil {
					t.Fatal(err)
				}
				if i < 5 {
					if err := st.Ack(id); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			seen := map[int]bool{}
			err = c.replay(dir, func(v []byte) {
				if string(v) != string(value(idOf(v))) {
					t.Errorf("replayed %q", v)
				}
				seen[idOf(v)] = true
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := 5; i < 10; i++ {
				if !seen[i] {
					t.Errorf("record %d not replayed (replayed %v)", i, seen)
				}
			}
		})
	}
}
