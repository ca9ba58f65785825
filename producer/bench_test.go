package producer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// benchRecord is a typical access-log line: 6 string fields, about 300
// bytes of JSON once the static fields are added.
func benchRecord() producer.Record {
	return producer.Record{Fields: []producer.Field{
		{Key: "level", Value: "INFO"},
		{Key: "msg", Value: "request served to client after authorization and rate limiting"},
		{Key: "method", Value: "GET"},
		{Key: "path", Value: "/api/v1/orders/1234567/items?page=2&size=50"},
		{Key: "status", Value: "200"},
		{Key: "user_agent", Value: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"},
	}}
}

// backpressure makes every Log wait for space as long as delivery takes:
// the benchmarks offer records faster than the emulator takes them, and
// measure Log's cost with the buffer pushing back, every record accepted,
// not records refused after MaxBlock or shed at 80% full.
func backpressure(c *producer.Config) {
	c.MaxBlock = time.Hour
	c.ShedAt = -1
}

func benchServer(b testing.TB) *slstest.Server {
	return slstest.New(b, slstest.Config{Logstores: map[string]int{"app": 4}, Discard: true})
}

// connected returns a producer with the default config (the time field
// included) on a fresh emulator in Discard mode that has delivered r once,
// so that connecting is not measured.
func connected(t testing.TB, r producer.Record) *producer.Producer {
	p := newProducer(t, benchServer(t), func(c *producer.Config) { backpressure(c); c.TimeField = "" })
	if err := p.LogSync(context.Background(), "app", r); err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkLog measures the cost of one Log call (encode, buffer, hand to
// franz-go) with delivery running against the emulator.
func BenchmarkLog(b *testing.B) {
	r := benchRecord()
	p := connected(b, r)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := p.Log(ctx, "app", r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkThroughput ships records to the emulator over TLS and SASL with
// LZ4 (or the codec SLSKAFKA_BENCH_CODEC names) through the SDK and, next
// to it, through a raw franz-go client with the same settings
// (DefaultMaxInflight produce requests in flight, the same linger, codec
// and partitioner) sending the same bytes already encoded. The emulator
// runs in another process, in Discard mode, so that cpu-ns/op is the
// client's CPU time per record (every goroutine: encoding, batching,
// compression, TLS), which the machine's other load does not inflate.
// ns/op is wall time per record, delivery included (records/s =
// 1e9/ns/op). bench/throughput.sh turns the pairs into ratios.
func BenchmarkThroughput(b *testing.B) {
	addr := startEmulatorProcess(b, 0)
	r := benchRecord()
	b.Run("sdk", func(b *testing.B) { sdkThroughput(b, addr, r) })
	b.Run("franz-go", func(b *testing.B) { rawThroughput(b, addr, r, rawShared) })
	b.Run("franz-go-copy", func(b *testing.B) { rawThroughput(b, addr, r, rawCopy) })
	b.Run("franz-go-json", func(b *testing.B) { rawThroughput(b, addr, r, rawJSON) })
	b.Run("franz-go-append", func(b *testing.B) { rawThroughput(b, addr, r, rawAppend) })
}

// sdkThroughput logs b.N records through a producer with its defaults
// (but the codec benchCodecEnv selects, and no time field: the raw client
// sends the same bytes),
// then flushes: the timer and the CPU meter cover the delivery of every
// record.
func sdkThroughput(b *testing.B, addr emulatorAddr, r producer.Record) {
	p, err := producer.New(addr.config(func(c *producer.Config) { withBenchCodec(b)(c); backpressure(c) }))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	if err := p.LogSync(ctx, "app", r); err != nil { // connected
		b.Fatal(err)
	}
	b.SetBytes(int64(encodedLen(r)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchcpu.Start()
	for range b.N {
		if err := p.Log(ctx, "app", r); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu.Report(b)
}

// How the raw client gets each record's value.
const (
	rawShared = iota // one encoded slice shared by every record
	rawCopy          // a fresh copy of it per record
	rawJSON          // encoding/json of the fields per record, as code without the SDK does
	rawAppend        // appendJSON of the fields per record into a reused buffer, then one copy
)

// rawThroughput produces with a bare franz-go client configured as the
// producer configures its own. With rawShared every record shares one
// encoded slice, the baseline ("pre-encoded bytes"); with rawCopy
// each record gets its own copy, as any real producer's records do; with
// rawJSON each record is encoded from its fields by encoding/json; with
// rawAppend by appendJSON, the encoder a skilled user would write, into a
// buffer reused for every record, then copied (franz-go keeps the slice
// until the promise, so each record needs bytes of its own).
func rawThroughput(b *testing.B, addr emulatorAddr, r producer.Record, mode int) {
	cl, value := rawClient(b, addr, r)
	ctx := context.Background()
	var failed atomic.Int64
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
		}
	}
	fields := make(map[string]string, len(r.Fields))
	var buf []byte
	if got := appendJSON(nil, r.Fields); !bytes.Equal(got, value) {
		b.Fatalf("appendJSON = %s, want the bytes the others send, %s", got, value)
	}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchcpu.Start()
	for range b.N {
		v := value
		switch mode {
		case rawCopy:
			v = append([]byte(nil), value...)
		case rawJSON:
			for _, f := range r.Fields {
				fields[f.Key] = f.Value
			}
			v, _ = json.Marshal(fields)
		case rawAppend:
			buf = appendJSON(buf[:0], r.Fields)
			v = append(make([]byte, 0, len(buf)), buf...)
		}
		cl.Produce(ctx, &kgo.Record{Topic: "app.json", Value: v}, promise)
	}
	if err := cl.Flush(ctx); err != nil || failed.Load() > 0 {
		b.Fatal(err, failed.Load())
	}
	b.StopTimer()
	cpu.Report(b)
}

// rawClient returns a franz-go client with the producer's settings,
// connected to the emulator at addr, and the encoded record.
func rawClient(b *testing.B, addr emulatorAddr, r producer.Record) (*kgo.Client, []byte) {
	_, rawCodec := benchCodec(b)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr.Endpoint),
		kgo.DialTLSConfig(addr.config(nil).TLS),
		kgo.SASL(plain.Auth{User: addr.Project, Pass: addr.ID + "#" + addr.Secret}.AsMechanism()),
		kgo.MaxVersions(kversion.V2_1_0()),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerBatchCompression(rawCodec),
		kgo.ProducerLinger(producer.DefaultLinger),
		kgo.MaxProduceRequestsInflightPerBroker(producer.DefaultMaxInflight),
		kgo.ProducerBatchMaxBytes(producer.DefaultMaxRecordBytes+1024),
		kgo.MaxBufferedBytes(producer.DefaultMaxBufferedBytes),
		kgo.MaxBufferedRecords(1<<30),
	)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	value := encoded(r)
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "app.json", Value: value}).FirstErr(); err != nil {
		b.Fatal(err)
	}
	return cl, value
}

// BenchmarkThroughputParallel is BenchmarkThroughput with many goroutines
// logging at once (4 per CPU), as a server's request handlers do. The raw
// client gives each record its own copy of the encoded bytes.
func BenchmarkThroughputParallel(b *testing.B) {
	addr := startEmulatorProcess(b, 0)
	r := benchRecord()
	b.Run("sdk", func(b *testing.B) {
		p, err := producer.New(addr.config(func(c *producer.Config) { withBenchCodec(b)(c); backpressure(c) }))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close(context.Background())
		ctx := context.Background()
		if err := p.LogSync(ctx, "app", r); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(encodedLen(r)))
		b.ReportAllocs()
		b.SetParallelism(4)
		b.ResetTimer()
		cpu := benchcpu.Start()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := p.Log(ctx, "app", r); err != nil {
					b.Error(err)
					return
				}
			}
		})
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu.Report(b)
	})
	b.Run("franz-go-copy", func(b *testing.B) {
		cl, value := rawClient(b, addr, r)
		ctx := context.Background()
		b.SetParallelism(4)
		b.ResetTimer()
		cpu := benchcpu.Start()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				cl.Produce(ctx, &kgo.Record{Topic: "app.json", Value: append([]byte(nil), value...)}, nil)
			}
		})
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu.Report(b)
	})
}

