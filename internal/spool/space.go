package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// What the spool does when the disk is full. Appends never wait for the
// disk: an Append or Spill that needs a new segment the disk cannot hold
// (too little free space, ENOSPC or EDQUOT while preallocating it, or
// another error creating it) fails at once with ErrNoSpace, and so does
// every later one, without a syscall, until a segment can be created
// again: the spool is degraded (Stats.Degraded). One warning names the
// directory and the free space. The janitor tries again every
// noSpaceRetry, and at once when a segment of the spool's own is
// reclaimed; the first segment it creates ends the episode, with one
// more line saying so. The segment appended to when the disk filled is
// sealed, so that it is deleted as soon as its records are acknowledged:
// the spool's own segments are often what fills the disk.

// noSpaceRetry is how often a degraded spool tries to create a segment.
var noSpaceRetry = time.Second

// freeSpace returns the bytes an unprivileged user may still allocate on
// the file system of dir, or -1 if it cannot tell. Tests replace it.
var freeSpace = statFree

// degradation is the appender's full-disk state: on is read without a
// lock (by appends deciding whether to try the disk, the janitor, Stats);
// err and episodes are under appender.mu.
type degradation struct {
	on       atomic.Bool
	err      error // what appends return meanwhile
	episodes int64
}

// Degraded reports whether the disk could not take a new segment: Append
// and Spill fail with ErrNoSpace until it can.
func (s *Spool) Degraded() bool { return s.app.full.on.Load() }

// degradeLocked enters the degraded state after a segment of size bytes
// could not be created, and warns once per episode. The caller holds mu.
func (a *appender) degradeLocked(err error, size int64) {
	if a.full.on.Load() {
		return // said once per episode
	}
	free := freeSpace(a.opts.Dir)
	a.full.err = fmt.Errorf("%w: %s has %d bytes free, a segment needs %d: %w", ErrNoSpace, a.opts.Dir, free, size, err)
	a.full.on.Store(true)
	a.full.episodes++
	a.wake() // to start retrying
	a.opts.Logger.Warn("spool: no room on disk for another segment; records are not spooled (the producer keeps them in memory) until space returns",
		"dir", a.opts.Dir, "free_bytes", free, "segment_bytes", size, "max_bytes", a.opts.MaxBytes, "err", err)
}

// recoverLocked ends a degraded episode once a segment was created. The
// caller holds mu.
func (a *appender) recoverLocked() {
	if !a.full.on.Load() {
		return
	}
	a.full.on.Store(false)
	a.full.err = nil
	a.opts.Logger.Info("spool: disk space is back; records are spooled again", "dir", a.opts.Dir, "free_bytes", freeSpace(a.opts.Dir))
}

// checkFree fails without touching the disk when the file system has
// fewer than size bytes free: preallocating would fail too, after
// creating a file.
func checkFree(dir string, size int64) error {
	if free := freeSpace(dir); free >= 0 && free < size {
		return fmt.Errorf("%d bytes free: %w", free, syscall.ENOSPC)
	}
	return nil
}

// diskBudget is what the spool in dir can hope to take on its disk: the
// free space plus its segment files already there; -1 if unknown.
func diskBudget(dir string) int64 {
	free := freeSpace(dir)
	if free < 0 {
		return -1
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return free
	}
	for _, e := range entries {
		if _, ok := parseSegName(e.Name()); !ok {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			free += fi.Size()
		}
	}
	return free
}

// segmentSize is the default segment size for a spool of maxBytes on a
// disk that can give it budget bytes (-1: unknown): a sixteenth of what
// it may use, between 1 MiB and DefaultSegmentBytes, and at most a
// quarter of it when that is less than 4 MiB, so that a small disk holds
// a few segments rather than failing to hold one.
func segmentSize(maxBytes, budget int64) int64 {
	if budget >= 0 {
		maxBytes = min(maxBytes, budget)
	}
	size := min(DefaultSegmentBytes, max(1<<20, maxBytes/16))
	if 4*size > maxBytes {
		size = max(minSegment, maxBytes/4)
	}
	return size
}
