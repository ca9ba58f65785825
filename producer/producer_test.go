package producer_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) {
	if os.Getenv(emulatorChildEnv) != "" {
		runEmulatorChild()
	}
	if os.Getenv(spoolChildEnv) != "" {
		runSpoolChild()
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		// Every record of every test lived a life transitions allows.
		if s := producer.IllegalTransition(); s != "" {
			fmt.Fprintln(os.Stderr, "illegal state transition:", s)
			code = 1
		}
		os.Exit(code)
	}))
}

// newProducer returns a producer connected to s; mutate adjusts the config.
func newProducer(t testing.TB, s *slstest.Server, mutate func(*producer.Config)) *producer.Producer {
	t.Helper()
	return testproducer.New(t, s, mutate)
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func rec(kv ...string) producer.Record {
	var r producer.Record
	for i := 0; i+1 < len(kv); i += 2 {
		r.Fields = append(r.Fields, producer.Field{Key: kv[i], Value: kv[i+1]})
	}
	return r
}

// failures collects OnError reports.
type failures struct {
	mu  sync.Mutex
	got []producer.Failure
	ch  chan producer.Failure
}

func newFailures() *failures { return &failures{ch: make(chan producer.Failure, 100)} }

func (f *failures) on(x producer.Failure) {
	f.mu.Lock()
	f.got = append(f.got, x)
	f.mu.Unlock()
	select {
	case f.ch <- x:
	default:
	}
}

func (f *failures) all() []producer.Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]producer.Failure(nil), f.got...)
}

func TestLogDeliversExpandedJSON(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
	p := newProducer(t, s, func(c *producer.Config) {
		c.StaticFields = []producer.Field{{Key: "host", Value: "web-1"}, {Key: "service", Value: "api"}}
		c.TimeField = "" // the default
	})
	ts := time.Date(2026, 11, 25, 8, 0, 0, 123_000_000, time.UTC)
	r := rec("level", "INFO", "msg", "hello \"sls\"\n", "service", "checkout")
	r.Time = ts
	if err := p.LogSync(timeout(t, 10*time.Second), "app", r); err != nil {
		t.Fatal(err)
	}
	logs := s.Logs("app")
	if len(logs) != 1 {
		t.Fatalf("stored %d logs, want 1", len(logs))
	}
	want := map[string]string{"host": "web-1", "service": "checkout", "level": "INFO", "msg": "hello \"sls\"\n", "time": "2026-11-25T08:00:00.123000000Z"}
	if fmt.Sprint(logs[0].Fields) != fmt.Sprint(want) {
		t.Errorf("fields = %v, want %v", logs[0].Fields, want)
	}
	if want := ts.Truncate(time.Second); !logs[0].Time.Equal(want) { // __time__ is whole seconds
		t.Errorf("log time = %v, want %v", logs[0].Time, want)
	}
}

func TestLogContentFormat(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) { c.Format = producer.Content })
	if err := p.LogSync(timeout(t, 10*time.Second), "app", rec("msg", "hi")); err != nil {
		t.Fatal(err)
	}
	logs := s.Logs("app")
	if len(logs) != 1 || logs[0].Fields["content"] != `{"msg":"hi"}` || len(logs[0].Fields) != 1 {
		t.Fatalf("logs = %+v, want one log with content {\"msg\":\"hi\"}", logs)
	}
}

func TestRecordsAreNotRetained(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, nil)
	r := rec("i", "")
	for i := range 100 {
		r.Fields[0].Value = strconv.Itoa(i) // reuse the same slice
		if err := p.Log(context.Background(), "app", r); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(timeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range s.Logs("app") {
		seen[l.Fields["i"]] = true
	}
	if len(seen) != 100 {
		t.Errorf("distinct values stored = %d, want 100", len(seen))
	}
}

// produceWrites records when produce requests were written.
type produceWrites struct {
	mu sync.Mutex
	at []time.Time
}

func (w *produceWrites) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == 0 && err == nil {
		w.mu.Lock()
		w.at = append(w.at, time.Now())
		w.mu.Unlock()
	}
}

