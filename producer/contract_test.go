package producer_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// The tests in this file hold the delivery contract at its edges: every
// record fails at its own deadline with its real cause, a stored record is
// never reported as lost, Close fits a grace period, and one problem makes
// one log line.

// With the endpoint gone, records logged one every 100 ms each fail between
// DeliveryTimeout and DeliveryTimeout + 1 s after their own acceptance, as
// ErrDeliveryTimeout naming the last cause. (franz-go fails every buffered
// record of a shard together when the oldest one times out; those whose
// deadline is ahead must not fail with it.) The emulator serves in memory
// in a synctest bubble, so the window is exact on any machine; once it is
// gone, dialing it is refused as a closed TCP port is.
func TestEachRecordFailsAtItsOwnDeadline(t *testing.T) {
	synctest.Test(t, testEachRecordFailsAtItsOwnDeadline)
}

func testEachRecordFailsAtItsOwnDeadline(t *testing.T) {
	const deliveryTimeout = 2 * time.Second
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, InMemory: true})
	var gone atomic.Bool
	p := newProducer(t, s, func(c *producer.Config) {
		c.DeliveryTimeout = deliveryTimeout
		c.DialContext = refusedOnceGone(s, &gone)
	})
	ctx := timeout(t, 30*time.Second)
	if err := p.LogSync(ctx, "app", rec("msg", "before")); err != nil {
		t.Fatal(err)
	}
	gone.Store(true)
	s.Close() // the endpoint goes away: connections are refused

	const n = 20
	type result struct {
		took time.Duration
		err  error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		<-tick.C // pacing, not synchronisation
		wg.Go(func() {
			start := time.Now()
			err := p.LogSync(ctx, "app", rec("i", strconv.Itoa(i)))
			results[i] = result{time.Since(start), err}
		})
	}
	wg.Wait()
	for i, r := range results {
		if !errors.Is(r.err, producer.ErrDeliveryTimeout) {
			t.Errorf("record %d: err = %v, want ErrDeliveryTimeout", i, r.err)
			continue
		}
		if errors.Is(r.err, producer.ErrUnreachable) {
			t.Errorf("record %d: err %v wraps a second sentinel", i, r.err)
		}
		if !strings.Contains(r.err.Error(), "connection refused") {
			t.Errorf("record %d: %q does not name the last cause", i, r.err)
		}
		if r.took < deliveryTimeout || r.took > deliveryTimeout+time.Second {
			t.Errorf("record %d failed after %v, want within [%v, %v]", i, r.took, deliveryTimeout, deliveryTimeout+time.Second)
		}
	}
}

// refusedOnceGone dials s in memory until gone is set, then refuses as a
// TCP port nobody listens on does.
func refusedOnceGone(s *slstest.Server, gone *atomic.Bool) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if gone.Load() {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		}
		return s.DialContext(ctx, network, addr)
	}
}

