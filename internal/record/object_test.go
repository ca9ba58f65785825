package record

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestObjectAgreesWithAppendRecord checks that an Object's AppendRecord
// writes, byte for byte, what AppendRecord writes for the same fields:
// duplicate keys, fields that replace a static field or the time field,
// escapes and invalid UTF-8, more fields than a keySet serves, and every
// Add method against the value it stands for.
func TestObjectAgreesWithAppendRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"msg", "level", "host", "time", "a", "b", "trace_id", "k\"q", "\xff", "", "a-rather-long-key-name", "n"}
	values := []string{"", "x", "hello \"world\"\n", "bad \xff utf-8", "ünïcode", "1.5", strings64()}
	statics := []*Static{
		nil,
		NewStatic(nil),
		NewStatic([]Field{{"host", "web-1"}, {"service", "api"}}),
		NewStaticTime([]Field{{"host", "web-1"}}, "time"),
		NewStaticTime(nil, "ts"),
	}
	times := []time.Time{{}, time.Date(2026, 12, 8, 1, 2, 3, 456789000, time.UTC)}
	var o Object
	for round := range 3000 {
		o.Reset()
		var fields []Field
		n := rng.IntN(8)
		if round%50 == 0 {
			n = maxSetFields + rng.IntN(20) // the map path
		}
		for range n {
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(4) == 0 {
				k += strconv.Itoa(rng.IntN(100)) // fewer duplicates
			}
			switch rng.IntN(6) {
			case 0:
				v := rng.Int64() - math.MaxInt64/2
				o.AddInt(k, v)
				fields = append(fields, Field{k, strconv.FormatInt(v, 10)})
			case 1:
				v := rng.Uint64()
				o.AddUint(k, v)
				fields = append(fields, Field{k, strconv.FormatUint(v, 10)})
			case 2:
				v := rng.IntN(2) == 0
				o.AddBool(k, v)
				fields = append(fields, Field{k, strconv.FormatBool(v)})
			case 3:
				v := []float64{rng.NormFloat64() * 1e6, math.NaN(), math.Inf(-1), 0.1}[rng.IntN(4)]
				o.AddFloat(k, v, 64)
				fields = append(fields, Field{k, strconv.FormatFloat(v, 'f', -1, 64)})
			case 4:
				// Added from another Object, as zapsls adds With's fields.
				var o2 Object
				v := values[rng.IntN(len(values))]
				o2.AddString(k, v)
				o2.AddString("b", v)
				o.AddObject(&o2)
				fields = append(fields, Field{k, v}, Field{"b", v})
			default:
				v := values[rng.IntN(len(values))]
				o.AddString(k, v)
				fields = append(fields, Field{k, v})
			}
		}
		st := statics[rng.IntN(len(statics))]
		ts := times[rng.IntN(len(times))]
		want := string(AppendRecord(nil, st, ts, fields))
		got := string(o.AppendRecord([]byte("prefix"), st, ts))
		if got != "prefix"+want {
			t.Fatalf("round %d, fields %q:\nObject       %s\nAppendRecord prefix%s", round, fields, got, want)
		}
		empty := false
		for _, f := range fields {
			empty = empty || f.Key == ""
		}
		if o.EmptyKey() != empty {
			t.Fatalf("EmptyKey = %v for %q", o.EmptyKey(), fields)
		}
		if c := o.Clone(); string(c.AppendRecord(nil, st, ts)) != want {
			t.Fatalf("a clone writes another record")
		}
	}
}

func strings64() string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return string(b)
}

// An Object writes its fields without allocating once its arrays have
// grown.
func TestObjectAllocations(t *testing.T) {
	var o Object
	st := NewStaticTime([]Field{{"host", "web-1"}}, "time")
	ts := time.Now()
	dst := make([]byte, 0, 1024)
	fill := func() {
		o.Reset()
		o.AddString("level", "INFO")
		o.AddString("msg", "request served")
		o.AddInt("status", 402)
		o.AddBool("ok", false)
		o.AddFloat("ratio", 0.25, 64)
		dst = o.AppendRecord(dst[:0], st, ts)
	}
	fill()
	if n := testing.AllocsPerRun(100, fill); n != 0 {
		t.Errorf("%v allocations per record, want 0", n)
	}
}

func BenchmarkObject(b *testing.B) {
	var o Object
	st := NewStaticTime(nil, "time")
	ts := time.Now()
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		o.Reset()
		o.AddString("level", "INFO")
		o.AddString("msg", "request served")
		o.AddString("method", "POST")
		o.AddString("path", "/api/orders")
		o.AddInt("status", 402)
		o.AddString("latency", "1.234ms")
		o.AddString("error", "card declined")
		dst = o.AppendRecord(dst[:0], st, ts)
	}
}