// The two errors SLS documents as "wait 1 s and retry" are retried and
// delivered. franz-go retries a partition at its next metadata update,
// which MetadataMinAge (RetryBackoff) spaces from the previous one: the
// first retry after a calm spell may come early, the others come a second
// apart.
func TestSeedRetryErrorsAreRetriedOneSecondApart(t *testing.T) {
	for _, f := range []slstest.Fault{slstest.StorageError, slstest.NetworkError} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
			fl := newFailures()
			writes := &produceWrites{}
			p := newProducer(t, s, func(c *producer.Config) {
				c.OnError = fl.on
				c.Hooks = []kgo.Hook{writes}
			})
			if err := p.LogSync(timeout(t, 10*time.Second), "app", rec("msg", "warm")); err != nil {
				t.Fatal(err)
			}
			s.FailNext("app", f, 3)
			if err := p.LogSync(timeout(t, 20*time.Second), "app", rec("msg", "retried")); err != nil {
				t.Fatal(err)
			}
			writes.mu.Lock()
			at := writes.at[1:] // after the warm-up
			writes.mu.Unlock()
			if len(at) != 4 {
				t.Fatalf("%d produce requests after the warm-up, want 4 (3 failed, 1 delivered)", len(at))
			}
			for i := 2; i < len(at); i++ {
				if gap := at[i].Sub(at[i-1]); gap < time.Second*9/10 {
					t.Errorf("retry %d came %v after the previous one, want about 1 s (MetadataMinAge)", i, gap)
				}
			}
			if got := s.Stats().FaultsServed; got != 3 {
				t.Errorf("faults served = %d, want 3", got)
			}
			if got := p.Stats().PartitionRetries; got != 3 {
				t.Errorf("PartitionRetries = %d, want 3", got)
			}
			if len(s.Logs("app")) != 2 || len(fl.all()) != 0 {
				t.Errorf("logs = %d (want 2), failures = %v (want none)", len(s.Logs("app")), fl.all())
			}
		})
	}
}

func TestWrongKeyIsErrAuth(t *testing.T) {
	// Refused at SASL, where the producer counts AuthFailures;
	// authmode_test.go covers both places SLS may refuse a key.
	s := slstest.New(t, slstest.Config{AuthFailure: slstest.AtSASL})
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) {
		c.Credentials = auth.Static("LTAIwrong", "topsecretvalue")
		c.OnError = fl.on
	})
	// ErrAuth, not the context's error: Ping did not wait it out.
	err := p.Ping(timeout(t, 10*time.Second), "app")
	if !errors.Is(err, producer.ErrAuth) {
		t.Fatalf("Ping err = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "topsecretvalue") || !strings.Contains(err.Error(), "AccessKey") {
		t.Errorf("Ping error leaks the secret or gives no hint: %v", err)
	}

	// Reported within 10 s, a twelfth of DeliveryTimeout: as a refusal,
	// not at the record's deadline.
	if err := p.Log(context.Background(), "app", rec("msg", "x")); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-fl.ch:
		if !errors.Is(f.Err, producer.ErrAuth) || f.Logstore != "app" || f.Records != 1 {
			t.Errorf("failure = %+v, want ErrAuth for 1 record of app", f)
		}
	case <-timeout(t, 10*time.Second).Done():
		t.Fatal("no OnError report for a wrong AccessKey")
	}
	if st := p.Stats(); st.Failed != 1 || st.AuthFailures == 0 {
		t.Errorf("stats = %+v, want Failed 1 and AuthFailures > 0", st)
	}
}

