package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

func fallocate(f *os.File, size int64) error {
	return unix.Fallocate(int(f.Fd()), 0, 0, size)
}

// populateWritable faults in b's pages for writing in one call (Linux
// 5.14 and later).
func populateWritable(b []byte) error { return unix.Madvise(b, unix.MADV_POPULATE_WRITE) }
