package spool

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// checkDir creates dir (0700) or checks that it is private.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("spool: create directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("spool: %s is not a directory", dir)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	// A directory made for the spool with the usual mode (0755) is
	// tightened; one that holds anything else, or is someone else's, is
	// not the spool's to change.
	if ownedByMe(fi) && onlySpoolFiles(dir) {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("spool: make directory private: %w", err)
		}
		return nil
	}
	return fmt.Errorf("spool: directory %s has mode %#o, open to other users, and holds other files or belongs to another user: the spool holds log content; use a directory of its own with mode 0700 (chmod 700 %s)", dir, perm, dir)
}

// onlySpoolFiles reports whether dir holds nothing but what a Spool
// writes.
func onlySpoolFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := e.Name()
		name = strings.TrimSuffix(strings.TrimSuffix(name, ".tmp"), ".unreadable")
		if _, ok := parseSegName(name); !ok && name != lockName {
			return false
		}
	}
	return true
}

const lockName = "LOCK"

// lockDirectory takes the directory's lock and writes this process's id
// into the lock file, for the error a second opener gets.
func lockDirectory(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: open lock file: %w", err)
	}
	held, err := lockDir(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: lock %s: %w", path, err)
	}
	if !held {
		owner, _ := os.ReadFile(path)
		f.Close()
		return nil, fmt.Errorf("%w: %s is held by process %s (a spool directory serves one producer at a time: give each its own)",
			ErrLocked, dir, string(bytes.TrimSpace(owner)))
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
