package spool

import "time"

// background is the Spool's one goroutine. It writes mapped pages to disk
// every Options.Sync, deletes segments whose records are all
// acknowledged, and prepares the next segment, so that appends find one
// ready. Doing all three on one goroutine means a sync never races an
// unmap; none of them holds a lock an append waits for while it does
// I/O.
func (s *Spool) background() {
	defer close(s.done)
	var tick <-chan time.Time
	if s.opts.Sync > 0 {
		t := time.NewTicker(s.opts.Sync)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-tick:
			s.syncAll()
		case <-s.kick:
		}
		s.reclaim()
		s.prepare()
	}
}

// syncAll writes what was appended since the last sync to disk: the new
// part of segments being appended to, all of a segment once it is sealed
// (its header changed).
func (s *Spool) syncAll() {
	for _, seg := range *s.tab.Load() {
		if seg.final {
			continue
		}
		sealed := seg.sealed.Load()
		end := seg.end.Load()
		from := seg.synced
		if sealed {
			from = 0
		} else if end <= from {
			continue
		}
		err := protect(func() error { return syncRange(seg.data, from, end) })
		if err != nil {
			if s.syncErrs.Add(1) == 1 {
				s.opts.Logger.Warn("spool: cannot write records to disk; they are in memory (the page cache) and survive the process, not a power loss",
					"segment", seg.path, "err", err)
			}
			continue
		}
		seg.synced = end
		seg.final = sealed
	}
}

// reclaim deletes sealed segments whose records are all acknowledged.
func (s *Spool) reclaim() {
	var gone []*segment
	for _, seg := range *s.tab.Load() {
		if seg.reclaimable() {
			gone = append(gone, seg)
		}
	}
	if len(gone) == 0 {
		return
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
		if err := seg.release(true); err != nil {
			s.opts.Logger.Warn("spool: cannot delete a segment whose records are all delivered", "segment", seg.path, "err", err)
		}
	}
	s.mu.Lock()
	s.disk -= freed
	if !s.closed {
		close(s.space)
		s.space = make(chan struct{})
	}
	s.mu.Unlock()
}

// prepare creates the next segment ahead of need.
func (s *Spool) prepare() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.next != nil || s.creating {
		return
	}
	// Full, or a disk error, which the Append that needs the segment
	// meets again and returns.
	_ = s.prepareLocked()
}