func TestRevokedKeyOnOpenConnectionIsErrAuth(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	s.AddKey("LTAIsecond", "second-secret")
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) {
		c.Credentials = auth.Static("LTAIsecond", "second-secret")
		c.OnError = fl.on
	})
	if err := p.LogSync(timeout(t, 10*time.Second), "app", rec("msg", "ok")); err != nil {
		t.Fatal(err)
	}
	s.RevokeKey("LTAIsecond")
	err := p.LogSync(timeout(t, 10*time.Second), "app", rec("msg", "revoked"))
	if !errors.Is(err, producer.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
}

func TestMissingLogstoreIsErrLogstoreNotFound(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) { c.OnError = fl.on })
	err := p.Ping(timeout(t, 10*time.Second), "nope")
	if !errors.Is(err, producer.ErrLogstoreNotFound) || !strings.Contains(err.Error(), "region") {
		t.Fatalf("Ping err = %v, want ErrLogstoreNotFound with a region hint", err)
	}
	if err := p.Ping(timeout(t, 10*time.Second), "app"); err != nil {
		t.Fatalf("Ping existing logstore: %v", err)
	}
	// Reported within 15 s, an eighth of DeliveryTimeout: as a refusal,
	// not at the record's deadline.
	if err := p.Log(context.Background(), "nope", rec("msg", "x")); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-fl.ch:
		if !errors.Is(f.Err, producer.ErrLogstoreNotFound) || f.Logstore != "nope" {
			t.Errorf("failure = %+v, want ErrLogstoreNotFound for nope", f)
		}
	case <-timeout(t, 15*time.Second).Done():
		t.Fatal("no OnError report for a missing logstore")
	}
}

func TestOversizeRecordIsRefused(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) { c.MaxRecordBytes = 1000 })
	err := p.Log(context.Background(), "app", rec("msg", strings.Repeat("x", 1000)))
	if !errors.Is(err, producer.ErrRecordTooLarge) {
		t.Fatalf("err = %v, want ErrRecordTooLarge", err)
	}
	if err := p.Log(context.Background(), "app", rec("msg", strings.Repeat("x", 900))); err != nil {
		t.Fatalf("record under the limit: %v", err)
	}
	if err := p.Flush(timeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Logs("app")); n != 1 {
		t.Errorf("stored %d logs, want only the one under the limit", n)
	}
	if st := p.Stats(); st.TooLarge != 1 || st.Accepted != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// A record of exactly the default limit still fits in a batch SLS accepts.
func TestDefaultLimitRecordIsDelivered(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) { c.Compression = producer.NoCompression })
	value := strings.Repeat("y", producer.DefaultMaxRecordBytes-len(`{"msg":""}`))
	if err := p.LogSync(timeout(t, 10*time.Second), "app", rec("msg", value)); err != nil {
		t.Fatal(err)
	}
	err := p.Log(context.Background(), "app", rec("msg", value+"!"))
	if !errors.Is(err, producer.ErrRecordTooLarge) {
		t.Fatalf("one byte over: err = %v, want ErrRecordTooLarge", err)
	}
}

// Both buffer modes: below 64 KiB every record is charged its own size,
// above records share chunks charged as a whole (budget.go).
var bufferSizes = []int{4096, 1 << 20}

func TestDropPolicyReturnsErrBufferFull(t *testing.T) {
	for _, size := range bufferSizes {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Latency: time.Hour})
			p := newProducer(t, s, func(c *producer.Config) {
				c.MaxBufferedBytes = size
				c.OnBufferFull = producer.Drop
				c.ShedAt = -1 // these INFO records fill the buffer
			})
			var logged, dropped int
			for dropped < 10 && logged < 100*size {
				logged++
				err := p.Log(context.Background(), "app", rec("msg", strings.Repeat("z", 200)))
				if errors.Is(err, producer.ErrBufferFull) {
					dropped++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			st := p.Stats()
			if dropped == 0 || st.Dropped != int64(dropped) || st.Accepted+st.Dropped != int64(logged) {
				t.Fatalf("logged %d, dropped %d, stats %+v", logged, dropped, st)
			}
			// The buffer bounds memory: the encoded bytes and what is
			// kept per record (about twice the bytes of these records).
			if st.BufferedBytes > int64(size) || st.BufferedBytes < int64(size)/4 {
				t.Errorf("buffered %d encoded bytes when full, limit %d", st.BufferedBytes, size)
			}
			s.DropConnections() // let Close's cleanup fail the hour-long requests fast
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			p.Close(ctx)
		})
	}
}

