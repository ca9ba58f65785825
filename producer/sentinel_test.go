package producer_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// Every error path of Log, LogSync, Ping, Flush, Close and New returns an
// error that wraps exactly one sentinel, the one that says what happened.
func TestEveryErrorWrapsOneSentinel(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	stalled := slstest.New(t, slstest.Config{Latency: time.Hour})
	ok := newProducer(t, s, nil)
	closed := newProducer(t, s, nil)
	closed.Close(context.Background())
	small := func(mutate func(*producer.Config)) *producer.Producer {
		return newProducer(t, stalled, func(c *producer.Config) {
			c.MaxBufferedBytes = 64 << 10
			mutate(c)
		})
	}
	dropping := small(func(c *producer.Config) { c.OnBufferFull = producer.Drop; c.ShedAt = -1 })
	blocking := small(func(c *producer.Config) { c.MaxBlock = 20 * time.Millisecond; c.ShedAt = -1 })
	shedding := small(func(c *producer.Config) { c.OnBufferFull = producer.Drop })
	syncing := newProducer(t, stalled, nil)
	closing := newProducer(t, stalled, nil)
	if err := closing.Log(context.Background(), "app", rec("a", "b")); err != nil {
		t.Fatal(err)
	}
	// Before the cleanups that close them without a bound: give up on
	// what the stalled emulator holds.
	t.Cleanup(func() {
		stalled.DropConnections()
		for _, p := range []*producer.Producer{dropping, blocking, shedding, syncing, closing} {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			p.Close(ctx)
			cancel()
		}
	})
	fill := func(p *producer.Producer) error {
		for range 10_000 {
			r := rec("msg", strings.Repeat("f", 500))
			r.Level = slog.LevelError
			if err := p.Log(context.Background(), "app", r); err != nil {
				return err
			}
		}
		return errors.New("the buffer never filled")
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	short := func() context.Context { return timeout(t, 10*time.Millisecond) }

	for _, tc := range []struct {
		name string
		want error
		err  func() error
	}{
		{"Log: nil producer", producer.ErrInvalid, func() error { return (*producer.Producer)(nil).Log(context.Background(), "app", rec("a", "b")) }},
		{"Log: nil context", producer.ErrInvalid, func() error { return ok.Log(nil, "app", rec("a", "b")) }}, //nolint:staticcheck // testing it
		{"Log: cancelled context", producer.ErrInvalid, func() error { return ok.Log(cancelled, "app", rec("a", "b")) }},
		{"Log: invalid logstore", producer.ErrInvalid, func() error { return ok.Log(context.Background(), "App-Logs", rec("a", "b")) }},
		{"Log: empty key", producer.ErrInvalid, func() error { return ok.Log(context.Background(), "app", rec("", "b")) }},
		{"Log: too large", producer.ErrRecordTooLarge, func() error {
			return ok.Log(context.Background(), "app", rec("a", strings.Repeat("x", producer.DefaultMaxRecordBytes)))
		}},
		{"Log: closed", producer.ErrClosed, func() error { return closed.Log(context.Background(), "app", rec("a", "b")) }},
		{"Log: buffer full, Drop", producer.ErrBufferFull, func() error { return fill(dropping) }},
		{"Log: buffer full, MaxBlock", producer.ErrBufferFull, func() error { return fill(blocking) }},
		{"Log: buffer full, context ended", producer.ErrBufferFull, func() error { return blocking.Log(short(), "app", rec("a", "b")) }},
		{"Log: shed", producer.ErrBufferFull, func() error {
			fill(shedding)
			return shedding.Log(context.Background(), "app", rec("a", "b"))
		}},
		{"LogSync: context ended before the ack", producer.ErrDeliveryTimeout, func() error {
			return syncing.LogSync(short(), "app", rec("a", "b"))
		}},
		{"Ping: nil context", producer.ErrInvalid, func() error { return ok.Ping(nil, "app") }}, //nolint:staticcheck // testing it
		{"Ping: cancelled context", producer.ErrInvalid, func() error { return ok.Ping(cancelled, "app") }},
		{"Ping: invalid logstore", producer.ErrInvalid, func() error { return ok.Ping(context.Background(), "a") }},
		{"Ping: closed", producer.ErrClosed, func() error { return closed.Ping(context.Background(), "app") }},
		{"Ping: missing logstore", producer.ErrLogstoreNotFound, func() error { return ok.Ping(timeout(t, 10*time.Second), "missing") }},
		{"Flush: nil context", producer.ErrInvalid, func() error { return ok.Flush(nil) }}, //nolint:staticcheck // testing it
		{"Flush: context ended", producer.ErrDeliveryTimeout, func() error { return blocking.Flush(short()) }},
		{"Flush: a record failed", producer.ErrLogstoreNotFound, func() error {
			ok.Log(context.Background(), "missing", rec("a", "b"))
			return ok.Flush(timeout(t, 10*time.Second))
		}},
		{"Close: nil context", producer.ErrInvalid, func() error { return ok.Close(nil) }}, //nolint:staticcheck // testing it
		{"Close: context ended", producer.ErrClosed, func() error { return closing.Close(short()) }},
		{"New: invalid config", producer.ErrInvalid, func() error { _, err := producer.New(producer.Config{Project: "Demo_X"}); return err }},
		{"New: bad CA file", producer.ErrInvalid, func() error {
			_, err := producer.New(producer.Config{Project: "demo", Endpoint: s.Endpoint(), Credentials: s.Credentials(), CAFile: "/nonexistent.pem"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			checkOneSentinel(t, tc.name, err, tc.want)
			if err != nil && !strings.HasPrefix(err.Error(), "producer: ") {
				t.Errorf("%q does not start with the package name", err)
			}
		})
	}
}
