// Package spool is the producer's disk spool: an on-disk queue of encoded
// log records that outlives the process (SIGKILL, a crash, an OOM kill)
// and holds records beyond the memory buffer while SLS is unreachable.
//
//	s, err := spool.Open(spool.Options{Dir: dir}) // ErrLocked if another producer has dir
//	id, err := s.Append(rec)                      // before Log returns; ErrFull at MaxBytes, ErrNoSpace on a full disk
//	err = s.Ack(id)                               // once SLS acknowledged it, in any order
//	err = s.Spill(rec)                            // a record that does not fit in memory
//	e, ok, err := s.Next(buf)                     // the oldest spilled or recovered record
//	err = s.Close()                               // what is not acknowledged stays for the next Open
//
// # What it promises
//
// Delivery is at least once: a record comes back from Next after the next
// Open until it is acknowledged, so one SLS stored but whose Ack had not
// run is sent again. What can take a record that Append or Spill returned
// for, and what is said when it does:
//
//   - The process dying, however it dies: nothing. The record is in the
//     page cache when Append returns, and the kernel writes it back. So
//     are acknowledgements, which are written into the file: a restart
//     sends again only what was in flight.
//   - A power loss or a kernel crash: at most what changed in the last
//     Options.Sync (1 s by default): records appended, acknowledgements
//     and segment deletions since the last sync may be lost, so records
//     acknowledged in it may be sent again. What was synced survives. A
//     record the power loss tore is cut, with one warning; those the
//     segment's header counted are counted in Stats.Lost. With Sync
//     negative, the kernel's writeback decides, and there is no bound.
//   - Damage (a garbled or lost page, a file cut short): every record has
//     a CRC-32C; Open cuts damage after the last whole record, skips
//     damage with whole records after it and keeps those, and renames a
//     segment it cannot read to <name>.unreadable. One warning says what
//     each file lost; Stats.Damaged counts the bytes and Stats.Lost the
//     records not acknowledged that the damage took, from the counts in
//     each segment's header (an estimate, said to be one, when those are
//     unreadable): Recovered + Lost is what the last Spool left. Damage is
//     repaired in place, so the next Open does not count it again. A
//     stray bit never makes a record look acknowledged (format.go). See
//     recover.go.
//   - A full disk: nothing already spooled. No call waits for the disk: an
//     Append or Spill that needs a segment the disk cannot hold fails at
//     once with ErrNoSpace, and so does every later one without touching
//     the disk, until a segment fits again (Stats.Degraded, one warning
//     per episode, one line when it ends; Stats.Degradations counts
//     them). The caller keeps such records in memory. See space.go.
//   - MaxBytes: disk use never exceeds it, counted in whole segments;
//     Append fails with ErrFull when it is reached, and Space says when a
//     segment was reclaimed. A segment is deleted once all its records are
//     acknowledged, in whatever order.
//
// One Spool per directory, enforced with flock, which the kernel releases
// when the process dies. Files are 0600 in a 0700 directory.
//
// # How
//
// Records go into segment files (64 MiB by default) that are preallocated
// and memory-mapped: Append takes a mutex, copies the record and its
// CRC-32C into the mapping and returns, without a syscall. The format is in
// format.go. A Spool is parts that each own their state and lock:
//
//   - appender (append.go, space.go): the segment appended to, the
//     prepared next one, segment numbers, the disk budget, the full-disk
//     state.
//   - table (table.go, ack.go): the mapped segments by number, the
//     acknowledgements written into them, and their reclaim: deleting
//     the segments whose records are all acknowledged.
//   - reader (reader.go): what Next hands out, oldest first, and what
//     Release gave back.
//   - syncer (durable.go): what reaches the disk, through a sync step
//     that tests replace to simulate a power loss (power_test.go).
//   - background (background.go): the janitor, which prepares the next
//     segment, faults its pages in ahead of the appender (prefault.go) and
//     runs the reclaim; the syncer's goroutine, every Options.Sync.
//
// Open hands what recovery found (recover.go) to the parts. Why the spool
// is not a library (tidwall/wal, bbolt), with the measurements, is in
// bench/spool/README.md.
package spool
