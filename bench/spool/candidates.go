package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tidwall/wal"
	bolt "go.etcd.io/bbolt"

	"github.com/slskafka/slskafka/internal/spool"
)

// store is what the benchmark asks of each candidate: append a record for
// topic "app.json" and get an id, acknowledge ids in any order, reclaim
// what it can, and after a reopen replay what was not acknowledged.
type store interface {
	Append(ts int64, value []byte) (uint64, error)
	Ack(id uint64) error
	Close() error
}

type candidate struct {
	name string
	// open opens a store in dir that syncs to disk every syncEvery
	// (negative: never).
	open func(dir string, syncEvery time.Duration) (store, error)
	// replay reopens dir and calls fn for every record not acknowledged,
	// in order.
	replay func(dir string, fn func(value []byte)) error
	// fill writes bytes of records quickly (batched where the candidate
	// allows), for the replay measurement.
	fill func(dir string, value []byte, bytes int64) error
}

var candidates = []candidate{
	{"mmap", openMmap, replayMmap, fillMmap},
	{"tidwall/wal", openWAL, replayWAL, fillWAL},
	{"bbolt", openBolt, replayBolt, fillBolt},
}

const topic = "app.json"

// segmentBytes is the segment size for the two segmented candidates:
// internal/spool's default.
const segmentBytes = spool.DefaultSegmentBytes

// --- mmap: internal/spool ---------------------------------------------

type mmapStore struct{ s *spool.Spool }

func openMmap(dir string, syncEvery time.Duration) (store, error) {
	s, err := spool.Open(spool.Options{Dir: dir, SegmentBytes: segmentBytes, MaxBytes: 8 << 30, Sync: syncEvery})
	return mmapStore{s}, err
}

func (m mmapStore) Append(ts int64, v []byte) (uint64, error) {
	id, err := m.s.Append(spool.Record{Topic: topic, Time: time.Unix(0, ts), Value: v})
	return uint64(id), err
}
func (m mmapStore) Ack(id uint64) error { return m.s.Ack(spool.ID(id)) }
func (m mmapStore) Close() error        { return m.s.Close() }

func replayMmap(dir string, fn func([]byte)) error {
	s, err := spool.Open(spool.Options{Dir: dir, SegmentBytes: segmentBytes, MaxBytes: 8 << 30})
	if err != nil {
		return err
	}
	defer s.Close()
	var buf []byte
	for {
		e, ok, err := s.Next(buf)
		if err != nil || !ok {
			return err
		}
		fn(e.Value)
		buf = e.Value
	}
}

func fillMmap(dir string, v []byte, bytes int64) error {
	s, err := spool.Open(spool.Options{Dir: dir, SegmentBytes: segmentBytes, MaxBytes: 8 << 30, Sync: -1})
	if err != nil {
		return err
	}
	for n := int64(0); n < bytes; n += int64(len(v)) {
		if err := s.Spill(spool.Record{Topic: topic, Time: time.Now(), Value: v}); err != nil {
			return err
		}
	}
	return s.Close()
}

// --- tidwall/wal -------------------------------------------------------

// walStore keeps the acknowledgements in memory, as tidwall/wal has no
// place for them: the log can only be cut at the front, so it truncates up
// to the oldest unacknowledged record once that moved by a segment's worth
// of records. Records acknowledged behind an older unacknowledged one are
// sent again after a restart.
type walStore struct {
	mu     sync.Mutex
	l      *wal.Log
	next   uint64          // index of the next record
	first  uint64          // oldest record not acknowledged
	cut    uint64          // the log's first index
	acked  map[uint64]bool // acknowledged at or after first
	perCut uint64
	buf    []byte
	stop   func()
}

func walOptions() *wal.Options {
	return &wal.Options{NoSync: true, SegmentSize: segmentBytes, LogFormat: wal.Binary,
		SegmentCacheSize: 2, NoCopy: true, DirPerms: 0o700, FilePerms: 0o600}
}

func openWAL(dir string, syncEvery time.Duration) (store, error) {
	l, err := wal.Open(dir, walOptions())
	if err != nil {
		return nil, err
	}
	last, err := l.LastIndex()
	if err != nil {
		return nil, err
	}
	w := &walStore{l: l, next: last + 1, first: last + 1, cut: 1, acked: map[uint64]bool{}, perCut: segmentBytes / 330}
	w.stop = every(syncEvery, func() {
		w.mu.Lock()
		l.Sync()
		w.mu.Unlock()
	})
	return w, nil
}

