package producer_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/internal/race"
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
// deadline is ahead must not fail with it.)
func TestEachRecordFailsAtItsOwnDeadline(t *testing.T) {
	const deliveryTimeout = 2 * time.Second
	s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := newProducer(t, s, func(c *producer.Config) { c.DeliveryTimeout = deliveryTimeout })
	ctx := timeout(t, 30*time.Second)
	if err := p.LogSync(ctx, "app", rec("msg", "before")); err != nil {
		t.Fatal(err)
	}
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
	start := time.Now()
	err = p.Ping(ctx, "app")
	if !errors.Is(err, producer.ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Ping = %v, want ErrUnreachable naming the refusal", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Ping took %v with a 20s context", took)
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
	start := time.Now()
	err = p.Ping(timeout(t, 20*time.Second), "app")
	if !errors.Is(err, producer.ErrUnreachable) || !strings.Contains(err.Error(), "bad..host") || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("Ping = %v, want ErrUnreachable naming the host and the lookup failure", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Ping took %v with a 20s context", took)
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

// Close returns within moments of its context's end, even with many records
// buffered behind a stalled endpoint.
func TestCloseFitsItsContext(t *testing.T) {
	n := 100_000
	if race.Enabled {
		n = 20_000 // the race detector makes every record's failure 10x slower
	}
	s := slstest.New(t, slstest.Config{Latency: time.Hour})
	p := newProducer(t, s, nil)
	ctx := timeout(t, 30*time.Second)
	for i := range n {
		if err := p.Log(ctx, "app", rec("i", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := p.Close(cctx)
	late := time.Since(deadlineOf(cctx))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, producer.ErrClosed) {
		t.Errorf("Close = %v, want ErrClosed wrapping DeadlineExceeded", err)
	}
	if late > 300*time.Millisecond {
		t.Errorf("Close returned %v after its context ended, want about 100ms at most", late)
	}
	if st := p.Stats(); st.BufferedRecords != 0 || st.Accepted != int64(n) || st.Failed+st.Unconfirmed != int64(n) {
		t.Errorf("after Close: %+v", st)
	}
	t.Logf("Close returned %v after its context ended, %d records given up", late, n)
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
	start := time.Now()
	err := p.LogSync(timeout(t, 30*time.Second), "app", rec("msg", "x"))
	if !errors.Is(err, producer.ErrAuth) || !strings.Contains(err.Error(), "no key configured") {
		t.Errorf("LogSync = %v, want ErrAuth naming the provider's error", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("ErrAuth after %v, want within seconds", took)
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
