package conformance

import (
	"strings"
	"testing"

	"github.com/slskafka/slskafka/producer"
)

func TestCodec(t *testing.T) {
	for _, c := range []struct {
		codec    producer.Compression
		evidence string
		sdk      string
	}{
		{producer.NoCompression, assumed, ""},
		{producer.Gzip, docSamples, "acceptance: ErrRejected's codec hint suggests gzip"},
		{producer.Snappy, assumed, ""},
		{producer.LZ4, assumed, "acceptance: LZ4 is the SDK's default Compression"},
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
				emulator: "accepted, read back",
				sdk:      c.sdk,
			}, func(t *testing.T, tg *target) (string, bool) {
				p := tg.producer(t, func(cfg *producer.Config) { cfg.Compression = c.codec })
				// A value that shrinks under every codec: franz-go
				// sends a batch that does not shrink uncompressed.
				r := record(tg.token(), producer.Field{Key: "msg", Value: strings.Repeat("compressible log text ", 40)})
				o := writeAndRead(t, tg, p, tg.logstore, r)
				return o, accepted(o)
			})
		})
	}
}