func encoded(r producer.Record) []byte {
	b := []byte{'{'}
	for i, f := range r.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.Key)
		b = append(b, ':')
		b = strconv.AppendQuote(b, f.Value)
	}
	return append(b, '}')
}

func encodedLen(r producer.Record) int { return len(encoded(r)) }

// appendJSON appends fields as one flat JSON object, as code that feeds
// franz-go directly and cares for its cost would: no reflection, no map, no
// allocation, strings escaped by a table lookup per byte and invalid UTF-8
// replaced, as the SDK does, but no check for duplicate keys (such code
// knows its fields) and no static or time field (the SDK in
// BenchmarkThroughput writes none either).
func appendJSON(dst []byte, fields []producer.Field) []byte {
	dst = append(dst, '{')
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, f.Key)
		dst = append(dst, ':')
		dst = appendJSONString(dst, f.Value)
	}
	return append(dst, '}')
}

// jsonPlain[c] says that byte c stands for itself inside a JSON string.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\\ufffd"...)
			start = i + n
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// TestAppendJSON checks that BenchmarkThroughput's hand-written baseline
// writes valid JSON that decodes to its fields, so that it is not cheap by
// being wrong.
func TestAppendJSON(t *testing.T) {
	fields := []producer.Field{
		{Key: "plain", Value: "request served"},
		{Key: "quote\"back\\slash", Value: "line\nbreak\r\ttab\x01\x1f"},
		{Key: "utf8", Value: "héllo, 世界 🙂"},
		{Key: "invalid", Value: "a\xffb\xc3"},
		{Key: "empty", Value: ""},
	}
	var got map[string]string
	if err := json.Unmarshal(appendJSON(nil, fields), &got); err != nil {
		t.Fatalf("appendJSON wrote invalid JSON: %v", err)
	}
	want := map[string]string{
		"plain": "request served", "quote\"back\\slash": "line\nbreak\r\ttab\x01\x1f",
		"utf8": "héllo, 世界 🙂", "invalid": "a\uFFFDb\uFFFD", "empty": "",
	}
	if !maps.Equal(got, want) {
		t.Errorf("appendJSON decodes to %q, want %q", got, want)
	}
}
