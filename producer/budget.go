package producer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sync/semaphore"

	"github.com/slskafka/slskafka/internal/record"
)

// budget owns the memory that accepted records hold until they are
// finished (acknowledged or failed), and bounds it by MaxBufferedBytes.
//
// A record holds two things: its encoded bytes and its pending (the
// kgo.Record franz-go holds plus the producer's bookkeeping). Both are
// carved from blocks rather than allocated one by one: bytes are encoded
// one after another into chunks of up to 64 KiB, pendings are taken from
// slabs. A producer holds tens of thousands of records while franz-go
// lingers and waits for acknowledgements; records written one after the
// other into a chunk are prefetched, where buffers from a pool were
// scattered over megabytes and every encode wrote cold cache lines; and a
// slab makes the pending free of a heap allocation per record.
//
// A block is charged to the semaphore whole when it is opened and refunded
// when it is retired and its last record is finished, then reused. One slow
// record keeps its whole block in use (a stalled shard holds every Nth
// record of every block), so charging blocks, not records, is what makes
// MaxBufferedBytes bound the memory records hold whatever their pattern. A
// slab is charged for the pendings and for what franz-go and the hand-off
// queue hold per record (recordOverhead), so that small records are not
// cheaper than they are.
//
// Reuse is safe because nothing reads a record after its promise: franz-go
// (v1.22) reads a value only while the record sits in its batch, takes
// records out of the batch before promising them and reads nothing after
// the promise (finishRecordPromise); the producer gives franz-go the
// record's deadline context, which is never reused, not the pending.
// TestChunkReuseKeepsRecordsIntact checks every byte delivered. Re-check on
// a franz-go upgrade.
type budget struct {
	sem *semaphore.Weighted
	max int64
	// used is what sem has handed out, for shedding (shed.go): the
	// semaphore does not tell. It changes once per block, not per record.
	used atomic.Int64
	// closing is done when Close starts: it wakes loggers waiting for
	// space, since a closing producer accepts nothing.
	closing context.Context

	arenas    []arena
	chunkSize int   // 0: no blocks, every record has its own array and pending
	minFree   int   // a chunk with less room than this is retired
	slabLen   int   // pendings per slab
	slabBytes int64 // what a slab is charged
	chunks    sync.Pool
	slabs     sync.Pool
}

const (
	maxChunk = 64 << 10
	// Below this chunk size (MaxBufferedBytes under 64 KiB) every record
	// gets its own array and pending, charged one by one, as does the
	// array of a record over half a chunk.
	minChunk = 4 << 10
	// franzPerRecord is what franz-go and the hand-off queue hold per
	// record on top of the pending: a 32-byte promisedRec in its batch
	// slice and an 8-byte pointer in the queue, each in a slice grown by
	// doubling, and a share of the batch headers.
	franzPerRecord = 96
	// recordOverhead is what a record costs the budget besides its bytes.
	recordOverhead = int64(unsafe.Sizeof(pending{})) + franzPerRecord
)

// errFull, errBlocked and errWaitClosed are the budget's refusals; the
// producer turns them into ErrBufferFull and ErrClosed for the logstore
// concerned.
var (
	errFull       = errors.New("buffer full")
	errBlocked    = errors.New("no space within MaxBlock")
	errWaitClosed = errors.New("closed while waiting for buffer space")
)

// bound is how long one Log may still wait for space, in memory and on
// disk together: Config.MaxBlock from its first wait on. The zero bound
// waits as long as the context lets it.
type bound struct {
	max      time.Duration
	deadline time.Time // set by the first wait
}

// context returns ctx, ended at the bound's deadline with cause
// errBlocked.
func (w *bound) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if w.max <= 0 {
		return context.WithCancel(ctx)
	}
	if w.deadline.IsZero() {
		w.deadline = time.Now().Add(w.max)
	}
	return context.WithDeadlineCause(ctx, w.deadline, errBlocked)
}

// ended returns why a wait under ctx (the caller's) ended: the caller's
// context, or the bound.
func (w *bound) ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return errBlocked
}

// block counts the unfinished records placed in a chunk or slab. refs is
// the number of records finished, negated, until the arena retires the
// block and adds the number it placed: it reaches zero exactly once, when
// the block is both retired and empty.
type block struct{ refs atomic.Int64 }

