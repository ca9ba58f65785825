package producer

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/internal/record"
)

// compressBatch is what franz-go hands a compressor: n records in Kafka's
// record framing, each holding the benchmark record (BenchmarkThroughput's
// access-log line) encoded as the producer encodes it. With distinct,
// each record also has its own request id and time, as real log lines do,
// which compress less than n copies of one line.
func compressBatch(n int, distinct bool) []byte {
	fields := []record.Field{
		{Key: "level", Value: "INFO"},
		{Key: "msg", Value: "request served to client after authorization and rate limiting"},
		{Key: "method", Value: "GET"},
		{Key: "path", Value: "/api/v1/orders/1234567/items?page=2&size=50"},
		{Key: "status", Value: "200"},
		{Key: "user_agent", Value: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"},
	}
	var batch []byte
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		fs := fields
		if distinct {
			// A pseudo-random id: a counter would compress too well.
			id := strconv.FormatUint(uint64(i)*0x9E3779B97F4A7C15, 16)
			ts := start.Add(time.Duration(i) * 137 * time.Microsecond).Format(time.RFC3339Nano)
			fs = append([]record.Field{{Key: "time", Value: ts}, {Key: "request_id", Value: id}}, fields...)
		}
		r := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Value: record.AppendObject(nil, nil, fs)}
		body := r.AppendTo(nil) // with Length 0: one byte of length
		r.Length = int32(len(body) - 1)
		batch = r.AppendTo(batch)
	}
	return batch
}

// BenchmarkCompress is the CPU per record of compressing a batch of 1000
// records with the producer's LZ4 (the default codec) and with gzip (what
// the default switches to when SLS refuses LZ4), one batch per op: the
// benchmark record repeated (same) and with a distinct id and time per
// record (distinct), and with franz-go's own LZ4 (franz-lz4: 4 MiB blocks
// and a content checksum). It reports ns/record and the compressed share
// of the bytes.
func BenchmarkCompress(b *testing.B) {
	const records = 1000
	gz, err := kgo.DefaultCompressor(kgo.GzipCompression())
	if err != nil {
		b.Fatal(err)
	}
	franzLZ4, err := kgo.DefaultCompressor(kgo.Lz4Compression())
	if err != nil {
		b.Fatal(err)
	}
	for _, batch := range []struct {
		name     string
		distinct bool
	}{{"same", false}, {"distinct", true}} {
		src := compressBatch(records, batch.distinct)
		for _, c := range []struct {
			name string
			c    kgo.Compressor
			want kgo.CompressionCodecType
		}{
			{"lz4", newLZ4Compressor(), kgo.CodecLz4},
			{"gzip", gz, kgo.CodecGzip},
			{"franz-lz4", franzLZ4, kgo.CodecLz4},
		} {
			b.Run(batch.name+"/"+c.name, func(b *testing.B) {
				var dst bytes.Buffer
				var out []byte
				b.SetBytes(int64(len(src)))
				b.ReportAllocs()
				for b.Loop() {
					dst.Reset()
					var codec kgo.CompressionCodecType
					out, codec = c.c.Compress(&dst, src)
					if codec != c.want {
						b.Fatalf("compressed as %d, want %d", codec, c.want)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
				b.ReportMetric(float64(len(out))/float64(len(src)), "compressed/raw")
			})
		}
	}
}
