package producer

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// lz4Compressor is franz-go's LZ4 compression with 256 KiB blocks instead
// of the lz4 package's default 4 MiB. Each pooled writer keeps buffers the
// size of a block, and they sit outside MaxBufferedBytes: with 4 MiB blocks
// two writers held 8 MiB, half a 16 MiB buffer, to compress batches of at
// most 1 MB. Batches compress in a few blocks of 256 KiB about as well, as
// log lines repeat within a few kilobytes.
//
// Its frames carry no content checksum, as Kafka's own Java client writes
// them (KafkaLZ4BlockOutputStream sets only block independence): the
// xxHash of every byte cost about 5% of a record's CPU, and a batch is
// already covered by its CRC-32C and by TLS. Whether SLS takes such frames
// is what the conformance kit's TestCodec/lz4 checks against a real
// project.
type lz4Compressor struct{ pool sync.Pool }

const lz4Block = lz4.Block256Kb

func newLZ4Compressor() *lz4Compressor {
	c := &lz4Compressor{}
	c.pool.New = func() any {
		w := lz4.NewWriter(nil)
		w.Apply(lz4.BlockSizeOption(lz4Block), lz4.ChecksumOption(false)) //nolint:errcheck // valid constant options
		return w
	}
	return c
}

// Compress compresses a batch, or reports CodecError if it cannot, as
// franz-go's own compressor does.
func (c *lz4Compressor) Compress(dst *bytes.Buffer, src []byte, _ ...kgo.CompressFlag) ([]byte, kgo.CompressionCodecType) {
	w := c.pool.Get().(*lz4.Writer)
	defer c.pool.Put(w)
	w.Reset(dst)
	if _, err := w.Write(src); err != nil {
		return nil, kgo.CodecError
	}
	if err := w.Close(); err != nil {
		return nil, kgo.CodecError
	}
	return dst.Bytes(), kgo.CodecLz4
}

// codec is the batch compression in use. With Compression Auto it starts
// with LZ4 and switches to gzip, for the producer's lifetime, the first
// time SLS refuses a batch for its codec; the refused records are sent
// again, compressed with gzip, instead of failing. SLS's documents show
// gzip and uncompressed batches only, so an SLS that takes only gzip costs
// one refused request, not a failed record.
//
// Compression happens when franz-go writes a request, after the record was
// handed to it (ledger.Ledger.WriteSeq when run handed it over, pending.sent), so a record handed
// over after the switch is in a gzip batch, and a record handed over
// before it may be in an LZ4 one. A refused record is sent again if it was
// handed over at or before the switch: a record refused for gzip was, at
// the latest, handed over once more after the switch and then fails, so
// no record goes round more than twice.
type codec struct {
	auto bool
	lz4  *lz4Compressor
	gzip kgo.Compressor
	// lz4Sent says a batch went out compressed with LZ4: only then can a
	// CORRUPT_MESSAGE be about the codec (franz-go sends a batch that
	// does not shrink uncompressed).
	lz4Sent atomic.Bool
	gzipOn  atomic.Bool

	mu         sync.Mutex
	switchedAt uint64 // the ledger's WriteSeq when gzipOn was set
}

// compressionOpt builds the producer's codec and the franz-go option that
// compresses with it.
func (p *Producer) compressionOpt() kgo.Opt {
	c := &codec{auto: p.cfg.Compression == Auto, lz4: newLZ4Compressor()}
	p.codec = c
	switch p.cfg.Compression {
	case Auto, LZ4:
		// franz-go's gzip, built once: it cannot fail for a valid codec.
		c.gzip, _ = kgo.DefaultCompressor(kgo.GzipCompression())
		return kgo.WithCompressor(c)
	case Gzip:
		return kgo.ProducerBatchCompression(kgo.GzipCompression())
	case Snappy:
		return kgo.ProducerBatchCompression(kgo.SnappyCompression())
	case Zstd:
		return kgo.ProducerBatchCompression(kgo.ZstdCompression())
	}
	return kgo.ProducerBatchCompression(kgo.NoCompression())
}

// Compress compresses a batch with gzip once the switch happened, else
// with LZ4.
func (c *codec) Compress(dst *bytes.Buffer, src []byte, flags ...kgo.CompressFlag) ([]byte, kgo.CompressionCodecType) {
	if c.gzipOn.Load() {
		return c.gzip.Compress(dst, src, flags...)
	}
	out, t := c.lz4.Compress(dst, src, flags...)
	// franz-go sends the compressed form only if it is shorter.
	if out != nil && len(out) < len(src) && !c.lz4Sent.Load() {
		c.lz4Sent.Store(true)
	}
	return out, t
}

// Compression returns the codec that batches are compressed with now:
// the configured one, or, with Auto, LZ4 until SLS refused it and Gzip
// after. A batch that does not shrink under the codec is sent
// uncompressed whatever this says.
// A nil Producer reports Auto.
func (p *Producer) Compression() Compression {
	switch {
	case p == nil:
		return Auto
	case p.cfg.Compression != Auto:
		return p.cfg.Compression
	case p.codec != nil && p.codec.gzipOn.Load():
		return Gzip
	}
	return LZ4
}

// resend reports whether a record that failed with err should be sent
// again: with Auto, SLS refused its batch for its codec and the record may
// have been compressed with LZ4. The first such refusal switches to gzip
// and logs it once.
func (p *Producer) resend(pd *pending, err error) bool {
	c := p.codec
	if c == nil || !c.auto || !c.refusal(err) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.gzipOn.Load() {
		c.gzipOn.Store(true)
		c.switchedAt = p.ledger.WriteSeq()
		p.diag.warn("codec", "SLS refused a batch for its codec, LZ4: compressing with gzip from now on and sending the refused records again (set Compression: Gzip to start with gzip)", "err", err)
	}
	return pd.sent <= c.switchedAt
}

// refusal reports whether err is SLS refusing a batch for its codec.
func (c *codec) refusal(err error) bool {
	return errors.Is(err, kerr.UnsupportedCompressionType) ||
		errors.Is(err, kerr.CorruptMessage) && c.lz4Sent.Load()
}