// chunk is a block of memory encoded records are placed in, back to back;
// it owns their bytes until every one of them is finished.
type chunk struct {
	block
	buf []byte // the chunk's memory: len 0, cap the chunk size
}

// slab is a block of pendings handed out one by one; it owns them until
// every one is finished, then goes back to the pool.
type slab struct {
	block
	recs []pending
}

// arena is where records are being placed: the free tail of the current
// chunk and the next pending of the current slab. Callers hold mu while they
// encode; a producer has up to one arena per P so that concurrent callers
// rarely wait for each other.
type arena struct {
	mu     sync.Mutex
	free   []byte // the unused tail of chunk; len 0
	chunk  *chunk
	inChk  int64 // records placed in chunk
	slab   *slab
	inSlab int // pendings taken from slab
	_      [64]byte
}

func newBudget(maxBytes int, closing context.Context) *budget {
	b := &budget{sem: semaphore.NewWeighted(int64(maxBytes)), max: int64(maxBytes), closing: closing}
	size := min(maxChunk, maxBytes/16)
	if size < minChunk {
		return b
	}
	b.chunkSize, b.minFree = size, size/32
	b.slabLen = max(16, min(256, size/256))
	b.slabBytes = int64(b.slabLen) * recordOverhead
	// The blocks being filled stay charged; at most a quarter of the
	// buffer goes to them, however many CPUs there are.
	per := int64(size) + b.slabBytes
	n := max(1, min(int64(runtime.GOMAXPROCS(0)), int64(maxBytes)/(4*per)))
	b.arenas = make([]arena, n)
	return b
}

// lock returns an arena, locked: the first free one, or else a random one
// to wait for.
func (b *budget) lock() *arena {
	for i := range b.arenas {
		if b.arenas[i].mu.TryLock() {
			return &b.arenas[i]
		}
	}
	a := &b.arenas[rand.IntN(len(b.arenas))]
	a.mu.Lock()
	return a
}

// claim is a record to place: fields to encode after the static ones (as
// a []Field, or already in JSON as an adapter read them: object), or bytes
// encoded already (raw, from the spool), and what to do when the buffer is
// full: the policy, and how long Block may wait.
type claim struct {
	static    *record.Static
	time      time.Time // for the static's time field (Config.TimeField)
	fields    []Field
	object    *record.Object // the fields, encoded already (objectlog), if not nil
	raw       []byte
	maxRecord int
	policy    FullPolicy
	wait      bound
}

func (c *claim) appendTo(dst []byte) []byte {
	if c.raw != nil {
		return append(dst, c.raw...)
	}
	if c.object != nil {
		return c.object.AppendRecord(dst, c.static, c.time)
	}
	return record.AppendRecord(dst, c.static, c.time, c.fields)
}

// take places a record: it encodes c and returns a zeroed pending whose
// rec.Value holds the bytes, charged to the budget. It refuses a record
// whose encoding is over c.maxRecord with a *tooLargeError, and applies
// c.policy when the buffer is full.
func (b *budget) take(ctx context.Context, c *claim) (*pending, error) {
	maxRecord := c.maxRecord
	if b.chunkSize == 0 {
		return b.own(ctx, c, c.appendTo(make([]byte, 0, 512)))
	}
	a := b.lock()
	defer a.mu.Unlock()
	if cap(a.free) < b.minFree {
		if err := b.openChunk(ctx, c, a, b.minFree); err != nil {
			return nil, err
		}
	}
	v := c.appendTo(a.free)
	if cap(v) != cap(a.free) && len(v) <= b.chunkSize/2 && len(v) <= maxRecord {
		// It outgrew the chunk's tail but fits a chunk: start a new one
		// rather than give every such record its own array while this
		// chunk stays open.
		if err := b.openChunk(ctx, c, a, len(v)); err != nil {
			return nil, err
		}
		v = append(a.free, v...) // openChunk left room for it
	}
	if cap(v) != cap(a.free) || len(v) > maxRecord {
		// Written past the chunk's tail into an array of its own (what
		// went into the tail is not kept): over half a chunk, it gets a
		// pending of its own too. The arena is not needed while it waits.
		a.mu.Unlock()
		defer a.mu.Lock()
		// The blocks being filled stay charged until they are retired;
		// a record up to MaxRecordBytes may need their share.
		return b.own(ctx, c, v, b.retireAll)
	}
	a.free = v[len(v):]
	a.inChk++
	ck := a.chunk
	v = v[:len(v):len(v)]
	if a.slab == nil || a.inSlab == len(a.slab.recs) {
		if err := b.openSlab(ctx, c, a); err != nil {
			b.unplace(ck)
			return nil, err
		}
	}
	pd := &a.slab.recs[a.inSlab] // zero: new, or cleared by recycleSlab
	a.inSlab++
	pd.chunk, pd.slab = ck, a.slab
	pd.rec.Value = v
	return pd, nil
}