func TestBlockPolicyWaitsForSpaceOrContext(t *testing.T) {
	for _, size := range bufferSizes {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Latency: time.Hour})
			p := newProducer(t, s, func(c *producer.Config) {
				c.MaxBufferedBytes = size
				c.ShedAt = -1 // these INFO records fill the buffer
			})
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				err := p.Log(ctx, "app", rec("msg", strings.Repeat("b", 200)))
				cancel()
				if err != nil {
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("blocked Log err = %v, want context.DeadlineExceeded", err)
					}
					break
				}
			}
			// Close wakes a blocked Log with ErrClosed.
			errc := make(chan error, 1)
			go func() { errc <- p.Log(context.Background(), "app", rec("msg", strings.Repeat("b", 200))) }()
			s.DropConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			p.Close(ctx)
			if err := <-errc; !errors.Is(err, producer.ErrClosed) {
				t.Fatalf("Log blocked during Close: err = %v, want ErrClosed", err)
			}
		})
	}
}

// Buffer space comes back as records are delivered: far more than the
// buffer holds goes through it, from several goroutines at once, in both
// buffer modes.
func TestBufferSpaceIsReturned(t *testing.T) {
	for _, size := range bufferSizes {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 4}, Discard: true})
			p := newProducer(t, s, func(c *producer.Config) {
				c.MaxBufferedBytes = size
				c.MaxBlock, c.ShedAt = time.Minute, -1 // every record waits for space
			})
			ctx := timeout(t, 20*time.Second)
			const goroutines = 4
			perGoroutine := 20 * size / 300 / goroutines
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for range goroutines {
				wg.Go(func() {
					for range perGoroutine {
						if err := p.Log(ctx, "app", rec("msg", strings.Repeat("c", 280))); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if st := p.Stats(); st.Delivered != int64(goroutines*perGoroutine) || st.BufferedBytes != 0 {
				t.Fatalf("stats after flush: %+v, want %d delivered", st, goroutines*perGoroutine)
			}
		})
	}
}

