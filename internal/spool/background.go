package spool

import (
	"errors"
	"fmt"
	"time"
)

// Two goroutines work behind the appenders. The janitor prepares the next
// segment ahead of need, so that an Append rarely creates one, and deletes
// segments whose records are all acknowledged. The syncer writes mapped
// pages to disk every Options.Sync. They are apart so that a sync slow on a
// busy disk delays neither: an Append never waits for a sync, and holds no
// lock a sync holds. A segment's syncMu keeps the syncer and reclaim from
// touching one at the same time.
func (s *Spool) startBackground() {
	s.bg.Go(s.janitor)
	if s.opts.Sync > 0 {
		s.bg.Go(s.syncer)
	}
	s.kickBackground()
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
		case <-s.stop:
			return
		case <-s.kick:
		case <-retry.C:
			fired, armed = true, false
		}
		s.prefault()
		// Reclaim first: what it frees may be what a degraded spool
		// waits for.
		freed := s.reclaim()
		if !s.degraded.Load() || freed || fired {
			s.prepare()
		}
		if s.degraded.Load() && !armed {
			retry.Reset(noSpaceRetry)
			armed = true
		}
	}
}

// prefault faults in pages ahead of the appender in the active segment
// and the first ones of the prepared next segment.
func (s *Spool) prefault() {
	s.mu.Lock()
	active, next := s.active, s.next
	s.mu.Unlock()
	for _, seg := range []*segment{active, next} {
		if seg != nil {
			seg.prefault()
		}
	}
}

func (s *Spool) syncer() {
	t := time.NewTicker(s.opts.Sync)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.syncAll(); err != nil && s.syncErrs.Add(1) == 1 {
				s.opts.Logger.Warn("spool: cannot write records to disk; they are in the page cache and survive the process, not a power loss", "err", err)
			}
		}
	}
}

// syncAll writes to disk the directory if segments were created, the
// part of each segment appended since its last sync, all of a segment
// once after it is sealed (its header changed), and all of one whose
// records were acknowledged since its last sync.
func (s *Spool) syncAll() error {
	var errs []error
	if s.dirDirty.Swap(false) {
		if err := s.opts.durable.syncDir(s.opts.Dir); err != nil {
			s.dirDirty.Store(true)
			errs = append(errs, err)
		}
	}
	for _, seg := range *s.tab.Load() {
		if err := seg.sync(s.opts.durable); err != nil {
			errs = append(errs, fmt.Errorf("spool: sync %s: %w", seg.path, err))
		}
	}
	return errors.Join(errs...)
}

// syncDirNow syncs the directory; if that fails, the syncer tries again.
func (s *Spool) syncDirNow() {
	if err := s.opts.durable.syncDir(s.opts.Dir); err != nil {
		s.dirDirty.Store(true)
		if s.syncErrs.Add(1) == 1 {
			s.opts.Logger.Warn("spool: cannot write the spool directory to disk; after a power loss, delivered records may be sent again", "err", err)
		}
	}
}

func (seg *segment) sync(step syncStep) error {
	seg.syncMu.Lock()
	defer seg.syncMu.Unlock()
	if seg.gone {
		return nil
	}
	// Marks written by Ack since the last sync may be anywhere before
	// synced: then the whole segment is synced, which writes only its
	// dirty pages. Cleared before the sync, so that an Ack racing with it
	// is synced now or next time.
	acked := seg.acked.Swap(false)
	sealed := seg.sealed.Load() // before end: a sealed segment's end is final
	end, from := seg.end.Load(), seg.synced
	switch {
	case seg.final && !acked:
		return nil
	case sealed || acked:
		from = 0
	case end <= from:
		return nil
	}
	if err := protect(func() error {
		if from > 0 { // the header's record count, with the records it counts
			if err := step.syncRange(seg.path, seg.data, 0, segHeader); err != nil {
				return err
			}
		}
		return step.syncRange(seg.path, seg.data, from, end)
	}); err != nil {
		if acked {
			seg.acked.Store(true)
		}
		return err
	}
	seg.synced, seg.final = end, sealed
	return nil
}

// reclaim deletes sealed segments whose records are all acknowledged, and
// reports whether it deleted any.
func (s *Spool) reclaim() bool {
	var gone []*segment
	for _, seg := range *s.tab.Load() {
		if seg.reclaimable() {
			gone = append(gone, seg)
		}
	}
	if len(gone) == 0 {
		return false
	}
	s.removeSegments(gone)
	// Wait out Acks and Next calls that looked a segment up before it left
	// the table; later ones do not find it.
	s.ackMu.Lock()
	s.rmu.Lock()
	for _, seg := range gone {
		if s.cur.seg == seg {
			s.cur = cursor{seq: seg.seq + 1}
		}
	}
	s.rmu.Unlock()
	s.ackMu.Unlock()
	var freed int64
	for _, seg := range gone {
		freed += int64(len(seg.data))
		seg.syncMu.Lock() // a sync of it finishes first
		seg.gone = true
		if err := seg.release(true); err != nil {
			s.opts.Logger.Warn("spool: cannot delete a segment whose records are all delivered", "segment", seg.path, "err", err)
		}
		seg.syncMu.Unlock()
	}
	// The deletions are synced before the space is offered: a power loss
	// must not bring the segments back, with acknowledgements that may
	// not have reached the disk (an Ack kicks the reclaim at once).
	if s.opts.Sync > 0 {
		s.syncDirNow()
	}
	s.mu.Lock()
	s.disk -= freed
	if !s.closed {
		close(s.space)
		s.space = make(chan struct{})
	}
	s.mu.Unlock()
	return true
}

// prepare creates the next segment ahead of need.
func (s *Spool) prepare() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.next != nil || s.creating {
		return
	}
	// Full, or a disk error, which the Append that needs the segment
	// meets again and returns (or, if degraded, what ends it).
	if s.prepareLocked(false) == nil {
		next := s.next
		s.mu.Unlock()
		next.prefault()
		s.mu.Lock()
	}
}
