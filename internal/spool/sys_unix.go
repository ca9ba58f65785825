//go:build unix

package spool

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// supported: the spool runs here.
const supported = true

var pageSize = int64(os.Getpagesize())

func mapFile(f *os.File, size int64) ([]byte, error) {
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("spool: map %s: %w", f.Name(), err)
	}
	return b, nil
}

func unmap(b []byte) error { return unix.Munmap(b) }

// msyncRange writes b[from:to] of a mapping to disk.
func msyncRange(b []byte, from, to int64) error {
	from &^= pageSize - 1 // msync wants a page-aligned start
	if from >= to {
		return nil
	}
	return unix.Msync(b[from:to], unix.MS_SYNC)
}

// lockDir takes an exclusive flock on f. The kernel releases it when the
// file is closed, which includes the process dying however it dies.
func lockDir(f *os.File) (held bool, err error) {
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// preallocate gives f size bytes of disk now, so that a full disk shows
// as an error here rather than as SIGBUS when a mapped page is first
// written.
func preallocate(f *os.File, size int64) error {
	err := fallocate(f, size)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// No fallocate on this file system: write the zeros.
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
	}
	return nil
}

// ownedByMe reports whether this process's user owns the file.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// statFree returns the bytes an unprivileged user may still allocate on
// the file system of dir, or -1.
func statFree(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize) //nolint:unconvert // the field types differ between platforms
}
