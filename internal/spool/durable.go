package spool

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
)

// syncer owns what reaches the disk: the sync step, whether the
// directory changed since it was last synced, and the failures. What it
// synced of each segment is the segment's (syncMu, synced, final,
// acked). The syncer goroutine (background.go) calls tick every
// Options.Sync; the janitor calls dirNow after deleting segments; Close
// calls all.
type syncer struct {
	step    syncStep
	dir     string
	log     *slog.Logger
	enabled bool        // Options.Sync > 0; otherwise nothing is synced
	dirty   atomic.Bool // a segment file was created or deleted since the directory was last synced
	errs    atomic.Int64
}

func (y *syncer) init(opts Options) {
	y.step, y.dir, y.log, y.enabled = opts.durable, opts.Dir, opts.Logger, opts.Sync > 0
}

// on reports whether the spool syncs at all.
func (y *syncer) on() bool { return y.enabled }

// tick is the periodic sync: all, warning at the first failure.
func (y *syncer) tick(segs []*segment) {
	if err := y.all(segs); err != nil && y.errs.Add(1) == 1 {
		y.log.Warn("spool: cannot write records to disk; they are in the page cache and survive the process, not a power loss", "err", err)
	}
}

// all writes to disk the directory if segment files were created or
// deleted, the part of each segment appended since its last sync, all of
// a segment once after it is sealed (its header changed), and all of one
// whose records were acknowledged since its last sync.
func (y *syncer) all(segs []*segment) error {
	var errs []error
	if y.dirty.Swap(false) {
		if err := y.step.syncDir(y.dir); err != nil {
			y.dirty.Store(true)
			errs = append(errs, err)
		}
	}
	for _, seg := range segs {
		if err := seg.sync(y.step); err != nil {
			errs = append(errs, fmt.Errorf("spool: sync %s: %w", seg.path, err))
		}
	}
	return errors.Join(errs...)
}

// dirNow syncs the directory; if that fails, the next tick tries again.
func (y *syncer) dirNow() {
	if err := y.step.syncDir(y.dir); err != nil {
		y.dirty.Store(true)
		if y.errs.Add(1) == 1 {
			y.log.Warn("spool: cannot write the spool directory to disk; after a power loss, delivered records may be sent again", "err", err)
		}
	}
}

// syncStep is how the spool makes what it wrote durable: the pages of a
// mapped segment, and the directory's entries. It is the one place a
// power loss is decided, so a test swaps it for one that keeps what was
// synced and nothing else (power_test.go), and reopens from that.
type syncStep interface {
	// syncRange writes data[from:to], part of the mapping of the segment
	// file at path, to disk.
	syncRange(path string, data []byte, from, to int64) error
	// syncDir writes dir's entries to disk: the segment files created,
	// renamed and deleted since the last call.
	syncDir(dir string) error
}

// diskSync is the real sync step: msync and fsync.
type diskSync struct{}

func (diskSync) syncRange(_ string, data []byte, from, to int64) error {
	return msyncRange(data, from, to)
}

func (diskSync) syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: sync directory: %w", err)
	}
	return nil
}

// sync writes what changed in seg since its last sync (see syncer.all).
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
