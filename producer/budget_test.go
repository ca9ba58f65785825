package producer

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/slskafka/slskafka/internal/record"
)

// testBudget is a budget with the policy its records are placed with.
type testBudget struct {
	*budget
	policy FullPolicy
}

func newTestBudget(t *testing.T, maxBytes int, policy FullPolicy) testBudget {
	t.Helper()
	closing, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	return testBudget{newBudget(maxBytes, closing), policy}
}

func (b testBudget) takeRec(ctx context.Context, maxRecord int, f []Field) (*pending, error) {
	return b.take(ctx, &claim{static: noStatic, fields: f, maxRecord: maxRecord, policy: b.policy})
}

var noStatic = record.NewStatic(nil)

func fields(value string) []Field { return []Field{{Key: "msg", Value: value}} }

// A stalled shard keeps every Nth record of every block alive. The budget
// charges whole blocks, so the memory those records pin, bytes and
// pendings, stays within MaxBufferedBytes however few of them are stalled;
// and when they finish, all of it is available again.
func TestBudgetBoundsMemory(t *testing.T) {
	const max = 1 << 20
	for _, size := range []int{40, 200, 1500} {
		b := newTestBudget(t, max, Drop)
		if b.chunkSize == 0 {
			t.Fatal("a 1 MiB buffer should use blocks")
		}
		ctx := context.Background()
		fill := func() (stalled []*pending) {
			for i := 0; ; i++ {
				pd, err := b.takeRec(ctx, max, fields(strings.Repeat("x", size)))
				if errors.Is(err, errFull) {
					return stalled
				}
				if err != nil {
					t.Fatal(err)
				}
				if i%4 == 0 { // the stalled shard's share
					stalled = append(stalled, pd)
				} else {
					b.give(pd)
				}
				if i > 100*max {
					t.Fatal("the buffer never filled: finished records are not refunded, or stalled ones not charged")
				}
			}
		}
		stalled := fill()
		chunks, slabs := map[*chunk]bool{}, map[*slab]bool{}
		for _, pd := range stalled {
			chunks[pd.chunk] = true
			slabs[pd.slab] = true
		}
		mem := int64(len(chunks)*b.chunkSize) + int64(len(slabs))*int64(b.slabLen)*int64(unsafe.Sizeof(pending{}))
		if mem > max {
			t.Errorf("%d-byte records: %d stalled records pin %d chunks and %d slabs = %d bytes, over the %d-byte buffer", size, len(stalled), len(chunks), len(slabs), mem, max)
		}
		// What a record costs the budget is at least what it holds.
		if perRecord := int64(max) / int64(len(stalled)*4); perRecord < int64(size)+int64(unsafe.Sizeof(pending{})) {
			t.Errorf("%d-byte records: %d fit in %d bytes, %d bytes each: less than their bytes and pending", size, len(stalled)*4, max, perRecord)
		}
		for _, pd := range stalled {
			b.give(pd)
		}
		// Everything but the arenas' open blocks is free again.
		if again := fill(); len(again) < len(stalled)/2 {
			t.Errorf("%d-byte records: after the stalled records finished, only %d more fit (first time %d)", size, len(again), len(stalled))
		}
	}
}

// A record that does not fit a chunk's tail gets its own array and is
// charged its own size.
func TestBudgetLargeRecord(t *testing.T) {
	b := newTestBudget(t, 1<<20, Drop)
	big := fields(strings.Repeat("y", 3*b.chunkSize))
	for i := range 20 { // refunded: a buffer's worth, one at a time
		pd, err := b.takeRec(context.Background(), 1<<20, big)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if pd.chunk != nil || len(pd.rec.Value) < 3*b.chunkSize {
			t.Fatalf("large record placed in a chunk (%v) or truncated (%d bytes)", pd.chunk != nil, len(pd.rec.Value))
		}
		// Charged its bytes and overhead; besides, only the blocks being
		// filled are.
		b.retireAll()
		if free := int64(1<<20) - b.ownCharge(pd.rec.Value); !b.sem.TryAcquire(free) || b.sem.TryAcquire(1) {
			t.Fatalf("record %d: the free space is not the buffer less the record's charge", i)
		} else {
			b.sem.Release(free)
		}
		b.give(pd)
	}
}