func encodeWAL(dst []byte, ts int64, v []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst[:0], uint64(ts))
	dst = append(dst, byte(len(topic)))
	dst = append(dst, topic...)
	return append(dst, v...)
}

func decodeWAL(b []byte) []byte { return b[9+int(b[8]):] }

func (w *walStore) Append(ts int64, v []byte) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = encodeWAL(w.buf, ts, v)
	id := w.next
	if err := w.l.Write(id, w.buf); err != nil {
		return 0, err
	}
	w.next++
	return id, nil
}

func (w *walStore) Ack(id uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acked[id] = true
	for w.acked[w.first] {
		delete(w.acked, w.first)
		w.first++
	}
	if w.first-w.cut >= w.perCut && w.first < w.next {
		if err := w.l.TruncateFront(w.first); err != nil {
			return err
		}
		w.cut = w.first
	}
	return nil
}

func (w *walStore) Close() error { w.stop(); return w.l.Close() }

func replayWAL(dir string, fn func([]byte)) error {
	l, err := wal.Open(dir, walOptions())
	if err != nil {
		return err
	}
	defer l.Close()
	first, _ := l.FirstIndex()
	last, _ := l.LastIndex()
	for i := first; i <= last && i > 0; i++ {
		b, err := l.Read(i)
		if err != nil {
			return err
		}
		fn(decodeWAL(b))
	}
	return nil
}

func fillWAL(dir string, v []byte, bytes int64) error {
	l, err := wal.Open(dir, walOptions())
	if err != nil {
		return err
	}
	var b wal.Batch
	var buf []byte
	i := uint64(1)
	for n := int64(0); n < bytes; {
		b.Clear()
		for range 1000 {
			buf = encodeWAL(buf, time.Now().UnixNano(), v)
			b.Write(i, buf)
			i++
			n += int64(len(v))
		}
		if err := l.WriteBatch(&b); err != nil {
			return err
		}
	}
	return l.Close()
}

// --- bbolt -------------------------------------------------------------

// boltStore writes each record in its own transaction (Append must have
// it on its way to disk before it returns) and deletes acknowledged ones
// in batches of 1024, as a produce response acknowledges many at once.
type boltStore struct {
	db   *bolt.DB
	mu   sync.Mutex
	seq  uint64
	acks []uint64
	stop func()
}

var bucket = []byte("spool")

func boltOptions() *bolt.Options {
	return &bolt.Options{NoSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType, Timeout: time.Second}
}

func openBolt(dir string, syncEvery time.Duration) (store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "spool.db"), 0o600, boltOptions())
	if err != nil {
		return nil, err
	}
	b := &boltStore{db: db}
	err = db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucket)
		if err == nil {
			b.seq = bk.Sequence()
		}
		return err
	})
	b.stop = every(syncEvery, func() { db.Sync() })
	return b, err
}

func key(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func (b *boltStore) Append(ts int64, v []byte) (uint64, error) {
	var id uint64
	buf := encodeWAL(nil, ts, v)
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		var err error
		if id, err = bk.NextSequence(); err != nil {
			return err
		}
		return bk.Put(key(id), buf)
	})
	return id, err
}

func (b *boltStore) Ack(id uint64) error {
	b.mu.Lock()
	b.acks = append(b.acks, id)
	if len(b.acks) < 1024 {
		b.mu.Unlock()
		return nil
	}
	acks := b.acks
	b.acks = nil
	b.mu.Unlock()
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		for _, id := range acks {
			if err := bk.Delete(key(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *boltStore) Close() error { b.stop(); return b.db.Close() }

func replayBolt(dir string, fn func([]byte)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	db, err := bolt.Open(filepath.Join(dir, "spool.db"), 0o600, boltOptions())
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		if bk == nil {
			return errors.New("no bucket")
		}
		return bk.ForEach(func(_, v []byte) error {
			fn(decodeWAL(v))
			return nil
		})
	})
}

func fillBolt(dir string, v []byte, bytes int64) error {
	s, err := openBolt(dir, -1)
	if err != nil {
		return err
	}
	b := s.(*boltStore)
	for n := int64(0); n < bytes; {
		err := b.db.Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bucket)
			for range 10000 {
				id, _ := bk.NextSequence()
				if err := bk.Put(key(id), encodeWAL(nil, time.Now().UnixNano(), v)); err != nil {
					return err
				}
				n += int64(len(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return b.Close()
}

// every runs fn every d on a goroutine until the returned stop is called.
func every(d time.Duration, fn func()) (stop func()) {
	if d <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() { close(done); <-finished }
}
