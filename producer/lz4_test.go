package producer

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The producer's LZ4 frames carry no content checksum (the frame
// descriptor's FLG byte, bit 2, clear; no trailing xxHash), as Kafka's Java
// client writes them, and franz-go's decompressor, which the emulator uses,
// reads them back whole.
func TestLZ4FrameHasNoContentChecksum(t *testing.T) {
	src := compressBatch(200, true)
	var dst bytes.Buffer
	out, codec := newLZ4Compressor().Compress(&dst, src)
	if codec != kgo.CodecLz4 {
		t.Fatalf("compressed as %d, want LZ4", codec)
	}
	if len(out) < 7 || binary.LittleEndian.Uint32(out) != 0x184D2204 {
		t.Fatalf("not an LZ4 frame: % x", out[:min(len(out), 8)])
	}
	if flg := out[4]; flg&0x04 != 0 {
		t.Errorf("FLG byte %#08b: content checksum set", flg)
	}
	d := kgo.DefaultDecompressor()
	got, err := d.Decompress(out, kgo.CodecLz4)
	if err != nil {
		t.Fatalf("franz-go cannot decompress the frame: %v", err)
	}
	if !bytes.Equal(got, src) {
		t.Errorf("decompressed %d bytes, not the %d compressed", len(got), len(src))
	}
}
