package spool

import (
	"sync/atomic"
	"unsafe"
)

// The first write to a page of a shared file mapping faults into the
// kernel, which allocates and zeroes the page, may start a journal
// transaction to update the file's modification time, and now and then
// populates a large folio: about 1.5 us per page on average, but
// milliseconds when the journal is committing or a large folio is being
// filled (BenchmarkAppend, TestAppendLatencyUnderSync). An Append must not
// wait for that, so the janitor makes pages writable ahead of the
// appender: when fewer than prefaultLow bytes remain faulted ahead of the
// last record, Append wakes it, and it faults in up to prefaultAhead bytes
// past the last record. The CPU is the same, spent off the caller's
// goroutine; the pages are dirty a little early, which costs nothing
// extra: they are written back with the records that soon fill them.
const (
	prefaultAhead = 4 << 20
	prefaultLow   = 2 << 20
)

// needsPrefault reports whether the appender should wake the janitor.
func (seg *segment) needsPrefault() bool {
	return seg.faulted.Load() < min(seg.end.Load()+prefaultLow, int64(len(seg.data)))
}

// prefault makes the pages from the last prefaulted one up to
// prefaultAhead past the last record writable. The janitor calls it;
// the segment stays mapped meanwhile (only the janitor and Close, after
// the janitor stopped, unmap).
func (seg *segment) prefault() {
	from := seg.faulted.Load()
	to := min(seg.end.Load()+prefaultAhead, int64(len(seg.data)))
	to = (to + pageSize - 1) &^ (pageSize - 1)
	if to <= from {
		return
	}
	err := protect(func() error {
		if populateWritable(seg.data[from:to]) != nil {
			touchPages(seg.data[from:to])
		}
		return nil
	})
	if err == nil {
		seg.faulted.Store(to)
	}
}

// touchPages faults in every page of b for writing without changing a
// byte: an atomic add of zero is a write, and keeps whatever an appender
// writes to the same word at the same time.
func touchPages(b []byte) {
	for off := 0; off < len(b); off += int(pageSize) {
		atomic.AddUint32((*uint32)(unsafe.Pointer(&b[off])), 0)
	}
}
