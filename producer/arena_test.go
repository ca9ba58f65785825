package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

func newTestProducer(t *testing.T, maxBuffered int, mutate ...func(*Config)) *Producer {
	t.Helper()
	ep, err := endpoint.Parse("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Project: "demo", Endpoint: ep, Credentials: auth.Static("id", "secret"),
		MaxBufferedBytes: maxBuffered, OnBufferFull: Drop,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // nothing was produced: nothing to wait for
		p.Close(ctx)
	})
	return p
}

// A stalled shard keeps every Nth record of every chunk alive. The buffer
// is charged whole chunks, so the memory those records pin stays within
// MaxBufferedBytes however few of them are stalled; and when they finish,
// all of it is available again.
func TestChunksBoundMemory(t *testing.T) {
	const budget = 1 << 20
	p := newTestProducer(t, budget)
	if p.chunks.size == 0 {
		t.Fatal("a 1 MiB buffer should use chunks")
	}
	ls, err := p.logstore("app")
	if err != nil {
		t.Fatal(err)
	}
	r := Record{Fields: []Field{{Key: "msg", Value: strings.Repeat("x", 200)}}}
	ctx := context.Background()

	fill := func() (stalled []encoded) {
		for i := 0; ; i++ {
			e, err := p.encode(ctx, ls, r)
			if errors.Is(err, ErrBufferFull) {
				return stalled
			}
			if err != nil {
				t.Fatal(err)
			}
			if i%4 == 0 { // the stalled shard's share
				stalled = append(stalled, e)
			} else {
				p.finish(e.chunk, e.value)
			}
			if i > 100*budget {
				t.Fatal("the buffer never filled: finished records are not refunded, or stalled ones not charged")
			}
		}
	}
	stalled := fill()
	pinned := map[*chunk]bool{}
	for _, e := range stalled {
		pinned[e.chunk] = true
	}
	if mem := len(pinned) * p.chunks.size; mem > budget {
		t.Errorf("%d stalled records pin %d chunks = %d bytes, over the %d-byte buffer", len(stalled), len(pinned), mem, budget)
	}
	for _, e := range stalled {
		p.finish(e.chunk, e.value)
	}
	// Everything but the arenas' open chunks is free again.
	if again := fill(); len(again) < len(stalled)/2 {
		t.Errorf("after the stalled records finished, only %d more fit (first time %d)", len(again), len(stalled))
	}
}

// A record that does not fit a chunk's tail gets its own array and is
// charged its own size.
func TestChunksLargeRecord(t *testing.T) {
	p := newTestProducer(t, 1<<20)
	ls, _ := p.logstore("app")
	big := Record{Fields: []Field{{Key: "msg", Value: strings.Repeat("y", 3*p.chunks.size)}}}
	e, err := p.encode(context.Background(), ls, big)
	if err != nil {
		t.Fatal(err)
	}
	if e.chunk != nil || len(e.value) < 3*p.chunks.size {
		t.Fatalf("large record placed in a chunk (%v) or truncated (%d bytes)", e.chunk != nil, len(e.value))
	}
	p.finish(e.chunk, e.value)
	// Refunded: a buffer's worth of such records still fits, one at a time.
	for i := range 20 {
		e, err := p.encode(context.Background(), ls, big)
		if err != nil {
			t.Fatal(fmt.Errorf("record %d: %w", i, err))
		}
		p.finish(e.chunk, e.value)
	}
}

// However many CPUs there are, the chunks being filled never take the
// whole buffer: with nothing in flight Log always finds room. (With one
// arena per CPU and full chunks retired only once replaced, 16 CPUs took a
// 1 MiB buffer whole and every Log after that waited forever.)
func TestChunksManyCPUsSmallBuffer(t *testing.T) {
	for _, policy := range []FullPolicy{Drop, Block} {
		t.Run(map[FullPolicy]string{Drop: "Drop", Block: "Block"}[policy], func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(16))
			p := newTestProducer(t, 1<<20, func(c *Config) { c.OnBufferFull = policy })
			ls, _ := p.logstore("app")
			r := Record{Fields: []Field{{Key: "msg", Value: strings.Repeat("x", 200)}}}
			ctx := context.Background()
			// Concurrent callers spread over the arenas: hold arenas
			// 0..i-1 while one encodes, so that it lands on arena i.
			for i := range p.chunks.arenas {
				for j := range i {
					p.chunks.arenas[j].mu.Lock()
				}
				e, err := p.encode(ctx, ls, r)
				for j := range i {
					p.chunks.arenas[j].mu.Unlock()
				}
				if err != nil {
					t.Fatalf("arena %d: %v", i, err)
				}
				p.finish(e.chunk, e.value)
			}
			// Nothing is in flight; every record is delivered at once.
			for n := range 10000 {
				cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				e, err := p.encode(cctx, ls, r)
				cancel()
				if err != nil {
					t.Fatalf("after %d records with nothing in flight: %v", n, err)
				}
				p.finish(e.chunk, e.value)
			}
		})
	}
}

// A record as large as MaxRecordBytes allows fits when nothing is in
// flight, although the chunks being filled are charged to the buffer.
func TestChunksLargestRecordFits(t *testing.T) {
	p := newTestProducer(t, 1<<20, func(c *Config) { c.OnBufferFull = Block })
	ls, _ := p.logstore("app")
	ctx := context.Background()
	small, err := p.encode(ctx, ls, Record{Fields: []Field{{Key: "msg", Value: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	p.finish(small.chunk, small.value) // delivered; its chunk stays open
	big := Record{Fields: []Field{{Key: "msg", Value: strings.Repeat("y", p.cfg.MaxRecordBytes-20)}}}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	e, err := p.encode(cctx, ls, big)
	if err != nil {
		t.Fatalf("a record of MaxRecordBytes (%d) with nothing in flight: %v", p.cfg.MaxRecordBytes, err)
	}
	p.finish(e.chunk, e.value)
}

// Records of a few KiB go into chunks too: one that outgrows a chunk's
// tail starts a new chunk instead of getting an array of its own while the
// chunk stays open.
func TestChunksMidSizeRecords(t *testing.T) {
	p := newTestProducer(t, 64<<20)
	ls, _ := p.logstore("app")
	r := Record{Fields: []Field{{Key: "msg", Value: strings.Repeat("m", 10<<10)}}}
	var own int
	for range 100 {
		e, err := p.encode(context.Background(), ls, r)
		if err != nil {
			t.Fatal(err)
		}
		if e.chunk == nil {
			own++
		}
		if !strings.Contains(string(e.value), strings.Repeat("m", 10<<10)) {
			t.Fatalf("record moved to a new chunk lost its bytes: %d bytes", len(e.value))
		}
		p.finish(e.chunk, e.value)
	}
	if own > 0 {
		t.Errorf("%d of 100 10-KiB records got their own array", own)
	}
}