func TestCloseDrainsEverything(t *testing.T) {
	s := slstest.New(t, slstest.Config{Latency: 50 * time.Millisecond, Logstores: map[string]int{"app": 3}})
	p := newProducer(t, s, nil)
	const n = 2000
	for i := range n {
		if err := p.Log(context.Background(), "app", rec("i", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(timeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	logs := s.Logs("app")
	if got := len(logs); got != n {
		t.Fatalf("stored %d logs after Close, want %d", got, n)
	}
	// Records from one goroutine keep their order within each shard.
	last := map[int]int{}
	for _, l := range logs {
		i, _ := strconv.Atoi(l.Fields["i"])
		if prev, ok := last[l.Shard]; ok && i <= prev {
			t.Fatalf("shard %d stored record %d after %d", l.Shard, i, prev)
		}
		last[l.Shard] = i
	}
	if err := p.Log(context.Background(), "app", rec("msg", "late")); !errors.Is(err, producer.ErrClosed) {
		t.Errorf("Log after Close: err = %v, want ErrClosed", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if st := p.Stats(); st.Delivered != n || st.BufferedRecords != 0 || st.BufferedBytes != 0 {
		t.Errorf("stats after Close = %+v", st)
	}
}

func TestCloseBoundedByContextReportsUndelivered(t *testing.T) {
	s := slstest.New(t, slstest.Config{Latency: time.Hour})
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) { c.OnError = fl.on })
	for range 10 {
		if err := p.Log(context.Background(), "app", rec("msg", "stuck")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close err = %v, want DeadlineExceeded", err)
	}
	// Bounded by its context, not by the records' deadline (how long
	// after the context's end: TestCloseFitsItsContext).
	if took := time.Since(start); took >= producer.DefaultDeliveryTimeout/2 {
		t.Errorf("Close took %v, bounded by a 300ms context", took)
	}
	// The records were sent and the acknowledgement is an hour away: SLS
	// may store them, so they are unconfirmed, not failed.
	var reported int
	for _, f := range fl.all() {
		if !errors.Is(f.Err, producer.ErrClosed) || !f.Unconfirmed {
			t.Errorf("failure %+v, want ErrClosed, unconfirmed", f)
		}
		reported += f.Records
	}
	if st := p.Stats(); reported != 10 || st.Unconfirmed != 10 || st.Failed != 0 {
		t.Errorf("reported %d undelivered records (stats %+v), want 10 unconfirmed", reported, st)
	}
}

func TestSpreadOverShards(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 4}})
	p := newProducer(t, s, nil)
	const n = 2000
	for i := range n {
		if err := p.Log(context.Background(), "app", rec("i", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(timeout(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	per := map[int]int{}
	for _, l := range s.Logs("app") {
		per[l.Shard]++
	}
	for shard := range 4 {
		if per[shard] < n/4/2 {
			t.Errorf("shard %d got %d records, want >= 50%% of its fair share %d (%v)", shard, per[shard], n/4, per)
		}
	}
}

func TestNewShardsArePickedUp(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := newProducer(t, s, func(c *producer.Config) { c.MetadataMaxAge = 200 * time.Millisecond })
	if err := p.LogSync(timeout(t, 10*time.Second), "app", rec("msg", "before split")); err != nil {
		t.Fatal(err)
	}
	s.SetShards("app", 3)
	ctx := timeout(t, 20*time.Second)
	for ctx.Err() == nil {
		if err := p.LogSync(ctx, "app", rec("msg", "after split")); err != nil {
			t.Fatal(err)
		}
		shards := map[int]bool{}
		for _, l := range s.Logs("app") {
			shards[l.Shard] = true
		}
		if len(shards) == 3 {
			return
		}
	}
	t.Fatal("records never reached the new shards")
}

func TestConcurrentLogFlushClose(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, nil)
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				err := p.Log(context.Background(), "app", rec("g", strconv.Itoa(g), "i", strconv.Itoa(i)))
				if err == nil {
					accepted.Add(1)
				} else if !errors.Is(err, producer.ErrClosed) {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					p.Flush(context.Background())
				}
			}
		})
	}
	wg.Go(func() { p.Close(timeout(t, 20*time.Second)) })
	wg.Wait()
	if got := int64(len(s.Logs("app"))); got != accepted.Load() {
		t.Errorf("stored %d logs, accepted %d", got, accepted.Load())
	}
}

func TestBadInput(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, nil)
	//lint:ignore SA1012 testing the nil-context error
	if err := p.Log(nil, "app", rec("a", "b")); err == nil || !strings.Contains(err.Error(), "nil context") { //nolint:staticcheck
		t.Errorf("nil ctx: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Log(ctx, "app", rec("a", "b")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	// Log refuses an empty key, as Config refuses one in StaticFields.
	if err := p.Log(context.Background(), "app", rec("a", "b", "", "c")); err == nil || !strings.Contains(err.Error(), "empty key") {
		t.Errorf("empty key: err = %v, want an empty-key error", err)
	}
	for _, name := range []string{"", "A", "Bad_Name", "-x", strings.Repeat("a", 64)} {
		if err := p.Log(context.Background(), name, rec("a", "b")); err == nil || !strings.Contains(err.Error(), "logstore") {
			t.Errorf("logstore %q: err = %v, want a logstore name error", name, err)
		}
	}
	for name, cfg := range map[string]producer.Config{
		"empty":              {},
		"no creds":           {Project: "demo", Endpoint: s.Endpoint()},
		"bad project":        {Project: "Demo_X", Endpoint: s.Endpoint(), Credentials: s.Credentials()},
		"bad limit":          {Project: "demo", Endpoint: s.Endpoint(), Credentials: s.Credentials(), MaxRecordBytes: 2 << 20, MaxBufferedBytes: 1 << 20},
		"bad CA file":        {Project: "demo", Endpoint: s.Endpoint(), Credentials: s.Credentials(), CAFile: "/nonexistent.pem"},
		"1ms connection age": {Project: "demo", Endpoint: s.Endpoint(), Credentials: s.Credentials(), MaxConnectionAge: time.Millisecond},
		"empty static key":   {Project: "demo", Endpoint: s.Endpoint(), Credentials: s.Credentials(), StaticFields: []producer.Field{{Key: "", Value: "x"}}},
	} {
		if _, err := producer.New(cfg); err == nil || !strings.HasPrefix(err.Error(), "producer: ") {
			t.Errorf("%s: New err = %v, want a producer: error", name, err)
		}
	}
}

func TestCAFileTrustsTheEmulator(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	path := t.TempDir() + "/ca.pem"
	if err := writeFile(path, s.CACertPEM()); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, s, func(c *producer.Config) { c.TLS = nil; c.CAFile = path })
	if err := p.Ping(timeout(t, 10*time.Second), "app"); err != nil {
		t.Fatal(err)
	}
	// Without the CA, the system roots do not trust the emulator.
	q := newProducer(t, s, func(c *producer.Config) { c.TLS = nil })
	if err := q.Ping(timeout(t, 10*time.Second), "app"); !errors.Is(err, producer.ErrTLS) {
		t.Fatalf("untrusted emulator: err = %v, want ErrTLS", err)
	}
}

// An old log line is delivered: the delivery timeout counts from Log, not
// from the record's time.
func TestOldRecordIsDelivered(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) { c.DeliveryTimeout = time.Second })
	old := rec("msg", "from 2020")
	old.Time = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := p.LogSync(timeout(t, 10*time.Second), "app", old); err != nil {
		t.Fatalf("old record: %v", err)
	}
	if logs := s.Logs("app"); len(logs) != 1 || !logs[0].Time.Equal(old.Time) {
		t.Fatalf("logs = %+v, want one log at %v", logs, old.Time)
	}
}