// However many CPUs there are, the blocks being filled never take the
// whole buffer: with nothing in flight a record always finds room. (With
// one arena per CPU and full blocks retired only once replaced, 16 CPUs
// took a 1 MiB buffer whole and every Log after that waited forever.)
func TestBudgetManyCPUsSmallBuffer(t *testing.T) {
	for _, policy := range []FullPolicy{Drop, Block} {
		t.Run(policy.String(), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(16))
			b := newTestBudget(t, 1<<20, policy)
			r := fields(strings.Repeat("x", 200))
			ctx := context.Background()
			// Concurrent callers spread over the arenas: hold arenas
			// 0..i-1 while one takes, so that it lands on arena i.
			for i := range b.arenas {
				for j := range i {
					b.arenas[j].mu.Lock()
				}
				pd, err := b.takeRec(ctx, 1<<20, r)
				for j := range i {
					b.arenas[j].mu.Unlock()
				}
				if err != nil {
					t.Fatalf("arena %d: %v", i, err)
				}
				b.give(pd)
			}
			for n := range 10000 {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				pd, err := b.takeRec(cctx, 1<<20, r)
				cancel()
				if err != nil {
					t.Fatalf("after %d records with nothing in flight: %v", n, err)
				}
				b.give(pd)
			}
		})
	}
}

// A record as large as MaxRecordBytes allows fits when nothing is in
// flight, although the blocks being filled are charged to the buffer.
func TestBudgetLargestRecordFits(t *testing.T) {
	const max = 1 << 20
	b := newTestBudget(t, max, Block)
	ctx := context.Background()
	small, err := b.takeRec(ctx, max, fields("hi"))
	if err != nil {
		t.Fatal(err)
	}
	b.give(small) // delivered; its blocks stay open
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pd, err := b.takeRec(cctx, max, fields(strings.Repeat("y", max-20)))
	if err != nil {
		t.Fatalf("a record of MaxRecordBytes (%d) with nothing in flight: %v", max, err)
	}
	b.give(pd)
}

// Records of a few KiB go into chunks too: one that outgrows a chunk's
// tail starts a new chunk instead of getting an array of its own while the
// chunk stays open.
func TestBudgetMidSizeRecords(t *testing.T) {
	b := newTestBudget(t, 64<<20, Drop)
	r := fields(strings.Repeat("m", 10<<10))
	var own int
	for range 100 {
		pd, err := b.takeRec(context.Background(), 1<<20, r)
		if err != nil {
			t.Fatal(err)
		}
		if pd.chunk == nil {
			own++
		}
		if !strings.Contains(string(pd.rec.Value), strings.Repeat("m", 10<<10)) {
			t.Fatalf("record moved to a new chunk lost its bytes: %d bytes", len(pd.rec.Value))
		}
		b.give(pd)
	}
	if own > 0 {
		t.Errorf("%d of 100 10-KiB records got their own array", own)
	}
}

// Below 64 KiB there are no blocks: each record is charged its bytes and
// its overhead, and refunded.
func TestBudgetWithoutBlocks(t *testing.T) {
	const max = 32 << 10
	b := newTestBudget(t, max, Drop)
	if b.chunkSize != 0 {
		t.Fatalf("a %d-byte buffer uses %d-byte chunks", max, b.chunkSize)
	}
	var held []*pending
	for {
		pd, err := b.takeRec(context.Background(), max, fields("hello"))
		if errors.Is(err, errFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, pd)
	}
	if want := max / int(recordOverhead+16); len(held) > want+1 {
		t.Errorf("%d records fit in %d bytes; each holds more than %d", len(held), max, recordOverhead)
	}
	for _, pd := range held {
		b.give(pd)
	}
	if _, err := b.takeRec(context.Background(), max, fields("hello")); err != nil {
		t.Errorf("after every record was given back: %v", err)
	}
}

// A record over the limit is refused before anything is charged.
func TestBudgetRefusesOversizeRecord(t *testing.T) {
	for _, max := range []int{32 << 10, 1 << 20} {
		b := newTestBudget(t, max, Drop)
		_, err := b.takeRec(context.Background(), 1000, fields(strings.Repeat("z", 2000)))
		var tl *tooLargeError
		if !errors.As(err, &tl) || tl.limit != 1000 {
			t.Fatalf("buffer %d: oversize record: %v, want a tooLargeError", max, err)
		}
		b.retireAll() // the blocks being filled are charged; nothing else may be
		if !b.sem.TryAcquire(int64(max)) {
			t.Fatalf("buffer %d: the refused record left space charged", max)
		}
	}
}

// Block waits for space until its context ends, or until Close starts.
func TestBudgetBlockWaitsForContextOrClose(t *testing.T) {
	closing, stop := context.WithCancel(context.Background())
	b := testBudget{newBudget(32<<10, closing), Block}
	held, err := b.takeRec(context.Background(), 32<<10, fields(strings.Repeat("a", 32<<10-20)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.takeRec(ctx, 32<<10, fields("b")); !errors.Is(err, context.Canceled) {
		t.Errorf("full buffer, cancelled context: %v", err)
	}
	done := make(chan error)
	go func() {
		_, err := b.takeRec(context.Background(), 32<<10, fields("c"))
		done <- err
	}()
	stop()
	if err := <-done; !errors.Is(err, errWaitClosed) {
		t.Errorf("full buffer, Close started: %v", err)
	}
	b.give(held)
}
