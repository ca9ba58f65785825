package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slskafka/slskafka/producer"
)

// maxProbeKiB is the largest record size the search tries, in KiB.
const maxProbeKiB = 8 << 10

// defaultRecordKiB is producer.DefaultMaxRecordBytes, rounded up to KiB.
const defaultRecordKiB = (producer.DefaultMaxRecordBytes + 1023) / 1024

func TestLargestRecord(t *testing.T) {
	check(t, assumption{
		what: "a record of the SDK's default MaxRecordBytes (1,000,000 B) is accepted, and a batch past the largest accepted is MESSAGE_TOO_LARGE " +
			"(the emulator: Kafka's default message.max.bytes, 1,048,588 B per batch, its framing included)",
		evidence: assumed,
		emulator: "largest accepted 1023 KiB (uncompressed record value, searched in KiB up to 8 MiB); past it: refused after SASL: MESSAGE_TOO_LARGE → ErrRecordTooLarge",
		sdk:      fmt.Sprintf("records of %d KiB (the default MaxRecordBytes) accepted, and larger batches refused as ErrRecordTooLarge", defaultRecordKiB),
	}, observeLargest)
}

// observeLargest searches, in KiB, for the largest record value the target
// accepts uncompressed, starting from the SDK's default MaxRecordBytes.
func observeLargest(t *testing.T, tg *target) (string, bool) {
	p := tg.producer(t, func(c *producer.Config) {
		c.Compression = producer.NoCompression
		c.Format = producer.Content
		c.MaxRecordBytes = (maxProbeKiB + 1) << 10 // so that the SDK refuses nothing itself
	})
	// probe writes a record whose value is kib KiB.
	probe := func(kib int) string {
		token := tg.token()
		framing := len(`{"` + tokenField + `":"` + token + `","pad":""}`)
		r := record(token, producer.Field{Key: "pad", Value: strings.Repeat("x", kib<<10-framing)})
		o := outcome(p.LogSync(tg.ctx(t), tg.logstore, r))
		t.Logf("%d KiB: %s", kib, o)
		return o
	}

	lo, hi := 0, defaultRecordKiB
	past := probe(defaultRecordKiB)
	if accepted(past) {
		lo, hi = defaultRecordKiB, maxProbeKiB
		if past = probe(maxProbeKiB); accepted(past) {
			return fmt.Sprintf("largest accepted: at least %d KiB, the largest tried", maxProbeKiB), true
		}
	} else if o := probe(1); !accepted(o) {
		return "a 1 KiB record is not accepted either: " + o, false
	} else {
		lo = 1
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if o := probe(mid); accepted(o) {
			lo = mid
		} else {
			hi, past = mid, o
		}
	}
	got := fmt.Sprintf("largest accepted %d KiB (uncompressed record value, searched in KiB up to 8 MiB); past it: %s", lo, past)
	return got, lo >= defaultRecordKiB && strings.HasSuffix(past, "→ ErrRecordTooLarge")
}