// own charges a record with an array and a pending of its own: when there
// are no blocks, or it is over half a chunk. If there is no room, it calls
// each of before and tries again before applying the policy.
func (b *budget) own(ctx context.Context, c *claim, v []byte, before ...func()) (*pending, error) {
	if len(v) > c.maxRecord {
		return nil, &tooLargeError{size: len(v), limit: c.maxRecord}
	}
	if cap(v)-len(v) > len(v)/8 {
		v = bytes.Clone(v) // charge about what it holds, not the slack append left
	}
	n := b.ownCharge(v)
	if !b.tryAcquire(n) {
		for _, f := range before {
			f()
		}
		if err := b.reserve(ctx, c, n); err != nil {
			return nil, err
		}
	}
	pd := &pending{}
	pd.rec.Value = v
	return pd, nil
}

// ownCharge is what a record with an array and pending of its own is
// charged: its bytes and overhead, or the whole buffer if that is more (a
// record of MaxRecordBytes = MaxBufferedBytes still fits, alone).
func (b *budget) ownCharge(v []byte) int64 { return min(int64(len(v))+recordOverhead, b.max) }

// openChunk gives a a new chunk once the buffer has room for it, unless
// another caller gave it one with at least need bytes free meanwhile. It
// retires the full chunk first, so that its reservation comes back as soon
// as its records finish, and waits for room without holding a.
func (b *budget) openChunk(ctx context.Context, c *claim, a *arena, need int) error {
	size := int64(b.chunkSize)
	b.retireChunk(a)
	if !b.tryAcquire(size) {
		a.mu.Unlock()
		err := b.wait(ctx, c, size)
		a.mu.Lock()
		if err != nil {
			return err
		}
		if cap(a.free) >= need { // another caller opened one
			b.release(size)
			return nil
		}
		b.retireChunk(a) // another caller's, already too full
	}
	a.chunk, _ = b.chunks.Get().(*chunk)
	if a.chunk == nil {
		a.chunk = &chunk{buf: make([]byte, 0, size)}
	}
	a.free = a.chunk.buf
	return nil
}

// openSlab gives a a new slab, as openChunk a chunk.
func (b *budget) openSlab(ctx context.Context, c *claim, a *arena) error {
	b.retireSlab(a)
	if !b.tryAcquire(b.slabBytes) {
		a.mu.Unlock()
		err := b.wait(ctx, c, b.slabBytes)
		a.mu.Lock()
		if err != nil {
			return err
		}
		if a.slab != nil && a.inSlab < len(a.slab.recs) { // another caller opened one
			b.release(b.slabBytes)
			return nil
		}
		b.retireSlab(a)
	}
	a.slab, _ = b.slabs.Get().(*slab)
	if a.slab == nil {
		a.slab = &slab{recs: make([]pending, b.slabLen)}
	}
	return nil
}

// retireChunk and retireSlab close a's blocks to new records; their
// reservations are refunded when their last record is finished.
func (b *budget) retireChunk(a *arena) {
	if a.chunk != nil && a.chunk.refs.Add(a.inChk) == 0 {
		b.recycleChunk(a.chunk)
	}
	a.chunk, a.free, a.inChk = nil, nil, 0
}

