package spool

import (
	"encoding/binary"
	"hash/crc32"
	"sync/atomic"
	"unsafe"
)

// A segment file is a header followed by records, each aligned to 8 bytes:
//
//	segment header (segHeader bytes):
//	  0  magic    "SLSSPOOL"
//	  8  version  u32 (formatVersion)
//	  12 crc      u32 CRC-32C of bytes 0..12 and 16..32
//	  16 seq      u64 the segment's sequence number, also its file name
//	  24 size     u64 the file size when the segment was created
//	  32 end      u64 offset after the last record, written when sealed; 0 while appended to
//	  40 endCheck u64 ^end, so that a torn or garbled end is ignored
//	  48 count    u64 records appended: the count in the low 32 bits, its
//	              complement in the high 32 (zero: not known)
//	  56 acked    u64 records acknowledged, the same way
//	record header (recHeader bytes), then topic, then value:
//	  0  crc   u32 CRC-32C of bytes 8..size
//	  4  mark  u32 delivery mark, outside the CRC: see markWaiting
//	  8  size  u32 header + topic + value, before padding
//	  12 kind  u16 kindRecord, or kindSkip over a damaged range
//	  14 tlen  u16 topic length
//	  16 time  i64 Unix nanoseconds
//
// Integers are little-endian. Space after the last record is zero (the
// file is preallocated), which is how a reader finds the end of a segment
// that was never sealed.
const (
	segMagic      = "SLSSPOOL"
	formatVersion = 1
	segHeader     = 64
	recHeader     = 24
	align         = 8

	kindRecord = 0x5231 // "1R"
	kindSkip   = 0x5331 // "1S": damaged bytes a reopen skipped; never handed out

	maxTopic = 1<<16 - 1
)

// The mark is the only word of a record written after it is appended: it
// records what became of the record, in the mapped file, without a
// syscall. A crash keeps it like the record itself.
//
// Only the acknowledged state must survive a restart, and it is the one a
// stray bit must not fake: it is the complement of the record's CRC, which
// a garbled word matches with a chance of 2^-32. Any other value means
// "not acknowledged" after a reopen, so damage costs a duplicate, never a
// lost record. The other states only matter within one process:
const (
	// markWaiting: spilled or recovered, for Next to hand out; once
	// Next's cursor passed it, handed out. Next writes nothing, so
	// draining a backlog does not dirty its pages until they are
	// acknowledged.
	markWaiting = 0
	// markHeld: appended by a caller that holds it (Append).
	markHeld = 1
	// markReleased: given back by its holder (Release), for Next to hand
	// out again.
	markReleased = 2
)

func ackMark(crc uint32) uint32 {
	if m := ^crc; m > markReleased {
		return m
	}
	return markReleased + 1
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var le = binary.LittleEndian

// padded is n rounded up to the record alignment.
func padded(n int64) int64 { return (n + align - 1) &^ (align - 1) }

// recordSize is the unpadded size of a record.
func recordSize(topic string, value []byte) int64 {
	return recHeader + int64(len(topic)) + int64(len(value))
}

// putRecord writes a record into b, which is at least its padded size and
// zero, and returns its CRC. The mark is written by the caller.
func putRecord(b []byte, kind uint16, topic string, nanos int64, value []byte) uint32 {
	size := recHeader + len(topic) + len(value)
	le.PutUint32(b[8:], uint32(size))
	le.PutUint16(b[12:], kind)
	le.PutUint16(b[14:], uint16(len(topic)))
	le.PutUint64(b[16:], uint64(nanos))
	copy(b[recHeader:], topic)
	copy(b[recHeader+len(topic):], value)
	crc := crcOf(b[8:size])
	le.PutUint32(b[0:], crc)
	return crc
}

func crcOf(b []byte) uint32 { return crc32.Update(0, castagnoli, b) }

// parseRecord reports the size of the whole record at off, not past limit,
// or false if there is none: zeros, a torn write, garbage.
func parseRecord(data []byte, off, limit int64) (size int64, kind uint16, ok bool) {
	if off < 0 || off+recHeader > limit {
		return 0, 0, false
	}
	h := data[off : off+recHeader]
	kind = le.Uint16(h[12:])
	if kind != kindRecord && kind != kindSkip {
		return 0, 0, false
	}
	size = int64(le.Uint32(h[8:]))
	if size < recHeader || size > limit-off || (kind == kindRecord && recHeader+int64(le.Uint16(h[14:])) > size) {
		return 0, 0, false
	}
	if crcOf(data[off+8:off+size]) != le.Uint32(h[0:]) {
		return 0, 0, false
	}
	return size, kind, true
}

// putSegHeader writes a fresh segment header.
func putSegHeader(b []byte, seq uint64, size int64) {
	copy(b, segMagic)
	le.PutUint32(b[8:], formatVersion)
	le.PutUint64(b[16:], seq)
	le.PutUint64(b[24:], uint64(size))
	le.PutUint32(b[12:], segHeaderCRC(b))
	le.PutUint64(b[countOff:], packCount(0))
	le.PutUint64(b[ackedOff:], packCount(0))
}

func segHeaderCRC(b []byte) uint32 {
	return crc32.Update(crcOf(b[0:12]), castagnoli, b[16:32])
}

// segHeaderOK reports whether b holds a valid header of segment seq.
func segHeaderOK(b []byte, seq uint64) bool {
	return len(b) >= segHeader && string(b[:8]) == segMagic &&
		le.Uint32(b[8:]) == formatVersion && le.Uint32(b[12:]) == segHeaderCRC(b) &&
		le.Uint64(b[16:]) == seq
}

// The counts at 48 and 56 are what Open needs to tell how many records
// not acknowledged were lost to damage, which the damaged bytes cannot
// say: count less acked is the records not acknowledged, whole or not. The
// appender stores count after each record, under appender.mu; Ack adds to
// acked. Each is one 64-bit word, changed atomically, so that a crash
// leaves it whole; the complement half tells a garbled one. They are
// outside the header CRC, as the end is.
const (
	countOff = 48
	ackedOff = 56
)

func packCount(n uint32) uint64 { return uint64(n) | uint64(^n)<<32 }

func unpackCount(w uint64) (uint32, bool) { return uint32(w), uint32(w>>32) == ^uint32(w) }

// countAt returns the word at off (countOff or ackedOff) of a mapped
// segment, which is page-aligned.
func countAt(data []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&data[off])) }

// addAcked counts one more acknowledged record in a segment's header.
func addAcked(data []byte) {
	p := countAt(data, ackedOff)
	for {
		w := atomic.LoadUint64(p)
		n, _ := unpackCount(w)
		if atomic.CompareAndSwapUint64(p, w, packCount(n+1)) {
			return
		}
	}
}

// putSealedEnd records where a sealed segment's records end.
func putSealedEnd(b []byte, end int64) {
	le.PutUint64(b[32:], uint64(end))
	le.PutUint64(b[40:], ^uint64(end))
}

// sealedEnd returns the end recorded by putSealedEnd, or 0 if there is
// none or it is damaged.
func sealedEnd(b []byte) int64 {
	end := le.Uint64(b[32:])
	if end == 0 || le.Uint64(b[40:]) != ^end || end > uint64(len(b)) || end < segHeader || end%align != 0 {
		return 0
	}
	return int64(end)
}
