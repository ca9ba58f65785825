package producer_test

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/slskafka/slskafka/internal/objectlog"
	"github.com/slskafka/slskafka/internal/record"
	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// A record an adapter encoded itself (objectlog, record.Object) is stored
// as Log stores the same fields: static fields and the time field, those
// it replaces, and duplicate keys, the last winning.
func TestObjectLogStoresWhatLogStores(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := testproducer.New(t, s, func(c *producer.Config) {
		c.StaticFields = []producer.Field{{Key: "host", Value: "web-1"}, {Key: "env", Value: "prod"}}
		c.TimeField = ""
	})
	ctx := context.Background()
	ts := time.Date(2026, 12, 8, 1, 2, 3, 4000, time.UTC)
	fields := []producer.Field{{Key: "msg", Value: "hello \"world\""}, {Key: "env", Value: "staging"}, {Key: "n", Value: "1"}, {Key: "n", Value: "2"}, {Key: "bad", Value: "\xff"}}
	var o record.Object
	for _, f := range fields {
		o.AddString(f.Key, f.Value)
	}
	if err := p.Log(ctx, "app", producer.Record{Time: ts, Fields: fields}); err != nil {
		t.Fatal(err)
	}
	if err := objectlog.Log(p, ctx, "app", ts, 0, &o); err != nil {
		t.Fatal(err)
	}
	logs, err := s.WaitLogs(ctx, "app", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(logs[0].Fields, logs[1].Fields) || !logs[0].Time.Equal(logs[1].Time) {
		t.Errorf("Log stored %v at %v, objectlog %v at %v", logs[0].Fields, logs[0].Time, logs[1].Fields, logs[1].Time)
	}
	if logs[1].Fields["env"] != "staging" || logs[1].Fields["n"] != "2" || logs[1].Fields["time"] == "" {
		t.Errorf("objectlog stored %v", logs[1].Fields)
	}
}

// objectlog refuses what Log refuses, with the same errors and counts.
func TestObjectLogRefusals(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := testproducer.New(t, s)
	ctx := context.Background()
	var empty record.Object
	empty.AddString("msg", "x")
	empty.AddString("", "no key")
	if err := objectlog.Log(p, ctx, "app", time.Time{}, 0, &empty); !errors.Is(err, producer.ErrInvalid) {
		t.Errorf("an empty key: %v, want ErrInvalid", err)
	}
	if n := p.Stats().Invalid; n != 1 {
		t.Errorf("Stats().Invalid = %d, want 1", n)
	}
	var o record.Object
	o.AddString("msg", "x")
	if err := objectlog.Log(p, ctx, "no such logstore!", time.Time{}, 0, &o); !errors.Is(err, producer.ErrInvalid) {
		t.Errorf("an invalid logstore: %v, want ErrInvalid", err)
	}
	if err := objectlog.Log((*producer.Producer)(nil), ctx, "app", time.Time{}, 0, &o); !errors.Is(err, producer.ErrInvalid) {
		t.Errorf("a nil producer: %v, want ErrInvalid", err)
	}
	var big record.Object
	big.AddString("msg", string(make([]byte, 2<<20)))
	if err := objectlog.Log(p, ctx, "app", time.Time{}, 0, &big); !errors.Is(err, producer.ErrRecordTooLarge) {
		t.Errorf("an oversize record: %v, want ErrRecordTooLarge", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := objectlog.Log(p, ctx, "app", time.Time{}, 0, &o); !errors.Is(err, producer.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// With a spool and memory full during an outage, such records go to disk
// (spill) and are delivered once the endpoint is back.
func TestObjectLogSpills(t *testing.T) {
	const n = 3000
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}, InMemory: true})
	out := testproducer.NewOutage(s)
	p := testproducer.New(t, s, func(c *producer.Config) {
		c.DialContext = out.DialContext
		c.SpoolDir = t.TempDir()
		c.MaxBufferedBytes = 64 << 10
		c.ShedAt = -1
	})
	ctx := context.Background()
	var o record.Object
	for i := range n {
		o.Reset()
		o.AddString("msg", "spilled")
		o.AddInt("i", int64(i))
		if err := objectlog.Log(p, ctx, "app", time.Time{}, 0, &o); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	// The records take about three times MaxBufferedBytes: accepted during
	// the outage, most are on disk.
	if st := p.Stats(); st.Delivered != 0 || st.BufferedBytes > 64<<10 {
		t.Fatalf("during the outage: %+v", st)
	}
	out.Up()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Close(cctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range s.Logs("app") {
		if l.Fields["msg"] != "spilled" {
			t.Fatalf("stored %v", l.Fields)
		}
		seen[l.Fields["i"]] = true
	}
	for i := range n {
		if !seen[strconv.Itoa(i)] {
			t.Fatalf("record %d was not stored (%d of %d unique ids)", i, len(seen), n)
		}
	}
}