// Ping against a port nobody listens on says ErrUnreachable at once, not
// when its context ends.
func TestPingUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	ep, err := endpoint.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(producer.Config{Project: "demo", Endpoint: ep, Credentials: auth.Static("id", "secret"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := timeout(t, 20*time.Second)
	err = p.Ping(ctx, "app")
	if !errors.Is(err, producer.ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Ping = %v, want ErrUnreachable naming the refusal", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Ping returned when its context ended, not at once")
	}
}

// A host name that does not resolve ends Ping at once, naming the host, as
// ErrUnreachable. ("bad..host" is refused by the resolver without asking
// a DNS server, so the test needs no network.)
func TestPingDNSFailure(t *testing.T) {
	p, err := producer.New(producer.Config{
		Project: "demo", Endpoint: endpoint.Endpoint{Host: "bad..host", Port: 10012},
		Credentials: auth.Static("id", "secret"), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := timeout(t, 20*time.Second)
	err = p.Ping(ctx, "app")
	if !errors.Is(err, producer.ErrUnreachable) || !strings.Contains(err.Error(), "bad..host") || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("Ping = %v, want ErrUnreachable naming the host and the lookup failure", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Ping returned when its context ended, not at once")
	}
}

// With acknowledgements stalled and a short Close, records that reached the
// emulator are stored but unacknowledged: none of them may be counted as
// failed, and every stored one is delivered or unconfirmed. Records that
// never left the producer are failed.
func TestStoredRecordsAreNeverCountedFailed(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
	p := newProducer(t, s, func(c *producer.Config) {
		c.MaxBufferedBytes = 2 << 20
		c.MaxRecordBytes = 10 << 10 // franz-go holds a quarter: ~500 of these records
		c.Linger = 50 * time.Millisecond
	})
	ctx := timeout(t, 30*time.Second)
	if err := p.LogSync(ctx, "app", rec("i", "-1")); err != nil { // connected
		t.Fatal(err)
	}
	s.SetLatency(time.Hour)
	const n = 1000
	errs := make([]error, n)
	var wg sync.WaitGroup
	pad := strings.Repeat("p", 1000)
	for i := range n {
		done := make(chan struct{})
		wg.Go(func() {
			close(done)
			errs[i] = p.LogSync(ctx, "app", rec("i", strconv.Itoa(i), "pad", pad))
		})
		<-done
	}
	// Wait until every record is accepted and the emulator has stored
	// what franz-go sent.
	deadline := time.Now().Add(10 * time.Second)
	for (p.Stats().Accepted < n+1 || len(s.Logs("app")) < 20) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling an outside observer; no event to wait on
	}
	cctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Close(cctx); !errors.Is(err, producer.ErrClosed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want ErrClosed wrapping the context's error", err)
	}
	wg.Wait()
	stored := map[string]bool{}
	for _, l := range s.Logs("app") {
		stored[l.Fields["i"]] = true
	}
	var delivered, unconfirmed, failed int
	for i, err := range errs {
		var e *producer.Error
		switch {
		case err == nil:
			delivered++
		case errors.As(err, &e) && e.Unconfirmed:
			unconfirmed++
		case errors.As(err, &e):
			failed++
			if stored[strconv.Itoa(i)] {
				t.Errorf("record %d is stored but was reported failed: %v", i, err)
			}
		default:
			t.Errorf("record %d: %v, not a *producer.Error", i, err)
		}
	}
	st := p.Stats()
	if int(st.Unconfirmed) != unconfirmed || int(st.Failed) != failed || int(st.Delivered) != delivered+1 {
		t.Errorf("stats %+v, LogSync saw %d delivered, %d unconfirmed, %d failed", st, delivered, unconfirmed, failed)
	}
	if st.Accepted != st.Delivered+st.Failed+st.Unconfirmed+st.BufferedRecords {
		t.Errorf("Accepted != Delivered + Failed + Unconfirmed + BufferedRecords: %+v", st)
	}
	if len(stored) < 20 || failed == 0 {
		t.Errorf("stored %d records, %d failed: the test needs both stored-unacknowledged and never-sent records", len(stored), failed)
	}
	t.Logf("%d stored, %d unconfirmed, %d failed", len(stored), unconfirmed, failed)
}

// With 100k records buffered behind a stalled endpoint, Close gives up on
// them when its context ends and waits for nothing after that: no timer,
// no coalescing interval, no acknowledgement. Nor does it offer them one by
// one to the closing client: none is handed to franz-go after the deadline.
// In a testing/synctest bubble the clock stands still while goroutines
// run, so this holds on any machine however loaded; what the work after
// the deadline costs in time and CPU is BenchmarkCloseAfterDeadline's
// figure (a wall-clock bound here would measure the machine's load).
func TestCloseFitsItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, syncs = 100_000, 10
		cctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		var handedLate atomic.Int64
		fl := newFailures()
		s := slstest.New(t, slstest.Config{Latency: time.Hour, InMemory: true})
		p := stalled(t, s, n-syncs, func(c *producer.Config) {
			c.DialContext = s.DialContext
			c.OnError = fl.on
			c.Hooks = []kgo.Hook{handedAfter{cctx, &handedLate}}
		})
		// LogSync callers waiting for their acknowledgement are told.
		syncErrs := make(chan error, syncs)
		for i := range syncs {
			go func() { syncErrs <- p.LogSync(context.Background(), "app", rec("sync", strconv.Itoa(i))) }()
		}
		synctest.Wait() // every LogSync is accepted and waits
		err := p.Close(cctx)
		if late := time.Since(deadlineOf(cctx)); late != 0 {
			t.Errorf("Close returned %v after its context ended, want at once: it waited for something", late)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, producer.ErrClosed) {
			t.Errorf("Close = %v, want ErrClosed wrapping DeadlineExceeded", err)
		}
		if h := handedLate.Load(); h != 0 {
			t.Errorf("%d records handed to franz-go after Close's context ended, want none", h)
		}
		for range syncs {
			if err := <-syncErrs; !errors.Is(err, producer.ErrClosed) {
				t.Errorf("LogSync = %v, want ErrClosed", err)
			}
		}
		st := p.Stats()
		if st.BufferedRecords != 0 || st.Accepted != n || st.Failed+st.Unconfirmed != n || st.Failed == 0 || st.Unconfirmed == 0 {
			t.Errorf("after Close: %+v, want all %d failed, some sent (Unconfirmed) and some never sent (Failed)", st, n)
		}
		var reported int
		for _, f := range fl.all() {
			reported += f.Records
			if !errors.Is(f.Err, producer.ErrClosed) {
				t.Errorf("reported %d records as %v, want ErrClosed", f.Records, f.Err)
			}
		}
		if reported != n {
			t.Errorf("OnError was told of %d records, want %d", reported, n)
		}
		t.Logf("%d records given up: %d unconfirmed, %d failed", n, st.Unconfirmed, st.Failed)
	})
}