// A record SLS never acknowledges fails with ErrDeliveryTimeout, counted
// from acceptance, and the error says what went wrong last. In a synctest
// bubble, so that "soon after DeliveryTimeout" holds on a loaded machine.
func TestUnreachableEndpointTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true})
		gone := new(atomic.Bool)
		gone.Store(true) // nothing listens there
		fl := newFailures()
		p := newProducer(t, s, func(c *producer.Config) {
			c.DialContext = refusedOnceGone(s, gone)
			c.DeliveryTimeout = 500 * time.Millisecond
			c.RetryBackoff = 100 * time.Millisecond
			c.OnError = fl.on
		})
		start := time.Now()
		if err := p.Log(context.Background(), "app", rec("msg", "lost")); err != nil {
			t.Fatal(err)
		}
		select {
		case f := <-fl.ch:
			if !errors.Is(f.Err, producer.ErrDeliveryTimeout) || !strings.Contains(f.Err.Error(), "refused") {
				t.Errorf("failure = %v, want ErrDeliveryTimeout naming the refused connection", f.Err)
			}
			// DeliveryTimeout, plus at most one deadline window and
			// the report's coalescing interval.
			if took := time.Since(start); took < 500*time.Millisecond || took > time.Second {
				t.Errorf("failed after %v, want between DeliveryTimeout and a second", took)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("record to an unreachable endpoint never failed")
		}
	})
}

