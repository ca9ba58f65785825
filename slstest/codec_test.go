package slstest_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/slstest"
)

// TestCodecBatches checks that CodecBatches counts stored batches by the
// codec they went on the wire with: the configured one for a batch that
// shrinks, none for one franz-go sent plain, and nothing for a refused
// batch; in storing and in Discard mode.
func TestCodecBatches(t *testing.T) {
	compressible := []byte(strings.Repeat("compress me ", 50))
	for _, discard := range []bool{false, true} {
		s := slstest.New(t, slstest.Config{Discard: discard, RefuseCodecs: []kgo.CompressionCodecType{kgo.CodecZstd}})
		want := map[kgo.CompressionCodecType]int64{}
		for _, tc := range []struct {
			codec kgo.CompressionCodec
			value []byte
			sent  kgo.CompressionCodecType
		}{
			{kgo.GzipCompression(), compressible, kgo.CodecGzip},
			{kgo.SnappyCompression(), compressible, kgo.CodecSnappy},
			{kgo.Lz4Compression(), compressible, kgo.CodecLz4},
			{kgo.NoCompression(), compressible, kgo.CodecNone},
			// Too short to shrink: franz-go sends it uncompressed.
			{kgo.Lz4Compression(), []byte("x"), kgo.CodecNone},
		} {
			cl := franzClient(t, s, s.Project(), password(t, s), kgo.ProducerBatchCompression(tc.codec))
			// One record per request: one batch.
			if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Partition: 0, Value: tc.value}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			want[tc.sent]++
			if got := s.CodecBatches(); !maps.Equal(got, want) {
				t.Errorf("discard=%v: after a batch sent as %d, CodecBatches = %v, want %v", discard, tc.sent, got, want)
			}
		}
		zstd := franzClient(t, s, s.Project(), password(t, s), kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.RecordRetries(0))
		err := zstd.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Partition: 0, Value: compressible}).FirstErr()
		if !errors.Is(err, kerr.UnsupportedCompressionType) {
			t.Fatalf("zstd, refused: %v", err)
		}
		if got := s.CodecBatches(); !maps.Equal(got, want) {
			t.Errorf("discard=%v: a refused batch changed CodecBatches to %v, want %v", discard, got, want)
		}
	}
}