// BenchmarkCloseAfterDeadline is Close with 100k records buffered behind a
// stalled endpoint (over TCP, outside a bubble): how long after its
// context's end it returns (ms-after-deadline) and the CPU the process
// spends meanwhile (cpu-ms-after-deadline). One iteration takes about two
// seconds; -benchtime=5x gives five.
func BenchmarkCloseAfterDeadline(b *testing.B) {
	const n = 100_000
	var late, cpu time.Duration
	for range b.N {
		s := slstest.New(b, slstest.Config{Latency: time.Hour})
		p := stalled(b, s, n, nil)
		cctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		var atDeadline time.Duration
		stop := context.AfterFunc(cctx, func() { atDeadline = benchcpu.Process() })
		err := p.Close(cctx)
		late += time.Since(deadlineOf(cctx))
		if stop() {
			b.Fatal("Close returned before its context ended")
		}
		cpu += benchcpu.Process() - atDeadline
		cancel()
		if !errors.Is(err, producer.ErrClosed) {
			b.Fatalf("Close = %v, want ErrClosed", err)
		}
		s.Close()
	}
	b.ReportMetric(float64(late.Milliseconds())/float64(b.N), "ms-after-deadline")
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms-after-deadline")
}

// stalled returns a producer on s holding n records that s answers no
// produce request for (s has a latency of an hour).
func stalled(tb testing.TB, s *slstest.Server, n int, mutate func(*producer.Config)) *producer.Producer {
	tb.Helper()
	p := newProducer(tb, s, mutate)
	for i := range n {
		if err := p.Log(context.Background(), "app", rec("i", strconv.Itoa(i))); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

// handedAfter counts the records handed to franz-go after ctx ended.
type handedAfter struct {
	ctx context.Context
	n   *atomic.Int64
}

func (h handedAfter) OnProduceRecordBuffered(*kgo.Record) {
	if h.ctx.Err() != nil {
		h.n.Add(1)
	}
}

func deadlineOf(ctx context.Context) time.Time { d, _ := ctx.Deadline(); return d }

// A credential provider that fails reaches no SASL exchange; the records
// still fail with ErrAuth at once, not at their delivery timeout.
func TestCredentialProviderFailureFailsFast(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) {
		c.Credentials = auth.ProviderFunc(func(context.Context) (auth.Credential, error) {
			return auth.Credential{}, errors.New("no key configured")
		})
		c.DeliveryTimeout = time.Minute
	})
	// Not at its deadline: it would fail with ErrDeliveryTimeout then,
	// and the context ends first.
	ctx := timeout(t, 30*time.Second)
	err := p.LogSync(ctx, "app", rec("msg", "x"))
	if !errors.Is(err, producer.ErrAuth) || !strings.Contains(err.Error(), "no key configured") {
		t.Errorf("LogSync = %v, want ErrAuth naming the provider's error", err)
	}
	if strings.Count(err.Error(), "producer:") != 1 {
		t.Errorf("%q repeats its prefix", err)
	}
}

