package spool

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBytes = 1 << 30
	DefaultSync     = time.Second
	// DefaultSegmentBytes is the segment size when MaxBytes allows 16 of
	// them; less MaxBytes gets smaller segments, down to 1 MiB. Larger
	// segment files cost the kernel less per byte written (the page cache
	// uses larger folios): 64 MiB took 0.34 ms of CPU per MiB to create,
	// fill and delete, 8 MiB 1.0 ms, 1 MiB 1.5 ms (Linux 6.18, ext4).
	DefaultSegmentBytes = 64 << 20
)

const (
	minSegment = 64 << 10
	maxSegment = 1 << 30 // offsets are 32 bits in an ID
)

// Options configures a Spool. The zero value of each field is its default.
type Options struct {
	// Dir is the spool's directory, created with mode 0700 if missing. An
	// existing directory must not be accessible to other users (group or
	// other permission bits), since the spool holds log content.
	Dir string
	// MaxBytes bounds the disk the segment files take, counted as whole
	// segments since each is preallocated. Default DefaultMaxBytes (1 GiB);
	// at least twice SegmentBytes.
	MaxBytes int64
	// SegmentBytes is the size of one segment file: the unit in which disk
	// is allocated and reclaimed. Default: a sixteenth of MaxBytes or of
	// what the disk has free when Open runs (with the spool's segments
	// already there), whichever is less, between 1 MiB and
	// DefaultSegmentBytes (64 MiB); on a disk with less than 4 MiB free, a
	// quarter of that, at least 64 KiB. The largest record is a segment
	// less 88 bytes.
	SegmentBytes int64
	// Sync is how often what was appended and acknowledged is written to
	// disk (msync), with the directory when segment files were created
	// (deletions are synced at once). Records are in the page cache, which
	// survives the process dying, as soon as Append returns; Sync bounds
	// what a power loss or kernel crash can take. Default DefaultSync
	// (1 s); negative: never, the kernel writes dirty pages back on its
	// own schedule (vm.dirty_expire_centisecs, 30 s by default).
	Sync time.Duration
	// Logger receives the spool's warnings (damaged data found when
	// opening, failed syncs, a full disk) and the line saying that disk
	// space is back. Default slog.Default().
	Logger *slog.Logger

	// durable is the sync step; nil is the real one (msync, fsync). Tests
	// set it to simulate a power loss.
	durable syncStep
}

var errNoDir = errors.New("spool: Options.Dir is empty: name a directory for the spool")

// normalize fills in the defaults; budget is what the disk can give the
// spool (-1: unknown).
func (o Options) normalize(budget int64) (Options, error) {
	if o.Dir == "" {
		return o, errNoDir
	}
	if o.MaxBytes < 0 || o.SegmentBytes < 0 {
		return o, errors.New("spool: MaxBytes and SegmentBytes must not be negative")
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = segmentSize(o.MaxBytes, budget)
	}
	o.SegmentBytes = (o.SegmentBytes + pageSize - 1) &^ (pageSize - 1)
	if o.SegmentBytes < minSegment || o.SegmentBytes > maxSegment {
		return o, fmt.Errorf("spool: SegmentBytes %d is outside [%d, %d]", o.SegmentBytes, minSegment, maxSegment)
	}
	if o.MaxBytes < 2*o.SegmentBytes {
		return o, fmt.Errorf("spool: MaxBytes %d must be at least twice SegmentBytes (%d): one segment is appended to while the next is prepared", o.MaxBytes, o.SegmentBytes)
	}
	if o.Sync == 0 {
		o.Sync = DefaultSync
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.durable == nil {
		o.durable = diskSync{}
	}
	return o, nil
}
