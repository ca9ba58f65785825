package spool

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
)

// What Open does with damaged data. Every record carries a CRC-32C, so a
// record that a crash tore (the process or the machine died mid-write),
// that a full disk cut short, or that the disk garbled later, is found:
//   - after the last whole record of a segment, damaged bytes are cut;
//   - damage with whole records after it (a page the disk lost in the
//     middle of a segment after a power loss, say) is skipped: Open looks
//     for the next whole record at every 8-byte boundary and keeps every
//     record from there on. The records within the damaged range are lost;
//     a damaged record never hides the good ones behind it;
//   - a segment that cannot be read at all (an I/O error) is renamed to
//     <name>.unreadable and left for an operator.
// One warning, when Open returns, says how many bytes each case took and
// how many records not acknowledged were lost, per file; Stats.Damaged and
// Stats.Lost count them. The records lost come from the segment header's
// counts (format.go), since damaged bytes cannot say how many records they
// held; a segment without readable counts gets an estimate, said to be one. Damaged ranges are overwritten with a skip
// record (and a cut tail is put behind the segment's recorded end), so the
// next Open does not report them again.

// scanResult is what checking one segment found.
type scanResult struct {
	live, liveBytes int64 // records not acknowledged
	end             int64 // after the last whole record
	cut             int64 // damaged bytes after the last whole record
	skipped         int64 // damaged bytes with whole records after them
	ranges          int   // how many such ranges
	keptAfter       int64 // whole records after a damaged range
	header          bool  // the segment header was damaged and rewritten
	// lost is the records not acknowledged that damage took: from the
	// header's counts, or, when they are unreadable (a segment older than
	// them, or garbled), estimated from the damaged bytes (estimated).
	lost      int64
	estimated bool
}

// recovery is what Open found in the directory: the segments with
// records not acknowledged, mapped, in order, and the counts. Open hands
// the segments to the table and the counts to the appender and the
// reader; Stats keeps the rest.
type recovery struct {
	segs           []*segment
	nextSeq        uint64 // after every segment number seen
	disk           int64  // the bytes of segs
	records, bytes int64  // records not acknowledged (Stats.Recovered), and their bytes
	damaged, lost  int64  // Stats.Damaged, Stats.Lost
}

// recoverSegments maps the segments a previous Spool left in dir, in
// order, checks every record, deletes the segments with nothing left to
// deliver, resets the rest to wait for Next, and warns once about damaged
// data. On error, it leaves nothing mapped.
func recoverSegments(dir string, log *slog.Logger) (r recovery, err error) {
	defer func() {
		if err != nil {
			for _, seg := range r.segs {
				seg.release(false)
			}
			r = recovery{}
		}
	}()
	r.nextSeq = 1
	entries, err := os.ReadDir(dir)
	if err != nil {
		return r, fmt.Errorf("spool: read directory: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, segSuffix+".tmp") {
			// A segment being created when the process died: no records.
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return r, fmt.Errorf("spool: %w", err)
			}
			continue
		}
		if seq, ok := parseSegName(name); ok && e.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	var notes []string
	for _, seq := range seqs {
		r.nextSeq = max(r.nextSeq, seq+1)
		path := filepath.Join(dir, segName(seq))
		seg, err := openSegment(path, seq)
		if errors.Is(err, errBadSize) {
			notes = append(notes, fmt.Sprintf("%s has an impossible size (cut shorter than its header?) and was renamed to %s.unreadable; its records, how many is not known, are not delivered", path, path))
			if err := os.Rename(path, path+".unreadable"); err != nil {
				return r, fmt.Errorf("spool: %w", err)
			}
			continue
		}
		if err != nil {
			return r, err
		}
		var res scanResult
		err = protect(func() error {
			res = scanSegment(seg)
			return nil
		})
		if err != nil {
			lost := unreadableLoss(seg)
			seg.release(false)
			r.lost += max(lost, 0)
			what := "its records are not delivered"
			if lost >= 0 {
				what = fmt.Sprintf("its %d records not yet delivered are lost", lost)
			}
			notes = append(notes, fmt.Sprintf("%s could not be read (%v) and was renamed to %s.unreadable; %s", path, err, path, what))
			if err := os.Rename(path, path+".unreadable"); err != nil {
				return r, fmt.Errorf("spool: %w", err)
			}
			continue
		}
		notes = append(notes, res.notes(path)...)
		r.damaged += res.cut + res.skipped
		r.lost += res.lost
		if res.live == 0 {
			if err := seg.release(true); err != nil {
				return r, fmt.Errorf("spool: delete a delivered segment: %w", err)
			}
			continue
		}
		seg.w, seg.count = res.end, res.live
		seg.end.Store(res.end)
		seg.refs.Store(res.live)
		seg.sealed.Store(true)
		r.segs = append(r.segs, seg)
		r.disk += int64(len(seg.data))
		r.records += res.live
		r.bytes += res.liveBytes
	}
	if len(notes) > 0 {
		log.Warn("spool: damaged data found when opening; the records in it are lost, whole records are kept and will be delivered",
			"dir", dir, "lost_records", r.lost, "discarded_bytes", r.damaged, "detail", strings.Join(notes, "; "))
	}
	return r, nil
}

// unreadableLoss returns the records not acknowledged in a segment that
// cannot be read, from its header's counts, or -1 if they are unreadable
// too.
func unreadableLoss(seg *segment) int64 {
	lost := int64(-1)
	protect(func() error { //nolint:errcheck // a fault leaves -1
		count, ok1 := unpackCount(atomic.LoadUint64(countAt(seg.data, countOff)))
		acked, ok2 := unpackCount(atomic.LoadUint64(countAt(seg.data, ackedOff)))
		if ok1 && ok2 && acked <= count {
			lost = int64(count - acked)
		}
		return nil
	})
	return lost
}

