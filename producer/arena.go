package producer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/slskafka/slskafka/internal/record"
)

// Records are encoded into chunks, one after the other, rather than into a
// buffer each. A producer holds tens of thousands of records while franz-go
// lingers and waits for acknowledgements; buffers taken from a pool are
// scattered over megabytes, so every encode wrote into cold cache lines.
// Records written one after the other into a chunk are prefetched, and
// there is no pool to visit. This took BenchmarkThroughput from about 1350
// to about 850 ns per record.
//
// A chunk is reused only once every record in it is finished: franz-go
// copies a record's value into its request when it writes it, and reads it
// no more once the record's promise has run (v1.22: values are read only
// while the record sits in its batch, and finishing a batch takes the
// records out before promising them). Reuse saves zeroing fresh memory
// (64 KiB per chunk, about 40 ns per record) and the garbage collector's
// work. TestChunkReuseKeepsRecordsIntact checks every byte delivered.
// Because one slow record keeps its whole chunk in use (a stalled shard
// holds every Nth record of every chunk), the buffer budget
// (MaxBufferedBytes) is charged a whole chunk when the chunk is opened and
// refunded when its last record is finished: the budget bounds the memory
// buffered records hold, whatever their pattern.
const (
	maxChunk = 64 << 10
	// Below this chunk size (MaxBufferedBytes under 64 KiB) every record
	// gets its own array and its own reservation instead, as does a record
	// over half a chunk.
	minChunk = 4 << 10
)

// chunk counts the unfinished records in one chunk. refs is the number of
// records finished, negated, until the arena retires the chunk and adds
// the number it placed: it reaches zero exactly once, when both the chunk
// is retired and its last record finished.
type chunk struct {
	refs atomic.Int64
	buf  []byte // the chunk's memory: len 0, cap the chunk size
}

// arena is where records are being encoded: the free tail of the current
// chunk. Callers hold mu while they encode; a producer has up to one arena
// per P so that concurrent callers rarely wait for each other.
type arena struct {
	mu   sync.Mutex
	free []byte // the unused tail of cur; len 0
	cur  *chunk
	n    int64 // records placed in cur
	_    [64]byte
}

// chunks is a producer's set of arenas and its chunk size.
type chunks struct {
	arenas  []arena
	free    sync.Pool // *chunk whose records are all finished
	size    int       // 0: no chunks, every record has its own array
	minFree int       // a chunk with less room than this is retired
}

func newChunks(maxBuffered int) chunks {
	size := min(maxChunk, maxBuffered/16)
	if size < minChunk {
		return chunks{}
	}
	// The chunks being filled stay charged; at most a quarter of the
	// buffer goes to them, however many CPUs there are.
	n := max(1, min(runtime.GOMAXPROCS(0), maxBuffered/(4*size)))
	return chunks{arenas: make([]arena, n), size: size, minFree: size / 32}
}

// lock returns an arena, locked: the first free one, or else a random one
// to wait for.
func (c *chunks) lock() *arena {
	for i := range c.arenas {
		if c.arenas[i].mu.TryLock() {
			return &c.arenas[i]
		}
	}
	a := &c.arenas[rand.IntN(len(c.arenas))]
	a.mu.Lock()
	return a
}

// encoded is where an accepted record's bytes live, for the refund.
type encoded struct {
	value []byte
	chunk *chunk // nil: value has its own array, reserved as len(value)
}

// encode encodes r into an arena and reserves buffer space for it: a new
// chunk when the arena's is full, or the record's own array when it does
// not fit into a chunk. It returns the record's bytes, or the error that
// refused it.
func (p *Producer) encode(ctx context.Context, ls *logstoreState, r Record) (encoded, error) {
	c := &p.chunks
	if c.size == 0 {
		return p.encodeOwn(ctx, ls, record.AppendObject(make([]byte, 0, 512), p.static, r.Fields))
	}
	a := c.lock()
	if cap(a.free) < c.minFree {
		if err := p.openChunk(ctx, ls, a, c.minFree); err != nil {
			a.mu.Unlock()
			return encoded{}, err
		}
	}
	v := record.AppendObject(a.free, p.static, r.Fields)
	if cap(v) != cap(a.free) && len(v) <= c.size/2 && len(v) <= p.cfg.MaxRecordBytes {
		// It outgrew the chunk's tail but fits a chunk: start a new one
		// rather than give every such record its own array while this
		// chunk stays open.
		if err := p.openChunk(ctx, ls, a, len(v)); err != nil {
			a.mu.Unlock()
			return encoded{}, err
		}
		v = append(a.free, v...) // openChunk left room for it
	}
	if cap(v) == cap(a.free) && len(v) <= p.cfg.MaxRecordBytes { // in place
		a.free = v[len(v):]
		a.n++
		ck := a.cur
		a.mu.Unlock()
		return encoded{value: v[:len(v):len(v)], chunk: ck}, nil
	}
	a.mu.Unlock() // what was written to the chunk's tail is not kept
	return p.encodeOwn(ctx, ls, v)
}