// A nil producer (an adapter handed one by mistake) errors instead of
// panicking.
func TestNilProducer(t *testing.T) {
	var p *producer.Producer
	ctx := context.Background()
	for name, err := range map[string]error{
		"Log":     p.Log(ctx, "app", rec("a", "b")),
		"LogSync": p.LogSync(ctx, "app", rec("a", "b")),
		"Flush":   p.Flush(ctx),
		"Ping":    p.Ping(ctx, "app"),
		"Close":   p.Close(ctx),
	} {
		if err == nil || !strings.Contains(err.Error(), "nil *Producer") {
			t.Errorf("%s on nil producer: %v", name, err)
		}
	}
	if st := p.Stats(); st != (producer.Stats{}) {
		t.Errorf("Stats on nil producer = %+v", st)
	}
}

// lockedBuffer is a bytes.Buffer safe for the producer's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A refused credential shows up in the SDK's own logs (franz-go's debug
// output included), errors and failure reports without its secret or token.
func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	const secret, token = "sEcReTvAlUe123", "tOkEnVaLuE456"
	// Refused at SASL, which the producer logs as "SLS refused the
	// credential".
	s := slstest.New(t, slstest.Config{AuthFailure: slstest.AtSASL})
	var logs lockedBuffer
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) {
		c.Credentials = auth.ProviderFunc(func(context.Context) (auth.Credential, error) {
			return auth.Credential{AccessKeyID: "STS.wrong", AccessKeySecret: secret, SecurityToken: token, Expiration: time.Now().Add(time.Hour)}, nil
		})
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.OnError = fl.on
	})
	pingErr := p.Ping(timeout(t, 10*time.Second), "app")
	if err := p.Log(context.Background(), "app", rec("msg", "x")); err != nil {
		t.Fatal(err)
	}
	var f producer.Failure
	select {
	case f = <-fl.ch:
	case <-timeout(t, 10*time.Second).Done():
		t.Fatal("no failure reported")
	}
	p.Close(context.Background())
	out := logs.String() + "\n" + fmt.Sprint(pingErr) + "\n" + fmt.Sprintf("%v %+v %#v", f, f, f.Err)
	if !errors.Is(pingErr, producer.ErrAuth) || !strings.Contains(logs.String(), "SLS refused the credential") {
		t.Fatalf("expected an auth failure in the logs and from Ping; got %v\n%s", pingErr, logs.String())
	}
	for _, s := range []string{secret, token} {
		if strings.Contains(out, s) {
			t.Errorf("%q leaked:\n%s", s, out)
		}
	}
}

// Printing a producer (its Config sits in an unexported field, where fmt
// calls no Format method) does not print the AccessKey secret.
func TestPrintedProducerHasNoSecret(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) { c.Credentials = auth.Static("LTAIprinted", "pRiNtEdSeCrEt") })
	p.Ping(timeout(t, 10*time.Second), "app") // fills the credential cache; the key is refused, which does not matter here
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if out := fmt.Sprintf(verb, p); strings.Contains(out, "pRiNtEdSeCrEt") || !strings.Contains(out, s.Project()) {
			t.Errorf("%s of a *Producer = %s: prints the secret, or not the project", verb, out)
		}
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "producer", p)
	if strings.Contains(logged.String(), "pRiNtEdSeCrEt") || !strings.Contains(logged.String(), s.Project()) {
		t.Errorf("slog of a *Producer = %s", logged.String())
	}
}

// When LogSync returns, Stats no longer count its record as buffered.
func TestLogSyncThenStats(t *testing.T) {
	s := slstest.New(t, slstest.Config{Discard: true})
	p := newProducer(t, s, func(c *producer.Config) { c.Linger = time.Millisecond })
	ctx := timeout(t, 20*time.Second)
	for i := range 200 {
		if err := p.LogSync(ctx, "app", rec("msg", "x")); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.BufferedRecords != 0 || st.BufferedBytes != 0 || st.Delivered != int64(i+1) {
			t.Fatalf("after LogSync %d: %+v", i, st)
		}
	}
}