func (r scanResult) notes(path string) []string {
	var notes []string
	if r.header {
		notes = append(notes, fmt.Sprintf("%s: rewrote a damaged segment header", path))
	}
	if r.skipped > 0 {
		notes = append(notes, fmt.Sprintf("%s: skipped %d damaged bytes in %d places; the %d whole records after them are kept", path, r.skipped, r.ranges, r.keptAfter))
	}
	if r.cut > 0 {
		notes = append(notes, fmt.Sprintf("%s: cut %d bytes after the last whole record (a write that did not finish: a crash, a power loss or a full disk)", path, r.cut))
	}
	switch {
	case r.lost > 0 && r.estimated:
		notes = append(notes, fmt.Sprintf("%s: about %d records not yet delivered were lost (estimated from the damaged bytes: the segment's record count is unreadable)", path, r.lost))
	case r.lost > 0 && r.cut == 0 && r.skipped == 0:
		notes = append(notes, fmt.Sprintf("%s: %d records not yet delivered are missing: the file is shorter than what was written (truncated?)", path, r.lost))
	case r.lost > 0:
		notes = append(notes, fmt.Sprintf("%s: %d records not yet delivered were lost", path, r.lost))
	}
	return notes
}

// scanSegment checks every record of seg, repairs what is damaged (see
// above) and resets the marks of records not acknowledged to waiting. A
// memory fault (an unreadable page) panics; the caller recovers it.
func scanSegment(seg *segment) scanResult {
	data := seg.data
	var r scanResult
	count, countOK := unpackCount(atomic.LoadUint64(countAt(data, countOff)))
	acked, ackedOK := unpackCount(atomic.LoadUint64(countAt(data, ackedOff)))
	var est int64 // records in damaged ranges, if the counts are unreadable
	if !segHeaderOK(data, seg.seq) {
		r.header = true
		clear(data[:segHeader])
		putSegHeader(data, seg.seq, int64(len(data)))
	}
	limit := sealedEnd(data)
	if limit == 0 {
		limit = int64(len(data))
	}
	off, damaged := int64(segHeader), false
	r.end = off
	for off < limit {
		size, kind, ok := parseRecord(data, off, limit)
		if !ok {
			next := resync(data, off+align, limit)
			if next < 0 {
				end := lastNonZero(data, off, limit)
				r.cut = end - off
				est += startsIn(data, off, end)
				break
			}
			est += startsIn(data, off, next)
			r.skipped += next - off
			r.ranges++
			markSkipped(data, off, next)
			off, damaged = next, true
			continue
		}
		if kind == kindRecord {
			if damaged {
				r.keptAfter++
			}
			h := data[off:]
			if mark := le.Uint32(h[4:]); mark != ackMark(le.Uint32(h)) {
				r.live++
				r.liveBytes += padded(size)
				if mark != markWaiting {
					atomic.StoreUint32(markAt(h), markWaiting)
				}
			}
		}
		off += padded(size)
		r.end = off
	}
	if sealedEnd(data) != r.end {
		putSealedEnd(data, r.end)
	}
	if countOK && ackedOK && acked <= count {
		r.lost = max(0, int64(count)-int64(acked)-r.live)
	} else {
		r.lost, r.estimated = est, est > 0
	}
	// From now on the header counts what is left, so that the next Open
	// does not count the same loss again.
	atomic.StoreUint64(countAt(data, countOff), packCount(uint32(r.live)))
	atomic.StoreUint64(countAt(data, ackedOff), packCount(0))
	return r
}

// startsIn estimates how many records not acknowledged the damaged range
// [from, to) held: the headers that still look like one, chained by their
// sizes, or one if none does (none if the range is empty).
func startsIn(data []byte, from, to int64) int64 {
	var n int64
	for off := from; off+recHeader <= to; {
		h := data[off:]
		if size := int64(le.Uint32(h[8:])); le.Uint16(h[12:]) == kindRecord && size >= recHeader && size <= maxSegment {
			if le.Uint32(h[4:]) != ackMark(le.Uint32(h)) {
				n++
			}
			off += padded(size)
			continue
		}
		off += align
	}
	if n == 0 && to > from {
		n = 1
	}
	return n
}

// resync returns the offset of the next whole record from from on, or -1.
func resync(data []byte, from, limit int64) int64 {
	for off := from; off+recHeader <= limit; off += align {
		if k := le.Uint16(data[off+12:]); k != kindRecord && k != kindSkip {
			continue // cheap test first: most offsets are not a header
		}
		if _, _, ok := parseRecord(data, off, limit); ok {
			return off
		}
	}
	return -1
}

// markSkipped overwrites the damaged range [from, to) with a skip record,
// marked acknowledged, so that later scans and Next pass over it.
func markSkipped(data []byte, from, to int64) {
	b := data[from:to]
	if len(b) < recHeader {
		clear(b) // Next steps over zeros 8 bytes at a time
		return
	}
	le.PutUint32(b[8:], uint32(len(b)))
	le.PutUint16(b[12:], kindSkip)
	le.PutUint16(b[14:], 0)
	le.PutUint64(b[16:], 0)
	crc := crcOf(b[8:])
	le.PutUint32(b[0:], crc)
	le.PutUint32(b[4:], ackMark(crc))
}

// lastNonZero returns the offset after the last non-zero byte in
// [from, to), or from.
func lastNonZero(data []byte, from, to int64) int64 {
	for to > from && data[to-1] == 0 {
		if to-from >= 8 && to%8 == 0 && le.Uint64(data[to-8:]) == 0 {
			to -= 8
			continue
		}
		to--
	}
	return to
}
