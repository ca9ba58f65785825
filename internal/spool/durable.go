package spool

import (
	"fmt"
	"os"
)

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