// encodeOwn reserves space for a record with an array of its own: one
// larger than half a chunk, or any record when there are no chunks.
func (p *Producer) encodeOwn(ctx context.Context, ls *logstoreState, v []byte) (encoded, error) {
	if len(v) > p.cfg.MaxRecordBytes { // refused
		ls.tooLarge.Add(1)
		return encoded{}, &Error{Kind: ErrRecordTooLarge, Project: p.cfg.Project, Logstore: ls.name,
			Err: fmt.Errorf("encoded record is %d bytes, limit is %d", len(v), p.cfg.MaxRecordBytes)}
	}
	if cap(v)-len(v) > len(v)/8 {
		v = bytes.Clone(v) // charge about what it holds, not the slack append left
	}
	n := int64(len(v))
	if !p.buf.TryAcquire(n) {
		// The chunks being filled stay charged until they are retired;
		// a record up to MaxRecordBytes may need their share.
		p.retireAll()
		if err := p.reserve(ctx, ls, n); err != nil {
			return encoded{}, err
		}
	}
	return encoded{value: v}, nil
}

// openChunk gives a a new chunk once the buffer has room for it, unless
// another caller gave it one with at least need bytes free meanwhile. It
// retires the full chunk first, so that its reservation comes back as soon
// as its records finish, and waits for room without holding a.
func (p *Producer) openChunk(ctx context.Context, ls *logstoreState, a *arena, need int) error {
	size := int64(p.chunks.size)
	p.retire(a)
	if !p.buf.TryAcquire(size) {
		a.mu.Unlock()
		err := p.waitForSpace(ctx, ls, size)
		a.mu.Lock()
		if err != nil {
			return err
		}
		if cap(a.free) >= need { // another caller opened one
			p.buf.Release(size)
			return nil
		}
		p.retire(a) // another caller's, already too full
	}
	a.cur, _ = p.chunks.free.Get().(*chunk)
	if a.cur == nil {
		a.cur = &chunk{buf: make([]byte, 0, size)}
	}
	a.free = a.cur.buf
	return nil
}

// retire closes a's chunk to new records; its reservation is refunded when
// its last record is finished.
func (p *Producer) retire(a *arena) {
	if a.cur != nil && a.cur.refs.Add(a.n) == 0 {
		p.recycle(a.cur)
	}
	a.cur, a.free, a.n = nil, nil, 0
}

// retireAll retires every arena's chunk.
func (p *Producer) retireAll() {
	for i := range p.chunks.arenas {
		a := &p.chunks.arenas[i]
		a.mu.Lock()
		p.retire(a)
		a.mu.Unlock()
	}
}

// finish refunds the reservation of a record whose promise ran: its
// chunk's, or its value's own array's.
func (p *Producer) finish(ck *chunk, value []byte) {
	if ck == nil {
		p.buf.Release(int64(len(value)))
	} else if ck.refs.Add(-1) == 0 {
		p.recycle(ck)
	}
}

// recycle refunds a chunk whose records are all finished and keeps it for
// reuse.
func (p *Producer) recycle(ck *chunk) {
	p.buf.Release(int64(p.chunks.size))
	p.chunks.free.Put(ck)
}

// reserve takes n bytes of buffer space, applying the buffer-full policy.
func (p *Producer) reserve(ctx context.Context, ls *logstoreState, n int64) error {
	if p.buf.TryAcquire(n) {
		return nil
	}
	return p.waitForSpace(ctx, ls, n)
}
