package spool

import "errors"

// Errors callers branch on; the errors returned wrap them with details.
var (
	// ErrFull: the segments reach Options.MaxBytes and hold records not
	// yet acknowledged. Space returns a channel that is closed when one is
	// reclaimed.
	ErrFull = errors.New("spool: full")
	// ErrNoSpace: the disk has no room for another segment, or creating
	// one failed; Degraded reports it. Nothing is waited for: the spool
	// takes records again once a segment can be created (see space.go).
	ErrNoSpace = errors.New("spool: no room on disk")
	// ErrLocked: another Spool, in this process or another, has the
	// directory open.
	ErrLocked = errors.New("spool: directory in use")
	// ErrClosed: the Spool was closed.
	ErrClosed = errors.New("spool: closed")
	// ErrTooLarge: the record does not fit in a segment.
	ErrTooLarge = errors.New("spool: record too large")
	// ErrUnknownID: Ack or Release got an ID that names no record in the
	// spool, or one already acknowledged.
	ErrUnknownID = errors.New("spool: unknown record")
	// ErrIO: reading or writing a mapped segment faulted (an I/O error on
	// the disk, or the file was truncated by someone else).
	ErrIO = errors.New("spool: I/O error in a mapped segment")
	// ErrUnsupported: the spool needs mmap and flock (Unix).
	ErrUnsupported = errors.New("spool: not supported on this platform")
)
