package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// segment is one mapped file of records.
type segment struct {
	seq  uint64
	path string
	f    *os.File
	data []byte // the mapping, len = file size

	// w is where the next record goes and count the records appended;
	// the appender owns both (appender.mu).
	w, count int64
	// end is the offset after the last whole record: what Next and the
	// background sync may read up to.
	end atomic.Int64
	// refs is the number of records acknowledged, negated, until the
	// segment is sealed and the appender adds the number it appended: it
	// reaches zero exactly once, when the segment is sealed and every
	// record in it acknowledged. (The same scheme as the producer's
	// chunks.)
	refs   atomic.Int64
	sealed atomic.Bool
	// acked is set by Ack and cleared by the sync that writes its mark:
	// marks land anywhere in the segment, behind what was synced.
	acked atomic.Bool
	// faulted is the offset up to which the janitor made the pages
	// writable ahead of the appender (see prefault.go).
	faulted atomic.Int64

	// syncMu is held by the background sync while it writes the segment
	// to disk, and by reclaim to unmap it (gone). synced is the offset up
	// to which it was written; final is set once the sealed segment's
	// records are synced (acknowledgements after that are synced still).
	syncMu sync.Mutex
	gone   bool
	// retired: out of the table, about to be unmapped; written under
	// table.gate held for writing, read under it held for reading.
	retired bool
	synced  int64
	final   bool
}

const segSuffix = ".seg"

func segName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, segSuffix) }

// parseSegName returns the sequence number of a segment file name.
func parseSegName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(hex, 16, 64)
	return seq, err == nil && seq > 0 && seq <= maxSeq
}

// allocate is preallocate; tests replace it to simulate a full disk.
var allocate = preallocate

// maxSeq keeps sequence numbers within the 32 bits an ID has for them.
const maxSeq = 1<<32 - 1

// createSegment creates, preallocates and maps segment seq. It is written
// under a temporary name and renamed, so a segment file always has a
// whole header.
func createSegment(dir string, seq uint64, size int64) (seg *segment, err error) {
	final := filepath.Join(dir, segName(seq))
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: create segment: %w", err)
	}
	var data []byte
	defer func() {
		if err != nil {
			if data != nil {
				unmap(data)
			}
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := allocate(f, size); err != nil {
		return nil, fmt.Errorf("spool: allocate segment %s: %w", tmp, err)
	}
	if data, err = mapFile(f, size); err != nil {
		return nil, err
	}
	putSegHeader(data, seq, size)
	// Neither the header nor the directory entry is synced here: the
	// background sync does both with the records (see syncAll), so that
	// creating a segment, which an Append may have to wait for, does not
	// wait for the disk.
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("spool: create segment: %w", err)
	}
	seg = &segment{seq: seq, path: final, f: f, data: data, w: segHeader}
	seg.end.Store(segHeader)
	return seg, nil
}

// openSegment maps an existing segment file.
func openSegment(path string, seq uint64) (*segment, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("spool: open segment: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: open segment: %w", err)
	}
	if fi.Size() < segHeader || fi.Size() > maxSegment {
		f.Close()
		return nil, errBadSize
	}
	data, err := mapFile(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	return &segment{seq: seq, path: path, f: f, data: data}, nil
}

var errBadSize = errors.New("spool: segment file has an impossible size")

// release unmaps and closes the segment, and deletes its file if remove.
func (seg *segment) release(remove bool) error {
	var errs []error
	if remove {
		errs = append(errs, os.Remove(seg.path))
	}
	errs = append(errs, unmap(seg.data), seg.f.Close())
	seg.data = nil
	return errors.Join(errs...)
}

// seal closes the segment to appends: it records where its records end,
// then counts them into refs. It reports whether every record is already
// acknowledged. The appender calls it, under appender.mu.
func (seg *segment) seal() (reclaimable bool) {
	// The header is in the mapping, where a disk error (or a file cut
	// short by someone else) faults; Open finds the end from the records
	// when it is missing, and the seal below holds either way.
	protect(func() error { //nolint:errcheck // see above
		putSealedEnd(seg.data, seg.w)
		return nil
	})
	seg.refs.Add(seg.count)
	seg.sealed.Store(true)
	return seg.refs.Load() == 0
}

// reclaimable reports whether the segment is sealed and every record in it
// acknowledged.
func (seg *segment) reclaimable() bool { return seg.sealed.Load() && seg.refs.Load() == 0 }
