package conformance

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/producer"
)

// TestCodec has one row per codec set explicitly, and one for the
// default (Auto: LZ4, then gzip if SLS refuses LZ4). Each row reports the
// codec its batch went on the wire with, as the client wrote it (franz-go
// sends a batch that does not shrink uncompressed, so the configured codec
// alone proves nothing); against the emulator, Server.CodecBatches must
// agree.
func TestCodec(t *testing.T) {
	for _, c := range []struct {
		codec    producer.Compression
		evidence string
		sdk      string
	}{
		{producer.NoCompression, docSamples, ""},
		{producer.Gzip, docSamples, "acceptance: the default falls back to gzip, and ErrRejected's codec hint suggests it"},
		{producer.Snappy, assumed, ""},
		{producer.LZ4, assumed, ""},
		{producer.Zstd, assumed, ""},
	} {
		t.Run(c.codec.String(), func(t *testing.T) {
			what := "a record batch compressed with " + c.codec.String() + " is accepted"
			if c.codec == producer.NoCompression {
				what = "an uncompressed record batch is accepted"
			}
			check(t, assumption{
				what:     what,
				evidence: c.evidence,
				emulator: "accepted, read back, sent as " + c.codec.String(),
				sdk:      c.sdk,
			}, func(t *testing.T, tg *target) (string, bool) {
				o, _ := observeCodec(t, tg, c.codec)
				return o, accepted(o)
			})
		})
	}
	t.Run("default", func(t *testing.T) {
		check(t, assumption{
			what:     "the default Compression (LZ4, gzip if SLS refuses LZ4) delivers",
			evidence: assumed + " (LZ4); " + docSamples + " (gzip)",
			emulator: "accepted, read back, sent as lz4",
			sdk:      "acceptance: the default codec delivers, with LZ4 or after switching to gzip",
		}, observeDefaultCodec)
	})
}

// observeDefaultCodec writes one record with the default Compression and
// says which codec carried it, and whether the producer switched.
func observeDefaultCodec(t *testing.T, tg *target) (string, bool) {
	o, p := observeCodec(t, tg, producer.Auto)
	if p.Compression() == producer.Gzip {
		o += " (SLS refused lz4: the producer switched)"
	}
	return o, accepted(o)
}

// observeCodec writes one compressible record through a producer with
// codec and reads it back; the outcome names the codec of the batches
// written, from franz-go's batch hook, checked against the emulator's
// count of stored batches.
func observeCodec(t *testing.T, tg *target, codec producer.Compression) (string, *producer.Producer) {
	t.Helper()
	sent := wireCodecs{seen: make(chan struct{})}
	var before map[kgo.CompressionCodecType]int64
	if tg.emu != nil {
		before = tg.emu.CodecBatches()
	}
	p := tg.producer(t, func(cfg *producer.Config) {
		cfg.Compression = codec
		cfg.Hooks = append(cfg.Hooks, &sent)
	})
	// A value that shrinks under every codec: franz-go sends a batch
	// that does not shrink uncompressed.
	r := record(tg.token(), producer.Field{Key: "msg", Value: strings.Repeat("compressible log text ", 40)})
	o := writeAndRead(t, tg, p, tg.logstore, r)
	if !accepted(o) {
		return o, p
	}
	// franz-go may call the hook after the record's promise.
	select {
	case <-sent.seen:
	case <-tg.ctx(t).Done():
	}
	names := sent.names()
	if tg.emu != nil {
		after := tg.emu.CodecBatches()
		var stored []string
		for c, n := range after {
			if n > before[c] {
				stored = append(stored, codecName(c))
			}
		}
		slices.Sort(stored)
		if got := strings.Join(stored, ", "); got != names {
			t.Errorf("the client wrote batches as %q, the emulator stored them as %q", names, got)
		}
	}
	return o + ", sent as " + names, p
}

// wireCodecs is a franz-go hook that collects the codecs of the batches a
// client wrote and the target accepted.
type wireCodecs struct {
	seen   chan struct{} // closed at the first batch
	mu     sync.Mutex
	codecs map[kgo.CompressionCodecType]bool
}

// OnProduceBatchWritten implements kgo.HookProduceBatchWritten.
func (w *wireCodecs) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.codecs == nil {
		w.codecs = make(map[kgo.CompressionCodecType]bool)
		close(w.seen)
	}
	w.codecs[kgo.CompressionCodecType(m.CompressionType)] = true
}

// names lists the codecs seen, sorted, or "nothing" if none.
func (w *wireCodecs) names() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range slices.Collect(maps.Keys(w.codecs)) {
		out = append(out, codecName(c))
	}
	if len(out) == 0 {
		return "nothing"
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// codecName names a wire codec as producer.Compression does.
func codecName(c kgo.CompressionCodecType) string {
	switch c {
	case kgo.CodecNone:
		return producer.NoCompression.String()
	case kgo.CodecGzip:
		return producer.Gzip.String()
	case kgo.CodecSnappy:
		return producer.Snappy.String()
	case kgo.CodecLz4:
		return producer.LZ4.String()
	case kgo.CodecZstd:
		return producer.Zstd.String()
	}
	return "codec " + strconv.Itoa(int(c))
}
