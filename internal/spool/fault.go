package spool

import (
	"fmt"
	"os"
	"runtime/debug"
)

// A segment is memory-mapped, so an I/O error while the kernel reads or
// writes one of its pages (a failing disk, or a file truncated by another
// program) arrives as SIGBUS, not as an error from a syscall. Without
// help the Go runtime crashes the process on it. Code that touches a
// mapping runs with debug.SetPanicOnFault(true) and recovers the fault
// with faultError: the caller gets ErrIO instead of a crash. The cost is
// a few nanoseconds per call, measured in BenchmarkAppend.

// faultError turns a recovered memory fault into ErrIO; any other panic
// is not the spool's to handle and continues.
func faultError(r any) error {
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		return fmt.Errorf("%w: memory fault at %#x: check the disk and that nothing else writes to the spool directory", ErrIO, f.Addr())
	}
	panic(r)
}

// protect runs fn, turning a memory fault into ErrIO. The hot paths
// (Append, Ack, Next) inline the same defer instead.
func protect(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	return fn()
}

// InjectDiskFault makes the creation of every segment fail with what
// fault returns (nil: no fault), as a full or failing disk makes it fail,
// for tests of code built on the spool. Call it before a Spool is opened
// and restore after the last one is closed; fault may change its answer
// at any time in between.
func InjectDiskFault(fault func() error) (restore func()) {
	old := allocate
	allocate = func(f *os.File, size int64) error {
		if err := fault(); err != nil {
			return err
		}
		return old(f, size)
	}
	return func() { allocate = old }
}
