package conformance

import (
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/producer"
)

func TestJSONTopic(t *testing.T) {
	check(t, assumption{
		what:     `a JSON object written to the topic "<logstore>.json" is stored one field per key`,
		evidence: docUpload,
		emulator: "level=info, msg=hello",
		sdk:      "each key of the SDK's flat JSON object stored as a field (Format Expanded, the default)",
	}, func(t *testing.T, tg *target) (string, bool) {
		token := tg.token()
		p := tg.producer(t, nil)
		if o := outcome(p.LogSync(tg.ctx(t), tg.logstore, record(token, producer.Field{Key: "level", Value: "info"}, producer.Field{Key: "msg", Value: "hello"}))); !accepted(o) {
			return o, false
		}
		st, o := readFields(t, tg, token)
		return o, st.fields["level"] == "info" && st.fields["msg"] == "hello" && st.fields[tokenField] == token
	})
}

func TestContentField(t *testing.T) {
	check(t, assumption{
		what:     `a value written to the topic "<logstore>" is stored whole in the field content`,
		evidence: docUpload,
		emulator: `content={"conformance_id":"<id>","msg":"hello"}`,
		sdk:      "the JSON text in content (Format Content)",
	}, func(t *testing.T, tg *target) (string, bool) {
		token := tg.token()
		p := tg.producer(t, func(c *producer.Config) { c.Format = producer.Content })
		if o := outcome(p.LogSync(tg.ctx(t), tg.logstore, record(token, producer.Field{Key: "msg", Value: "hello"}))); !accepted(o) {
			return o, false
		}
		st, o := readFields(t, tg, token)
		return o, st.fields["content"] == `{"`+tokenField+`":"`+token+`","msg":"hello"}`
	})
}

func TestJSONHeader(t *testing.T) {
	check(t, assumption{
		what:     `a JSON object written to "<logstore>" with the record header data-parse-format: json is stored one field per key`,
		evidence: docUpload,
		emulator: "via=header",
	}, func(t *testing.T, tg *target) (string, bool) {
		token := tg.token()
		r := &kgo.Record{Topic: tg.logstore, Value: []byte(`{"` + tokenField + `":"` + token + `","via":"header"}`),
			Headers: []kgo.RecordHeader{{Key: "data-parse-format", Value: []byte("json")}}}
		return rawFields(t, tg, r, token), true
	})
}

func TestJSONNested(t *testing.T) {
	check(t, assumption{
		what:     "nested objects are expanded one level: an object value is stored as its JSON text",
		evidence: assumed,
		emulator: `msg=nested, req={"method":"GET","headers":{"accept":"*/*"}}`,
	}, func(t *testing.T, tg *target) (string, bool) {
		token := tg.token()
		return rawFields(t, tg, jsonRecord(tg, `{"`+tokenField+`":"`+token+`","msg":"nested","req":{"method":"GET","headers":{"accept":"*/*"}}}`), token), true
	})
}

func TestJSONArrays(t *testing.T) {
	check(t, assumption{
		what:     "an array value is stored as its JSON text",
		evidence: assumed,
		emulator: `matrix=[[1,2],[3]], objs=[{"k":"v"}], tags=["a","b"]`,
	}, func(t *testing.T, tg *target) (string, bool) {
		token := tg.token()
		return rawFields(t, tg, jsonRecord(tg, `{"`+tokenField+`":"`+token+`","tags":["a","b"],"matrix":[[1,2],[3]],"objs":[{"k":"v"}]}`), token), true
	})
}

func TestJSONNumbers(t *testing.T) {
	check(t, assumption{
		what:     "numbers, booleans and null keep their JSON spelling (no float conversion, no rounding)",
		evidence: assumed,
		emulator: "big=12345678901234567890, exp=1e3, float=3.50, int=42, neg=-7, no=false, nothing=null, yes=true",
	}, func(t *testing.T, tg *target) (string, bool) {
		token := tg.token()
		v := `{"` + tokenField + `":"` + token + `","int":42,"neg":-7,"float":3.50,"exp":1e3,"big":12345678901234567890,"yes":true,"no":false,"nothing":null}`
		return rawFields(t, tg, jsonRecord(tg, v), token), true
	})
}

func TestJSONNonObject(t *testing.T) {
	check(t, assumption{
		what:     `a value on "<logstore>.json" that is not a JSON object is stored whole in content`,
		evidence: assumed,
		emulator: `string: content="<id> text"; array: content=["<id>",1]; number: content=<n>; not JSON: content=<id> not json`,
	}, func(t *testing.T, tg *target) (string, bool) {
		number := digits()
		var parts []string
		for _, v := range []struct{ name, value, token string }{
			{"string", `"%s text"`, tg.token()},
			{"array", `["%s",1]`, tg.token()},
			{"number", `%s`, number},
			{"not JSON", `%s not json`, tg.token()},
		} {
			value := strings.Replace(v.value, "%s", v.token, 1)
			got := rawFields(t, tg, jsonRecord(tg, value), v.token)
			if v.token == number {
				got = strings.ReplaceAll(got, "<id>", "<n>")
			}
			parts = append(parts, v.name+": "+got)
		}
		return strings.Join(parts, "; "), true
	})
}

// jsonRecord is a record for the "<logstore>.json" topic.
func jsonRecord(tg *target, value string) *kgo.Record {
	return &kgo.Record{Topic: tg.logstore + ".json", Value: []byte(value)}
}

// rawFields writes r with a plain franz-go client (the SDK sends only flat
// objects of strings) and returns the fields stored for token, rendered,
// or what went wrong.
func rawFields(t *testing.T, tg *target, r *kgo.Record, token string) string {
	t.Helper()
	cl := tg.client(t, tg.accessKey())
	if o := outcome(cl.ProduceSync(tg.ctx(t), r).FirstErr()); !accepted(o) {
		return o
	}
	_, o := readFields(t, tg, token)
	return o
}

// readFields reads back the log holding token and renders its fields, or
// says it could not.
func readFields(t *testing.T, tg *target, token string) (stored, string) {
	t.Helper()
	st, err := tg.stored(tg.ctx(t), token)
	if err != nil {
		t.Logf("read back: %v", err)
		return st, "accepted, not read back"
	}
	return st, render(st.fields, token)
}

// digits is an 18-digit number found nowhere else, to find a numeric
// value by.
func digits() string { return strconv.FormatInt(1e17+mrand.Int64N(9e17), 10) }
