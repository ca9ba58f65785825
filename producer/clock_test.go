package producer

import (
	"testing"
	"testing/synctest"
	"time"
)

// The clock's times lie between time.Now calls made around them, on the
// monotonic clock exactly and on the wall clock within what a clock read
// takes, and they reuse the anchor only while it is younger than
// anchorAge.
func TestClockNow(t *testing.T) {
	var c clock
	prev := c.now()
	first := c.anchor.Load()
	for range 1000 {
		before := time.Now()
		got := c.now()
		after := time.Now()
		if got.Before(before) || got.After(after) || got.Before(prev) {
			t.Fatalf("now() = %v, not between %v and %v, or before the previous %v", got, before, after, prev)
		}
		// The wall time, read apart from the monotonic one.
		if w := got.Round(0); w.Before(before.Round(0).Add(-time.Millisecond)) || w.After(after.Round(0).Add(time.Millisecond)) {
			t.Fatalf("now() wall time %v, want between %v and %v", w, before.Round(0), after.Round(0))
		}
		prev = got
	}
	if first == nil {
		t.Fatal("no anchor taken")
	}
	if time.Since(*first) < anchorAge && c.anchor.Load() != first {
		t.Errorf("anchor replaced while younger than %v", anchorAge)
	}
}

// In a synctest bubble the clock gives the bubble's time, and an anchor
// older than anchorAge is replaced.
func TestClockAnchorAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c clock
		if got, want := c.now(), time.Now(); !got.Equal(want) {
			t.Fatalf("now() = %v, want %v", got, want)
		}
		a := c.anchor.Load()
		time.Sleep(anchorAge / 2)
		if got, want := c.now(), time.Now(); !got.Equal(want) || c.anchor.Load() != a {
			t.Fatalf("now() = %v, want %v from the same anchor", got, want)
		}
		time.Sleep(anchorAge)
		if got, want := c.now(), time.Now(); !got.Equal(want) || c.anchor.Load() == a {
			t.Fatalf("now() = %v, want %v from a new anchor", got, want)
		}
	})
}