// A wrong AccessKey is one warning in the SDK's log, not one per attempt
// plus franz-go's; an unreachable endpoint likewise.
func TestOneProblemOneLine(t *testing.T) {
	t.Run("wrong key", func(t *testing.T) {
		var buf lockedBuffer
		s := slstest.New(t, slstest.Config{AccessKeyID: "LTAIoneproblemoneline"})
		p := newProducer(t, s, func(c *producer.Config) {
			c.Credentials = auth.Static("LTAIoneproblemoneline", "wrong")
			c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
			c.OnError = func(producer.Failure) {}
		})
		ctx := timeout(t, 20*time.Second)
		for range 3 {
			if err := p.LogSync(ctx, "app", rec("msg", "x")); !errors.Is(err, producer.ErrAuth) {
				t.Fatalf("LogSync = %v, want ErrAuth", err)
			}
		}
		if lines := nonEmptyLines(buf.String()); len(lines) != 1 || !strings.Contains(lines[0], "refused the credential") {
			t.Errorf("logged %d lines, want one about the refused credential:\n%s", len(lines), buf.String())
		}
	})
}

func TestOneUnreachableLine(t *testing.T) {
	var buf lockedBuffer
	s, err := slstest.Start(slstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, s, func(c *producer.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
		c.DeliveryTimeout = 3 * time.Second
		c.OnError = func(producer.Failure) {}
	})
	s.Close() // refused from the start: the producer retries every RetryBackoff
	if err := p.LogSync(timeout(t, 20*time.Second), "app", rec("msg", "x")); !errors.Is(err, producer.ErrDeliveryTimeout) {
		t.Fatalf("LogSync = %v, want ErrDeliveryTimeout", err)
	}
	if lines := nonEmptyLines(buf.String()); len(lines) != 1 || !strings.Contains(lines[0], "cannot reach the SLS endpoint") {
		t.Errorf("logged %d lines in 3 s of retries, want one:\n%s", len(lines), buf.String())
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// While Close drains within its context, a record whose own deadline is
// ahead is not failed as given up when franz-go fails its shard because an
// older record's deadline passed: it goes back to the queue as before Close.
func TestCloseDrainKeepsYoungRecords(t *testing.T) {
	s := slstest.New(t, slstest.Config{Latency: 1500 * time.Millisecond})
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) {
		c.DeliveryTimeout = time.Second
		c.MaxInflight = 1
		c.OnError = fl.on
	})
	ctx := timeout(t, 60*time.Second)
	for i := range 400 {
		if err := p.Log(ctx, "app", rec("i", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(100 * time.Millisecond) // pacing: records of several deadline windows
		}
	}
	if err := p.Close(ctx); err != nil && !errors.Is(err, producer.ErrDeliveryTimeout) && errors.Is(err, producer.ErrClosed) {
		t.Errorf("Close = %v, its context never ended", err)
	}
	for _, f := range fl.all() {
		if errors.Is(f.Err, producer.ErrClosed) {
			t.Errorf("%d records failed as given up by Close, whose context never ended: %v", f.Records, f.Err)
		}
	}
}

// A record franz-go fails after writing its batch, and hands back while
// its own deadline is ahead, may be stored: when it then fails (Close gives
// up on it), it is Unconfirmed, never Failed. Here SLS stores a batch and
// never answers; the connection breaks and the endpoint stays down, so
// franz-go keeps the batch until an older record's deadline aborts
// everything it holds (ErrAborting); the batch's records come back to the
// producer, held, until Close gives up on them.
func TestRequeuedStoredRecordsAreNeverCountedFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, InMemory: true})
		var gone atomic.Bool
		p := newProducer(t, s, func(c *producer.Config) {
			c.DialContext = refusedOnceGone(s, &gone)
			c.DeliveryTimeout = 10 * time.Second
			c.MaxInflight = 2 // older's request, and the batch's
		})
		ctx := context.Background()
		if err := p.LogSync(ctx, "app", rec("i", "connect")); err != nil {
			t.Fatal(err)
		}
		s.SetLatency(time.Hour) // stored, never answered
		older := make(chan error, 1)
		go func() { older <- p.LogSync(ctx, "app", rec("i", "older")) }()
		synctest.Wait()
		time.Sleep(time.Second) // the batch below gets a later deadline than older's
		const n = 50
		errs := make([]chan error, n)
		for i := range n {
			errs[i] = make(chan error, 1)
			go func() { errs[i] <- p.LogSync(ctx, "app", rec("i", strconv.Itoa(i))) }()
		}
		synctest.Wait()
		time.Sleep(100 * time.Millisecond) // past Linger: written, and stored
		synctest.Wait()
		stored := map[string]bool{}
		for _, l := range s.Logs("app") {
			stored[l.Fields["i"]] = true
		}
		gone.Store(true)
		s.DropConnections()
		// older's deadline passes while the endpoint is down: franz-go
		// fails everything, older for its deadline, the rest handed back.
		time.Sleep(9500 * time.Millisecond) // older's deadline is at 10.2 s, the batch's at 11.2 s
		synctest.Wait()
		if err := <-older; !errors.Is(err, producer.ErrDeliveryTimeout) {
			t.Fatalf("older: %v, want ErrDeliveryTimeout", err)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		p.Close(cctx) //nolint:errcheck // what it gave up on is checked below
		var unconfirmed, failed int
		for i := range n {
			err := <-errs[i]
			var e *producer.Error
			switch {
			case !errors.As(err, &e):
				t.Errorf("record %d: %v, not a *producer.Error", i, err)
			case !errors.Is(err, producer.ErrClosed):
				t.Errorf("record %d: %v, want ErrClosed (its deadline was ahead)", i, err)
			case e.Unconfirmed:
				unconfirmed++
			default:
				failed++
				if stored[strconv.Itoa(i)] {
					t.Errorf("record %d is stored but was reported failed: %v", i, err)
				}
			}
		}
		if len(stored) < n/2 || unconfirmed == 0 {
			t.Errorf("stored %d of %d records, %d unconfirmed: the test needs records stored before they were handed back", len(stored), n, unconfirmed)
		}
		if st := p.Stats(); st.Accepted != st.Delivered+st.Failed+st.Unconfirmed+st.BufferedRecords {
			t.Errorf("Accepted != Delivered + Failed + Unconfirmed + BufferedRecords: %+v", st)
		}
		t.Logf("%d stored, %d unconfirmed, %d failed", len(stored), unconfirmed, failed)
	})
}