// Loggers on a small buffer (some waiting for space) race Close, whose
// context may end before everything is delivered: Close returns, every
// accepted record is stored or failed, nothing stays buffered, and no
// buffer space is refunded twice (the semaphore would panic).
func TestCloseRacingBlockedLoggers(t *testing.T) {
	for round := range 6 {
		s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
		p := newProducer(t, s, func(c *producer.Config) {
			c.Linger = time.Millisecond
			c.MaxBufferedBytes = 128 << 10
			c.MaxBlock = time.Minute // waits end with Close here, not MaxBlock
			c.ShedAt = -1            // and every record waits for space
		})
		ctx := timeout(t, 30*time.Second)
		var wg sync.WaitGroup
		var started sync.WaitGroup
		for range 8 {
			started.Add(1)
			wg.Go(func() {
				busy := sync.OnceFunc(started.Done)
				defer busy()
				for i := 0; ; i++ {
					err := p.Log(ctx, "app", rec("msg", "hello hello hello hello"))
					if i == 100 {
						busy()
					}
					if errors.Is(err, producer.ErrClosed) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		started.Wait() // every logger is busy
		cctx, cancel := context.WithTimeout(context.Background(), time.Duration(round%3)*20*time.Millisecond)
		p.Close(cctx)
		cancel()
		wg.Wait()
		st := p.Stats()
		if st.BufferedRecords != 0 || st.BufferedBytes != 0 || st.Accepted != st.Delivered+st.Failed+st.Unconfirmed {
			t.Fatalf("round %d: %+v", round, st)
		}
		// No stored record is counted as failed.
		if got := int64(len(s.Logs("app"))); got < st.Delivered || got > st.Delivered+st.Unconfirmed {
			t.Fatalf("round %d: stored %d, delivered %d, unconfirmed %d", round, got, st.Delivered, st.Unconfirmed)
		}
	}
}

// Delivery latency runs from Log to the acknowledgement's arrival.
func TestDeliveryLatencyIsMeasured(t *testing.T) {
	const latency = 150 * time.Millisecond
	s := slstest.New(t, slstest.Config{Latency: latency})
	p := newProducer(t, s, nil)
	ctx := timeout(t, 20*time.Second)
	if err := p.Ping(ctx, "app"); err != nil { // connected: latency is the emulator's
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.LogSync(ctx, "app", rec("msg", "x")); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := p.Stats().MaxDeliveryLatency; got < latency || got > took {
		t.Errorf("MaxDeliveryLatency = %v, want between the emulator's %v and LogSync's %v", got, latency, took)
	}
}

// Chunks are reused once their records are finished (budget.go): records
// pushed through a small buffer many times over, from several goroutines,
// some of them retried, arrive byte for byte.
func TestChunkReuseKeepsRecordsIntact(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 4}})
	p := newProducer(t, s, func(c *producer.Config) {
		c.MaxBufferedBytes = 256 << 10
		// The buffer fills while batches are retried, after 1 s: every
		// record waits for space.
		c.MaxBlock, c.ShedAt = time.Minute, -1
	})
	ctx := timeout(t, 60*time.Second)
	payload := func(i int) string { return strings.Repeat(strconv.Itoa(i)+"-", 5+i%40) }
	// Retried batches are written again from the records' values, after
	// other records of their chunks have finished.
	s.FailNext("app", slstest.StorageError, 3)
	const goroutines, each = 4, 3000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for j := range each {
				i := g*each + j
				if err := p.Log(ctx, "app", rec("id", strconv.Itoa(i), "payload", payload(i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	seen := make(map[int]bool)
	for _, l := range s.Logs("app") {
		i, err := strconv.Atoi(l.Fields["id"])
		if err != nil || l.Fields["payload"] != payload(i) {
			t.Fatalf("stored %v: corrupt", l.Fields)
		}
		seen[i] = true
	}
	if len(seen) != goroutines*each {
		t.Fatalf("stored %d distinct records, want %d", len(seen), goroutines*each)
	}
}
