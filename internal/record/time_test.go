package record

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestAppendTime checks AppendTime against time.Format with TimeLayout,
// over edge cases and random times in RFC 3339's years, in UTC and in
// other zones.
func TestAppendTime(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	west := time.FixedZone("", -(9*3600 + 30*60))
	times := []time.Time{
		time.Unix(0, 0),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 1, shanghai), // the previous year in UTC
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 12, 7, 16, 30, 28, 120000000, west),
	}
	r := rand.New(rand.NewPCG(1, 2))
	lo, hi := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for range 10000 {
		times = append(times, time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)).In(shanghai))
	}
	for _, tm := range times {
		want := tm.UTC().Format(TimeLayout)
		if got := string(AppendTime([]byte("x"), tm)); got != "x"+want {
			t.Fatalf("AppendTime(%v) = %q, want %q", tm, got, "x"+want)
		}
	}
	// Outside RFC 3339's years: what time.Format writes.
	for _, tm := range []time.Time{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := string(AppendTime(nil, tm)), tm.Format(TimeLayout); got != want {
			t.Errorf("AppendTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

// TestAppendTimeSortsAsText checks the reason for nine fixed digits: the
// text of a later time sorts after the text of an earlier one.
func TestAppendTimeSortsAsText(t *testing.T) {
	base := time.Date(2026, 12, 7, 16, 30, 28, 0, time.UTC)
	prev := ""
	for _, ns := range []int{0, 1, 10, 100, 120000000, 999999999} {
		s := string(AppendTime(nil, base.Add(time.Duration(ns))))
		if s <= prev {
			t.Errorf("%q sorts before the earlier %q", s, prev)
		}
		prev = s
	}
}

func TestAppendRecordTime(t *testing.T) {
	tm := time.Date(2026, 12, 7, 16, 30, 28, 120000000, time.UTC)
	const ts = `"time":"2026-12-07T16:30:28.120000000Z"`
	for _, tc := range []struct {
		name   string
		static []Field
		key    string
		t      time.Time
		fields []myField
		want   string
	}{
		{"after the static fields", []Field{{"host", "a"}}, "time", tm, []myField{{"msg", "m"}}, `{"host":"a",` + ts + `,"msg":"m"}`},
		{"no static fields", nil, "time", tm, []myField{{"msg", "m"}}, `{` + ts + `,"msg":"m"}`},
		{"no fields", nil, "time", tm, nil, `{` + ts + `}`},
		{"a record's field replaces it", nil, "time", tm, []myField{{"msg", "m"}, {"time", "mine"}}, `{"msg":"m","time":"mine"}`},
		{"it replaces a static field", []Field{{"time", "static"}, {"host", "a"}}, "time", tm, []myField{{"msg", "m"}}, `{"host":"a",` + ts + `,"msg":"m"}`},
		{"a zero time writes none", nil, "time", time.Time{}, []myField{{"msg", "m"}}, `{"msg":"m"}`},
		{"no time key", []Field{{"host", "a"}}, "", tm, []myField{{"msg", "m"}}, `{"host":"a","msg":"m"}`},
		{"a key to escape", nil, `t"s`, tm, nil, `{"t\"s":"2026-12-07T16:30:28.120000000Z"}`},
		{"many fields, replaced", nil, "time", tm, []myField{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}, {"time", "mine"}}, `{"a":"1","b":"2","c":"3","d":"4","e":"5","time":"mine"}`},
		{"many fields", nil, "time", tm, []myField{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}}, `{` + ts + `,"a":"1","b":"2","c":"3","d":"4","e":"5"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendRecord(nil, NewStaticTime(tc.static, tc.key), tc.t, tc.fields)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// Over maxSetFields fields, the map path keeps the same rules.
	var many []myField
	for i := range maxSetFields + 1 {
		many = append(many, myField{"k" + strconv.Itoa(i), "v"})
	}
	m := decode(t, AppendRecord(nil, NewStaticTime([]Field{{"host", "a"}}, "time"), tm, many))
	if m["time"] != "2026-12-07T16:30:28.120000000Z" || m["host"] != "a" || len(m) != maxSetFields+3 {
		t.Errorf("%d fields: time %q, host %q, %d keys", len(many), m["time"], m["host"], len(m))
	}
	many = append(many, myField{"time", "mine"})
	if m := decode(t, AppendRecord(nil, NewStaticTime(nil, "time"), tm, many)); m["time"] != "mine" {
		t.Errorf("%d fields: time %q, want the record's", len(many), m["time"])
	}
}

func TestAppendRecordAllocs(t *testing.T) {
	fields := []myField{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}, {"f", "6"}}
	st := NewStaticTime([]Field{{"host", "web-1"}}, "time")
	tm := time.Now()
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRecord(buf[:0], st, tm, fields) }); n != 0 {
		t.Errorf("allocs = %v, want 0", n)
	}
}

func BenchmarkAppendTime(b *testing.B) {
	tm := time.Now()
	buf := make([]byte, 0, 64)
	b.Run("AppendTime", func(b *testing.B) {
		for b.Loop() {
			buf = AppendTime(buf[:0], tm)
		}
	})
	b.Run("cached second", func(b *testing.B) {
		st := NewStaticTime(nil, "time")
		for b.Loop() {
			buf = st.appendTime(buf[:0], tm)
		}
	})
	b.Run("time.AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = tm.UTC().AppendFormat(buf[:0], TimeLayout)
		}
	})
}

// TestStaticTimeCache checks that reusing the text of the previous second
// writes what AppendTime writes, for times that stay in a second, move
// on, go back, and leave RFC 3339's years, from goroutines at once.
func TestStaticTimeCache(t *testing.T) {
	st := NewStaticTime(nil, "t")
	base := time.Date(2026, 12, 7, 16, 30, 28, 0, time.UTC)
	offsets := []time.Duration{0, 1, 999999999, time.Second, 5, -time.Second, 24 * time.Hour, 0, 1 << 62}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				tm := base.Add(offsets[(i+g)%len(offsets)])
				want := `{"t":"` + string(AppendTime(nil, tm)) + `"}`
				if got := string(AppendRecord[Field](nil, st, tm, nil)); got != want {
					t.Errorf("%v: got %s, want %s", tm, got, want)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