// Records franz-go hands back come partition by partition; held, each
// still fails at its own deadline, not once the deadlines of another
// partition's younger records passed too.
func TestHandedBackRecordsFailAtTheirOwnDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}, InMemory: true})
		var gone atomic.Bool
		const timeout = 10 * time.Second
		p := newProducer(t, s, func(c *producer.Config) {
			c.DialContext = refusedOnceGone(s, &gone)
			c.DeliveryTimeout = timeout
		})
		ctx := context.Background()
		if err := p.LogSync(ctx, "app", rec("i", "connect")); err != nil {
			t.Fatal(err)
		}
		s.SetLatency(time.Hour) // franz-go keeps everything it is given
		type result struct {
			logged, failed time.Time
			err            error
		}
		logN := func(n int) []chan result {
			out := make([]chan result, n)
			for i := range out {
				out[i] = make(chan result, 1)
				go func() {
					start := time.Now()
					err := p.LogSync(ctx, "app", rec("i", strconv.Itoa(i)))
					out[i] <- result{start, time.Now(), err}
				}()
			}
			synctest.Wait()
			return out
		}
		older := logN(1) // its deadline aborts what franz-go holds
		time.Sleep(time.Second)
		a := logN(10) // over both partitions
		time.Sleep(time.Second)
		b := logN(10) // a second later, over both partitions too
		gone.Store(true)
		s.DropConnections()
		synctest.Wait()
		for _, set := range [][]chan result{older, a, b} {
			for i, ch := range set {
				r := <-ch
				late := r.failed.Sub(r.logged) - timeout
				if !errors.Is(r.err, producer.ErrDeliveryTimeout) || late < 0 || late > 250*time.Millisecond {
					t.Errorf("record %d logged at %v: failed %v after its deadline with %v, want ErrDeliveryTimeout within a deadline window (200ms)", i, r.logged.Format("05.000"), late, r.err)
				}
			}
		}
		// What this test is about: records franz-go handed back (when the
		// older record's deadline aborted what it held), which run then
		// held until their own deadlines.
		if n := producer.Requeued(p); n == 0 {
			t.Errorf("franz-go handed no record back: the test no longer tests the order in which held records fail")
		}
	})
}
