package producer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

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
				p.finish(e)
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
		p.finish(e)
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
	p.finish(e)
	// Refunded: a buffer's worth of such records still fits, one at a time.
	for i := range 20 {
		e, err := p.encode(context.Background(), ls, big)
		if err != nil {
			t.Fatal(fmt.Errorf("record %d: %w", i, err))
		}
		p.finish(e)
	}
}