func (b *budget) retireSlab(a *arena) {
	if a.slab != nil && a.slab.refs.Add(int64(a.inSlab)) == 0 {
		b.recycleSlab(a.slab)
	}
	a.slab, a.inSlab = nil, 0
}

// retireAll retires every arena's blocks.
func (b *budget) retireAll() {
	for i := range b.arenas {
		a := &b.arenas[i]
		a.mu.Lock()
		b.retireChunk(a)
		b.retireSlab(a)
		a.mu.Unlock()
	}
}

// give refunds what a finished record held. pd must not be used after.
func (b *budget) give(pd *pending) {
	pd.givenBack()
	sl := pd.slab
	if sl == nil { // array and pending of its own
		b.release(b.ownCharge(pd.rec.Value))
		return
	}
	b.unplace(pd.chunk)
	if sl.refs.Add(-1) == 0 {
		b.recycleSlab(sl)
	}
}

// giveN refunds what n finished records placed in ck and sl held: give,
// once for n records of the same blocks.
func (b *budget) giveN(ck *chunk, sl *slab, n int64) {
	if ck.refs.Add(-n) == 0 {
		b.recycleChunk(ck)
	}
	if sl.refs.Add(-n) == 0 {
		b.recycleSlab(sl)
	}
}

// unplace refunds a record's share of its chunk.
func (b *budget) unplace(ck *chunk) {
	if ck.refs.Add(-1) == 0 {
		b.recycleChunk(ck)
	}
}

func (b *budget) recycleChunk(ck *chunk) {
	b.release(int64(b.chunkSize))
	b.chunks.Put(ck)
}

// recycleSlab clears the slab's pendings before it goes back to the pool:
// the collector then scans a pooled slab, and a slab being filled past
// its unused part, as nil pointers rather than follow what finished
// records pointed to (chunks, contexts, logstores), and take, on the
// logging goroutine, hands out a pending already zeroed. Clearing a
// slab's array at once, where its last record finished (usually in
// franz-go's promise), costs less than zeroing each pending as it is
// taken, which during a collection goes through the write barrier.
func (b *budget) recycleSlab(sl *slab) {
	clear(sl.recs)
	b.release(b.slabBytes)
	b.slabs.Put(sl)
}

// tryAcquire, acquire and release are sem's, counted in used.
func (b *budget) tryAcquire(n int64) bool {
	if !b.sem.TryAcquire(n) {
		return false
	}
	b.used.Add(n)
	return true
}

func (b *budget) acquire(ctx context.Context, n int64) error {
	if err := b.sem.Acquire(ctx, n); err != nil {
		return err
	}
	b.used.Add(n)
	return nil
}

func (b *budget) release(n int64) {
	b.used.Add(-n)
	b.sem.Release(n)
}

// reserve takes n bytes, applying the buffer-full policy.
func (b *budget) reserve(ctx context.Context, c *claim, n int64) error {
	if b.tryAcquire(n) {
		return nil
	}
	return b.wait(ctx, c, n)
}

// blockThroughClose is the spool feeder's policy: Block, but Close does not
// end the wait (Close delivers what waits on disk, within its context, and
// ends the feeder's ctx when it stops).
const blockThroughClose FullPolicy = -1

// wait applies the buffer-full policy: Drop (or a ctx from NoWait)
// refuses at once (errFull), Block waits until there is room, c's bound
// passes (errBlocked), ctx ends (its error) or Close starts
// (errWaitClosed). NoWait is looked up here, when the buffer is full,
// not on every Log.
func (b *budget) wait(ctx context.Context, c *claim, n int64) error {
	switch c.policy {
	case Drop:
		return errFull
	case blockThroughClose:
		return b.acquire(ctx, n)
	}
	if noWait(ctx) {
		return errFull
	}
	wctx, cancel := c.wait.context(ctx)
	defer cancel()
	stop := context.AfterFunc(b.closing, cancel)
	defer stop()
	if err := b.acquire(wctx, n); err != nil {
		if b.closing.Err() != nil {
			return errWaitClosed
		}
		return c.wait.ended(ctx)
	}
	return nil
}

// tooLargeError is an encoded record over MaxRecordBytes.
type tooLargeError struct{ size, limit int }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("encoded record is %d bytes, limit is %d", e.size, e.limit)
}
