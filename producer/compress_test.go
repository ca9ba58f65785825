package producer_test

import (
	"log/slog"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// codecRecord is record i: it shrinks under every codec, so that its
// batch goes out compressed.
func codecRecord(i int) producer.Record {
	return rec("id", strconv.Itoa(i), "msg", strings.Repeat("a log line that repeats ", 20))
}

// TestDefaultCodecFallsBackToGzip is a producer with default settings
// against an SLS that takes only gzip (and uncompressed batches): it
// starts with LZ4, switches to gzip at the first refusal, logs that once,
// and delivers every record exactly once, none failed or unconfirmed.
func TestDefaultCodecFallsBackToGzip(t *testing.T) {
	for _, refusal := range []slstest.CodecRefusal{slstest.UnsupportedCompression, slstest.CorruptMessage} {
		t.Run(refusal.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{
				RefuseCodecs: []kgo.CompressionCodecType{kgo.CodecLz4, kgo.CodecSnappy, kgo.CodecZstd},
				CodecRefusal: refusal,
			})
			var logs lockedBuffer
			fails := newFailures()
			p := newProducer(t, s, func(c *producer.Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
				c.OnError = fails.on
			})
			if got := p.Compression(); got != producer.LZ4 {
				t.Fatalf("Compression() before any batch = %v, want lz4", got)
			}
			const n = 500
			ctx := timeout(t, time.Minute)
			for i := range n {
				if err := p.Log(ctx, "app", codecRecord(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v (failures: %v)", err, fails.all())
			}
			st := p.Stats()
			if st.Delivered != n || st.Failed != 0 || st.Unconfirmed != 0 {
				t.Errorf("Stats: delivered %d, failed %d, unconfirmed %d; want %d, 0, 0", st.Delivered, st.Failed, st.Unconfirmed, n)
			}
			seen := map[string]int{}
			for _, l := range s.Logs("app") {
				seen[l.Fields["id"]]++
			}
			for i := range n {
				if c := seen[strconv.Itoa(i)]; c != 1 {
					t.Errorf("record %d stored %d times, want once", i, c)
				}
			}
			if got := p.Compression(); got != producer.Gzip {
				t.Errorf("Compression() after the refusal = %v, want gzip", got)
			}
			batches := s.CodecBatches()
			if batches[kgo.CodecGzip] == 0 || len(batches) > 2 || len(batches) == 2 && batches[kgo.CodecNone] == 0 {
				t.Errorf("stored batches per codec %v, want gzip (and perhaps none) only", batches)
			}
			if c := strings.Count(logs.String(), "compressing with gzip from now on"); c != 1 {
				t.Errorf("the switch was logged %d times, want once; log:\n%s", c, logs.String())
			}
			// franz-go does not retry a refused codec: it is no partition
			// error to wait out, whatever kerr says of CORRUPT_MESSAGE.
			if strings.Contains(logs.String(), "retry a shard") || st.PartitionRetries != 0 {
				t.Errorf("the refusal was taken for a partition error to retry (PartitionRetries %d); log:\n%s", st.PartitionRetries, logs.String())
			}
		})
	}
}

// TestDefaultCodecKeepsLZ4 checks that where SLS takes LZ4, the default
// sends LZ4 and stays with it.
func TestDefaultCodecKeepsLZ4(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, nil)
	ctx := timeout(t, time.Minute)
	for i := range 50 {
		if err := p.LogSync(ctx, "app", codecRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.CodecBatches(); !maps.Equal(got, map[kgo.CompressionCodecType]int64{kgo.CodecLz4: 50}) {
		t.Errorf("stored batches per codec %v, want 50 lz4", got)
	}
	if got := p.Compression(); got != producer.LZ4 {
		t.Errorf("Compression() = %v, want lz4", got)
	}
}

// TestDefaultCodecGzipRefusedToo checks that when SLS refuses gzip as
// well, the records fail at once with ErrRejected naming gzip, rather
// than going round until their deadline.
func TestDefaultCodecGzipRefusedToo(t *testing.T) {
	s := slstest.New(t, slstest.Config{RefuseCodecs: []kgo.CompressionCodecType{kgo.CodecLz4, kgo.CodecGzip}})
	p := newProducer(t, s, nil)
	ctx := timeout(t, time.Minute)
	for i := range 3 {
		err := p.LogSync(ctx, "app", codecRecord(i))
		checkOneSentinel(t, "LogSync", err, producer.ErrRejected)
		if err != nil {
			checkContains(t, "LogSync", err.Error(), "gzip", "set Compression: NoCompression")
		}
	}
	if got := p.Compression(); got != producer.Gzip {
		t.Errorf("Compression() = %v, want gzip", got)
	}
	if st := p.Stats(); st.Failed != 3 {
		t.Errorf("Stats.Failed = %d, want 3", st.Failed)
	}
}

// benchCodecEnv selects the codec of BenchmarkThroughput and
// BenchmarkThroughputParallel, for the SDK and the raw client alike
// (bench/throughput.sh's codec argument): auto (the default: LZ4 where it
// is accepted, as in the emulator), lz4, gzip, none, snappy or zstd.
const benchCodecEnv = "SLSKAFKA_BENCH_CODEC"

// benchCodec returns the codec benchCodecEnv selects, as the SDK's
// Compression and as franz-go's codec.
func benchCodec(b testing.TB) (producer.Compression, kgo.CompressionCodec) {
	switch v := os.Getenv(benchCodecEnv); v {
	case "", "auto":
		return producer.Auto, kgo.Lz4Compression()
	case "lz4":
		return producer.LZ4, kgo.Lz4Compression()
	case "gzip":
		return producer.Gzip, kgo.GzipCompression()
	case "none":
		return producer.NoCompression, kgo.NoCompression()
	case "snappy":
		return producer.Snappy, kgo.SnappyCompression()
	case "zstd":
		return producer.Zstd, kgo.ZstdCompression()
	default:
		b.Fatalf("%s=%q: want auto, lz4, gzip, none, snappy or zstd", benchCodecEnv, v)
	}
	panic("unreachable")
}

// withBenchCodec sets the SDK's codec to benchCodec's, and leaves out the
// time field, so that the SDK sends the bytes the raw client sends
// (BenchmarkLogTimeField measures the field).
func withBenchCodec(b testing.TB) func(*producer.Config) {
	c, _ := benchCodec(b)
	return func(cfg *producer.Config) {
		cfg.Compression = c
		cfg.TimeField = producer.NoTimeField
	}
}

// TestDefaultCodecKeepsLZ4OnCorruptPlainBatch checks that CORRUPT_MESSAGE
// on an uncompressed batch (a record too short to shrink) is not taken for
// a codec refusal: the record fails, and the producer stays with LZ4.
func TestDefaultCodecKeepsLZ4OnCorruptPlainBatch(t *testing.T) {
	s := slstest.New(t, slstest.Config{RefuseCodecs: []kgo.CompressionCodecType{kgo.CodecNone}, CodecRefusal: slstest.CorruptMessage})
	p := newProducer(t, s, nil)
	err := p.LogSync(timeout(t, time.Minute), "app", rec("m", "x"))
	checkOneSentinel(t, "LogSync", err, producer.ErrRejected)
	if got := p.Compression(); got != producer.LZ4 {
		t.Errorf("Compression() = %v, want lz4", got)
	}
	if got := s.CodecBatches(); len(got) != 0 {
		t.Errorf("stored batches per codec %v, want none", got)
	}
}
