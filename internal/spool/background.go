package spool

import (
	"sync"
	"time"
)

// Two goroutines work behind the appenders. The janitor prepares the next
// segment ahead of need, so that an Append rarely creates one, faults in
// pages ahead of the appender (prefault.go), and runs the table's reclaim.
// The syncer writes mapped pages to disk every Options.Sync (durable.go).
// They are apart so that a sync slow on a busy disk delays neither: an
// Append never waits for a sync, and holds no lock a sync holds. A
// segment's syncMu keeps the syncer and reclaim from touching one at the
// same time.

// background owns the two goroutines: the channel that wakes the janitor,
// the one that stops both, and their wait group.
type background struct {
	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

func (b *background) init() {
	b.kick = make(chan struct{}, 1)
	b.stop = make(chan struct{})
}

func (b *background) start(s *Spool) {
	b.wg.Go(s.janitor)
	if s.dur.on() {
		b.wg.Go(s.syncer)
	}
	b.wake()
}

// wake wakes the janitor, without waiting.
func (b *background) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// halt ends both goroutines, after what they are doing.
func (b *background) halt() {
	close(b.stop)
	b.wg.Wait()
}

func (s *Spool) janitor() {
	// retry runs while the spool is degraded (space.go).
	retry := time.NewTimer(noSpaceRetry)
	retry.Stop()
	defer retry.Stop()
	armed := false
	for {
		fired := false
		select {
		case <-s.bg.stop:
			return
		case <-s.bg.kick:
		case <-retry.C:
			fired, armed = true, false
		}
		s.prefault()
		// Reclaim first: what it frees may be what a degraded spool
		// waits for.
		freed := s.reclaim()
		if !s.app.full.on.Load() || freed || fired {
			s.app.prepare()
		}
		if s.app.full.on.Load() && !armed {
			retry.Reset(noSpaceRetry)
			armed = true
		}
	}
}

// prefault faults in pages ahead of the appender in the active segment
// and the first ones of the prepared next segment.
func (s *Spool) prefault() {
	active, next := s.app.current()
	for _, seg := range []*segment{active, next} {
		if seg != nil {
			seg.prefault()
		}
	}
}

// reclaim runs the table's reclaim, syncs the directory after the
// deletions, and only then offers the space: a power loss must not bring
// the segments back, with acknowledgements that may not have reached the
// disk (an Ack starts the reclaim at once). It reports whether it freed
// any.
func (s *Spool) reclaim() bool {
	freed := s.tab.reclaim()
	if freed == 0 {
		return false
	}
	if s.dur.on() {
		s.dur.dirNow()
	}
	s.app.freed(freed)
	return true
}

func (s *Spool) syncer() {
	t := time.NewTicker(s.opts.Sync)
	defer t.Stop()
	for {
		select {
		case <-s.bg.stop:
			return
		case <-t.C:
			s.dur.tick(s.tab.segments())
		}
	}
}
