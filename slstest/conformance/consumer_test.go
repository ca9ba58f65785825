package conformance

import (
	"bytes"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest/internal/jsonfields"
)

func TestConsumerGroup(t *testing.T) {
	check(t, assumption{
		what:     "a consumer group reads back what was written; a record carries the value as sent and no key",
		evidence: docConsume + ", which gives a log whose one field is content the key \"content\"; the emulator's form (no key, the value as sent): assumed",
		emulator: "content log: key none, value as sent; .json log: key none, value as sent",
	}, func(t *testing.T, tg *target) (string, bool) {
		var parts []string
		for _, c := range []struct {
			name   string
			format producer.Format
		}{{"content log", producer.Content}, {".json log", producer.Expanded}} {
			token := tg.token()
			p := tg.producer(t, func(cfg *producer.Config) { cfg.Format = c.format })
			if o := outcome(p.LogSync(tg.ctx(t), tg.logstore, record(token, producer.Field{Key: "msg", Value: c.name}))); !accepted(o) {
				parts = append(parts, c.name+": "+o)
				continue
			}
			got, err := tg.read.find(tg.ctx(t), token)
			if err != nil {
				t.Logf("read back: %v", err)
				parts = append(parts, c.name+": not read back")
				continue
			}
			sent := []byte(`{"` + tokenField + `":"` + token + `","msg":"` + c.name + `"}`)
			parts = append(parts, c.name+": "+describeRead(got, sent))
		}
		return strings.Join(parts, "; "), true
	})
}

// describeRead says how a consumed record relates to the value sent.
func describeRead(c consumed, sent []byte) string {
	key := "key none"
	if len(c.key) > 0 {
		key = "key " + strconv.Quote(string(c.key))
	}
	got, gotObject := jsonfields.Expand(c.value)
	want, _ := jsonfields.Expand(sent)
	var value string
	switch {
	case bytes.Equal(c.value, sent):
		value = "value as sent"
	case gotObject && maps.Equal(got, want):
		value = "value the sent object, re-encoded"
	case gotObject:
		value = "value a JSON object of " + strconv.Itoa(len(got)) + " fields"
	default:
		value = "value " + strconv.Itoa(len(c.value)) + " bytes, not the sent object"
	}
	return key + ", " + value
}
