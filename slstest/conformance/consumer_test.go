package conformance

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest/internal/jsonfields"
)

func TestConsumerGroup(t *testing.T) {
	check(t, assumption{
		what: "a consumer group reads back what was written: a log whose only field is content with the key \"content\" and its text, " +
			"a log of several fields with a null key and the JSON object of its fields, every value a string",
		evidence: docConsume,
		emulator: `content log: key "content", value as sent; .json log: key none, value a JSON object of the stored fields, all strings; ` +
			`numbers: key none, value a JSON object of the stored fields, all strings`,
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
			sent := []byte(`{"` + tokenField + `":"` + token + `","msg":"` + c.name + `"}`)
			parts = append(parts, c.name+": "+readAs(t, tg, token, sent))
		}
		// What the SDK never sends: JSON numbers and booleans, which
		// SLS stores as text.
		token := tg.token()
		sent := []byte(`{"` + tokenField + `":"` + token + `","n":1,"ok":true}`)
		cl := tg.client(t, tg.accessKey())
		if o := outcome(cl.ProduceSync(tg.ctx(t), &kgo.Record{Topic: tg.logstore + ".json", Value: sent}).FirstErr()); !accepted(o) {
			parts = append(parts, "numbers: "+o)
		} else {
			parts = append(parts, "numbers: "+readAs(t, tg, token, sent))
		}
		return strings.Join(parts, "; "), true
	})
}

// readAs reads back the record holding token and says how it relates to
// the value sent.
func readAs(t *testing.T, tg *target, token string, sent []byte) string {
	t.Helper()
	got, err := tg.read.find(tg.ctx(t), token)
	if err != nil {
		t.Logf("read back: %v", err)
		return "not read back"
	}
	return describeRead(got, sent)
}

// describeRead says how a consumed record relates to the value sent: its
// key, and its value as the text sent or as a JSON object of the fields
// the sent object is stored as.
func describeRead(c consumed, sent []byte) string {
	key := "key none"
	if c.key != nil {
		key = "key " + strconv.Quote(string(c.key))
	}
	var obj map[string]any
	isObject := json.Unmarshal(c.value, &obj) == nil && obj != nil
	strs := true
	for _, v := range obj {
		_, ok := v.(string)
		strs = strs && ok
	}
	got, _ := jsonfields.Expand(c.value)
	want, _ := jsonfields.Expand(sent)
	var value string
	// A log of several fields is served as the JSON object of its
	// fields, which can be byte for byte what was sent: the key tells.
	switch {
	case c.key == nil && isObject && maps.Equal(got, want) && strs:
		value = "value a JSON object of the stored fields, all strings"
	case c.key == nil && isObject && maps.Equal(got, want):
		value = "value a JSON object of the stored fields, not all strings"
	case string(c.value) == string(sent):
		value = "value as sent"
	case isObject:
		value = "value a JSON object of " + strconv.Itoa(len(obj)) + " fields, not the stored ones"
	default:
		value = "value " + strconv.Itoa(len(c.value)) + " bytes, not the sent object"
	}
	return key + ", " + value
}
