package producer

import (
	"bytes"
	"sync"

	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"
)

// lz4Compressor is franz-go's LZ4 compression with 256 KiB blocks instead
// of the lz4 package's default 4 MiB. Each pooled writer keeps buffers the
// size of a block, and they sit outside MaxBufferedBytes: with 4 MiB blocks
// two writers held 8 MiB, half a 16 MiB buffer, to compress batches of at
// most 1 MB. Batches compress in a few blocks of 256 KiB about as well, as
// log lines repeat within a few kilobytes.
type lz4Compressor struct{ pool sync.Pool }

const lz4Block = lz4.Block256Kb

func newLZ4Compressor() *lz4Compressor {
	c := &lz4Compressor{}
	c.pool.New = func() any {
		w := lz4.NewWriter(nil)
		w.Apply(lz4.BlockSizeOption(lz4Block)) //nolint:errcheck // a valid constant option
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
