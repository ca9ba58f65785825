package producer_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"

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

func benchServer(b testing.TB) *slstest.Server {
	return slstest.New(b, slstest.Config{Logstores: map[string]int{"app": 4}, Discard: true})
}

// connected returns a producer on a fresh emulator in Discard mode that has
// delivered r once, so that connecting is not measured.
func connected(t testing.TB, r producer.Record) *producer.Producer {
	p := newProducer(t, benchServer(t), nil)
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
// LZ4 through the SDK and, next to it, through a raw franz-go client with
// the same settings sending the same bytes already encoded. ns/op is per
// record, delivery included; bench/throughput.sh turns the pair into a
// ratio.
func BenchmarkThroughput(b *testing.B) {
	r := benchRecord()
	b.Run("sdk", func(b *testing.B) {
		p := connected(b, r)
		ctx := context.Background()
		b.SetBytes(int64(encodedLen(r)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := p.Log(ctx, "app", r); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("franz-go", func(b *testing.B) { rawThroughput(b, r, rawShared) })
	b.Run("franz-go-copy", func(b *testing.B) { rawThroughput(b, r, rawCopy) })
	b.Run("franz-go-json", func(b *testing.B) { rawThroughput(b, r, rawJSON) })
}

// How the raw client gets each record's value.
const (
	rawShared = iota // one encoded slice shared by every record
	rawCopy          // a fresh copy of it per record
	rawJSON          // encoding/json of the fields per record, as code without the SDK does
)

// rawThroughput produces with a bare franz-go client configured as the
// producer configures its own. With rawCopy each record gets its own copy
// of the encoded bytes, as any real producer's records do; with rawShared
// every record shares one slice that stays hot in every core's cache; with
// rawJSON each record is encoded from its fields by encoding/json.
func rawThroughput(b *testing.B, r producer.Record, mode int) {
	cl, value, promise, check := rawClient(b, r)
	ctx := context.Background()
	fields := make(map[string]string, len(r.Fields))
	for b.Loop() {
		v := value
		switch mode {
		case rawCopy:
			v = append([]byte(nil), value...)
		case rawJSON:
			for _, f := range r.Fields {
				fields[f.Key] = f.Value
			}
			v, _ = json.Marshal(fields)
		}
		cl.Produce(ctx, &kgo.Record{Topic: "app.json", Value: v}, promise)
	}
	check()
}

// rawClient returns a franz-go client with the producer's settings,
// connected to a fresh emulator, the encoded record, a promise, and a check
// that flushes and fails the benchmark if a record failed. The timer starts
// when it returns.
func rawClient(b *testing.B, r producer.Record) (*kgo.Client, []byte, func(*kgo.Record, error), func()) {
	s := benchServer(b)
	cred, _ := s.Credentials().Credential(context.Background())
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.Endpoint().String()),
		kgo.DialTLSConfig(s.TLSConfig()),
		kgo.SASL(plain.Auth{User: s.Project(), Pass: cred.Password()}.AsMechanism()),
		kgo.MaxVersions(kversion.V2_1_0()),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerLinger(producer.DefaultLinger),
		kgo.ProducerBatchMaxBytes(producer.DefaultMaxRecordBytes+1024),
		kgo.MaxBufferedBytes(producer.DefaultMaxBufferedBytes),
		kgo.MaxBufferedRecords(1<<30),
	)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	value := encoded(r)
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "app.json", Value: value}).FirstErr(); err != nil {
		b.Fatal(err)
	}
	var failed atomic.Int64
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
		}
	}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	b.ResetTimer()
	return cl, value, promise, func() {
		if err := cl.Flush(ctx); err != nil || failed.Load() > 0 {
			b.Fatal(err, failed.Load())
		}
	}
}

// BenchmarkThroughputParallel is BenchmarkThroughput with many goroutines
// logging at once (4 per CPU), as a server's request handlers do. The raw
// client gives each record its own copy of the encoded bytes.
func BenchmarkThroughputParallel(b *testing.B) {
	r := benchRecord()
	b.Run("sdk", func(b *testing.B) {
		p := connected(b, r)
		ctx := context.Background()
		b.SetBytes(int64(encodedLen(r)))
		b.ReportAllocs()
		b.SetParallelism(4)
		b.ResetTimer()
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
	})
	b.Run("franz-go-copy", func(b *testing.B) {
		cl, value, promise, check := rawClient(b, r)
		ctx := context.Background()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				cl.Produce(ctx, &kgo.Record{Topic: "app.json", Value: append([]byte(nil), value...)}, promise)
			}
		})
		check()
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
