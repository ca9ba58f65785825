package fieldbuf

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/slskafka/slskafka/internal/race"
	"github.com/slskafka/slskafka/internal/record"
)

func TestBuffer(t *testing.T) {
	var b Buffer[record.Field]
	b.Add("plain", "v")
	k := b.Key([]byte("a.b."), "c")
	start := len(b.Buf)
	b.Buf = append(b.Buf, "123"...)
	b.AddSince(k, start)
	b.AddSince("empty", len(b.Buf))
	if k := b.Key(nil, "bare"); k != "bare" || len(b.Buf) != len("a.b.c123") {
		t.Errorf("Key without prefix = %q, appended %q", k, b.Buf)
	}
	b.AddTrace(trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0: 0xab, 15: 0x01},
		SpanID:  trace.SpanID{0: 0xcd, 7: 0x02},
	}), "trace_id", "")
	want := []record.Field{fld("plain", "v"), fld("a.b.c", "123"), fld("empty", ""),
		fld("trace_id", "ab000000000000000000000000000001")}
	if fmt.Sprint(b.Fields) != fmt.Sprint(want) {
		t.Errorf("fields %v, want %v", b.Fields, want)
	}

	// The copies stay as they were when the buffer is reused.
	owned := AppendOwned([]record.Field{fld("kept", "k")}, b.Fields)
	if !b.Reset() || len(b.Fields) != 0 || len(b.Buf) != 0 {
		t.Fatalf("Reset: %v %q", b.Fields, b.Buf)
	}
	b.Buf = append(b.Buf, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"...)
	if fmt.Sprint(owned) != fmt.Sprint(append([]record.Field{fld("kept", "k")}, want...)) {
		t.Errorf("owned copies %v changed with the buffer", owned)
	}

	// Too big to pool: Reset leaves it to the collector.
	b.Buf = make([]byte, 0, MaxPooledBytes+1)
	if b.Reset() {
		t.Error("Reset kept an oversized buffer")
	}
	b = Buffer[record.Field]{Fields: make([]record.Field, 0, MaxPooledFields+1)}
	if b.Reset() {
		t.Error("Reset kept an oversized field slice")
	}
}

func TestAppendOwnedAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are meaningless under the race detector; run without -race")
	}
	fields := []record.Field{fld("a", "1"), fld("b", "2"), fld("c", "3")}
	dst := make([]record.Field, 0, len(fields))
	if n := testing.AllocsPerRun(100, func() { AppendOwned(dst[:0], fields) }); n != 1 {
		t.Errorf("AppendOwned allocates %v times, want once (the shared string)", n)
	}
}

func fld(key, value string) record.Field { return record.Field{Key: key, Value: value} }
