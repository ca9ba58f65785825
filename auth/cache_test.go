package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is a Provider whose n-th call (from 1) returns answer(n). It
// records how many calls overlap, and can hold calls at a gate.
type scripted struct {
	answer func(n int) (Credential, error)

	mu        sync.Mutex
	calls     int
	active    int
	maxActive int
	gate      chan struct{}
	entered   chan struct{}
	lastCtx   context.Context
}

func newScripted(answer func(n int) (Credential, error)) *scripted {
	return &scripted{answer: answer, entered: make(chan struct{}, 100)}
}

func (s *scripted) Credential(ctx context.Context) (Credential, error) {
	s.mu.Lock()
	s.calls++
	s.active++
	s.maxActive = max(s.maxActive, s.active)
	n, gate := s.calls, s.gate
	s.lastCtx = ctx
	s.mu.Unlock()
	if gate != nil {
		s.entered <- struct{}{}
		<-gate
	}
	c, err := s.answer(n)
	if err == nil {
		err = ctx.Err()
	}
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
	return c, err
}

func (s *scripted) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *scripted) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
}

func (s *scripted) open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// key returns the n-th test AccessKey.
func key(n int) Credential {
	return Credential{AccessKeyID: fmt.Sprintf("LTAI5tKey%04d", n), AccessKeySecret: fmt.Sprintf("secret-%d", n)}
}

// stsKey returns the n-th test STS credential, expiring at exp.
func stsKey(n int, exp time.Time) Credential {
	return Credential{AccessKeyID: fmt.Sprintf("STS.Key%04d", n), AccessKeySecret: fmt.Sprintf("secret-%d", n), SecurityToken: fmt.Sprintf("token-%d", n), Expiration: exp}
}

// expect checks that p returns the credential numbered want.
func expect(t *testing.T, p Provider, want Credential) {
	t.Helper()
	got, err := p.Credential(context.Background())
	if err != nil {
		t.Fatalf("Credential: %v", err)
	}
	if got != want {
		t.Fatalf("Credential = %v, want %v", got, want)
	}
}

func TestCachingWithoutExpiration(t *testing.T) {
	clk := newFakeClock()
	src := newScripted(func(n int) (Credential, error) { return key(n), nil })
	p := Caching(src, withClock(clk.Now))

	expect(t, p, key(1))
	expect(t, p, key(1))
	clk.Advance(DefaultRefreshInterval - time.Nanosecond)
	expect(t, p, key(1))
	clk.Advance(time.Nanosecond)
	expect(t, p, key(2))
	if src.Calls() != 2 {
		t.Errorf("source called %d times, want 2", src.Calls())
	}

	src2 := newScripted(func(n int) (Credential, error) { return key(n), nil })
	p = Caching(src2, withClock(clk.Now), RefreshInterval(10*time.Second), RefreshInterval(-1))
	expect(t, p, key(1))
	clk.Advance(10 * time.Second)
	expect(t, p, key(2))
}

func TestCachingWithExpiration(t *testing.T) {
	for _, tt := range []struct {
		name      string
		lifetime  time.Duration
		opts      []CacheOption
		refreshIn time.Duration
	}{
		{"default margin", time.Hour, nil, 55 * time.Minute},
		{"custom margin", time.Hour, []CacheOption{RefreshMargin(20 * time.Minute)}, 40 * time.Minute},
		{"margin capped at half the lifetime", 2 * time.Second, nil, time.Second},
		{"non-positive margin means default", time.Hour, []CacheOption{RefreshMargin(0)}, 55 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			src := newScripted(func(n int) (Credential, error) { return stsKey(n, clk.Now().Add(tt.lifetime)), nil })
			p := Caching(src, append(tt.opts, withClock(clk.Now))...)
			start := clk.Now()

			expect(t, p, stsKey(1, start.Add(tt.lifetime)))
			clk.Advance(tt.refreshIn - time.Nanosecond)
			expect(t, p, stsKey(1, start.Add(tt.lifetime)))
			clk.Advance(time.Nanosecond)
			expect(t, p, stsKey(2, clk.Now().Add(tt.lifetime)))
		})
	}
}

func TestCachingKeepsValidCredentialWhileRefreshFails(t *testing.T) {
	clk := newFakeClock()
	exp := clk.Now().Add(time.Hour)
	errDown := errors.New("auth: test source is down")
	var down bool
	src := newScripted(func(n int) (Credential, error) {
		if down {
			return Credential{}, errDown
		}
		return stsKey(n, clk.Now().Add(time.Hour)), nil
	})
	p := Caching(src, withClock(clk.Now))
	expect(t, p, stsKey(1, exp))

	down = true // only the fetch goroutine reads it, after Credential is called
	clk.Advance(55 * time.Minute)
	expect(t, p, stsKey(1, exp)) // refresh failed: still valid, still served
	if src.Calls() != 2 {
		t.Fatalf("source called %d times, want 2", src.Calls())
	}
	expect(t, p, stsKey(1, exp)) // no retry within a second
	if src.Calls() != 2 {
		t.Fatalf("source called %d times, want no retry yet", src.Calls())
	}
	clk.Advance(retryInterval)
	expect(t, p, stsKey(1, exp))
	if src.Calls() != 3 {
		t.Fatalf("source called %d times, want a retry after %v", src.Calls(), retryInterval)
	}

	clk.Advance(5*time.Minute - retryInterval) // now exactly at Expiration
	_, err := p.Credential(context.Background())
	if !errors.Is(err, errDown) {
		t.Fatalf("after expiry: error %v, want the source's error", err)
	}

	down = false
	expect(t, p, stsKey(5, clk.Now().Add(time.Hour)))
}

func TestCachingReturnsRefreshErrorWithoutExpiration(t *testing.T) {
	clk := newFakeClock()
	errDown := errors.New("auth: test source is down")
	var down bool
	src := newScripted(func(n int) (Credential, error) {
		if down {
			return Credential{}, errDown
		}
		return key(n), nil
	})
	p := Caching(src, withClock(clk.Now))
	expect(t, p, key(1))

	down = true
	clk.Advance(DefaultRefreshInterval)
	if _, err := p.Credential(context.Background()); err != errDown {
		t.Fatalf("error %v, want the source's error as it is", err)
	}
	down = false
	expect(t, p, key(3)) // the next call tries again
}

func TestCachingRejectsBadCredentials(t *testing.T) {
	clk := newFakeClock()
	ctx := context.Background()

	expired := Caching(ProviderFunc(func(context.Context) (Credential, error) {
		return stsKey(1, clk.Now().Add(-90*time.Second)), nil
	}), withClock(clk.Now))
	_, err := expired.Credential(ctx)
	checkErr(t, "expired", err, "auth: auth.Caching(auth.ProviderFunc) returned a credential that expired at 2030-01-02T03:02:35Z, 1m30s ago: check the clock")

	empty := Caching(ProviderFunc(func(context.Context) (Credential, error) { return Credential{}, nil }))
	_, err = empty.Credential(ctx)
	checkErr(t, "empty", err, "auth: auth.Caching(auth.ProviderFunc) returned an invalid credential: the AccessKey ID and the AccessKey secret are empty")
}

func TestCachingSingleFlight(t *testing.T) {
	clk := newFakeClock()
	src := newScripted(func(n int) (Credential, error) { return key(n), nil })
	var joined sync.WaitGroup
	p := Caching(src, withClock(clk.Now), withJoinHook(joined.Done))

	for round := 1; round <= 3; round++ {
		src.hold()
		const n = 50
		joined.Add(n - 1)
		var done sync.WaitGroup
		results := make([]Credential, n)
		errs := make([]error, n)
		for i := range n {
			done.Go(func() { results[i], errs[i] = p.Credential(context.Background()) })
		}
		waitFor(t, "the fetch", src.entered)
		waitFor(t, "the other callers to join", wgDone(&joined))
		src.open()
		waitFor(t, "the callers", wgDone(&done))
		for i := range n {
			if errs[i] != nil || results[i] != key(round) {
				t.Errorf("round %d caller %d: %v, %v; want %v", round, i, results[i], errs[i], key(round))
			}
		}
		if src.Calls() != round {
			t.Fatalf("after round %d the source was called %d times, want %d", round, src.Calls(), round)
		}
		clk.Advance(DefaultRefreshInterval)
	}
}

func TestCachingCallerGivesUp(t *testing.T) {
	clk := newFakeClock()
	src := newScripted(func(n int) (Credential, error) { return key(n), nil })
	joined := make(chan struct{}, 1)
	p := Caching(src, withClock(clk.Now), withJoinHook(func() { joined <- struct{}{} }))

	// A caller whose context has already ended starts nothing.
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Credential(dead)
	checkErr(t, "dead context", err, "auth: gave up waiting for a credential from auth.Caching(*auth.scripted): context canceled")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
	if src.Calls() != 0 {
		t.Errorf("source called %d times for a dead context", src.Calls())
	}

	// The first caller gives up while the fetch is in flight; the fetch is
	// not cancelled with it and serves the next caller.
	src.hold()
	type ctxKey struct{}
	ctx, cancelCause := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
	gaveUp := make(chan error, 1)
	go func() {
		_, err := p.Credential(ctx)
		gaveUp <- err
	}()
	waitFor(t, "the fetch", src.entered)
	cause := errors.New("client went away")
	cancelCause(cause)
	err = <-gaveUp
	if !errors.Is(err, cause) {
		t.Errorf("abandoned caller got %v, want the context's cause", err)
	}

	second := make(chan Credential, 1)
	go func() {
		c, _ := p.Credential(context.Background())
		second <- c
	}()
	waitFor(t, "the second caller to join", joined)
	src.open()
	if got := <-second; got != key(1) {
		t.Errorf("second caller got %v, want %v", got, key(1))
	}
	src.mu.Lock()
	fetchCtx := src.lastCtx
	src.mu.Unlock()
	if fetchCtx.Value(ctxKey{}) != "v" {
		t.Error("the fetch did not get the values of the first caller's context")
	}

	// While a refresh is in flight, a caller that gives up gets the
	// credential that is still valid.
	expSrc := newScripted(func(n int) (Credential, error) { return stsKey(n, clk.Now().Add(time.Hour)), nil })
	q := Caching(expSrc, withClock(clk.Now), withJoinHook(func() { joined <- struct{}{} }))
	first := stsKey(1, clk.Now().Add(time.Hour))
	expect(t, q, first)
	clk.Advance(55 * time.Minute)
	expSrc.hold()
	ctx2, cancel2 := context.WithCancel(context.Background())
	got := make(chan Credential, 1)
	go func() {
		c, err := q.Credential(ctx2)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	waitFor(t, "the refresh", expSrc.entered)
	cancel2()
	if c := <-got; c != first {
		t.Errorf("caller that gave up during a refresh got %v, want the still valid %v", c, first)
	}
	expSrc.open()
	expect(t, q, stsKey(2, clk.Now().Add(time.Hour))) // waits for the refresh in flight
	if expSrc.Calls() != 2 {
		t.Errorf("source called %d times, want 2", expSrc.Calls())
	}
}

// TestCachingConcurrentUse hammers a cache while its clock moves, for the
// race detector, and checks that the source never runs twice at once.
func TestCachingConcurrentUse(t *testing.T) {
	clk := newFakeClock()
	src := newScripted(func(n int) (Credential, error) {
		if n%7 == 0 {
			return Credential{}, errors.New("auth: test failure")
		}
		if n%2 == 0 {
			return stsKey(n, clk.Now().Add(2*time.Second)), nil
		}
		return key(n), nil
	})
	p := Caching(src, withClock(clk.Now))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range 200 {
				if i%10 == 0 {
					clk.Advance(700 * time.Millisecond)
				}
				c, err := p.Credential(context.Background())
				if err == nil && c.Validate() != nil {
					t.Errorf("got invalid credential %v", c)
				}
			}
		})
	}
	wg.Wait()
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.maxActive != 1 {
		t.Errorf("source ran %d times at once, want 1", src.maxActive)
	}
}

func TestCachingConstruction(t *testing.T) {
	if _, err := Caching(nil).Credential(context.Background()); err == nil || !strings.Contains(err.Error(), "nil Provider") {
		t.Errorf("Caching(nil).Credential: err = %v, want a nil Provider error", err)
	}

	for _, p := range []Provider{Static(testID, testSecret), Env()} {
		if Caching(p, RefreshInterval(time.Second)) != p {
			t.Errorf("Caching(%v) wraps a provider that needs no caching", p)
		}
	}

	p := Caching(newScripted(func(n int) (Credential, error) { return key(n), nil }))
	if Caching(p) != p {
		t.Error("Caching of a caching provider without options wraps it again")
	}
	if Caching(p, RefreshInterval(time.Second)) == p {
		t.Error("Caching with options returned the provider it was given")
	}
	s := Caching(ProviderFunc(Static(testID, testSecret).Credential))
	if got, want := fmt.Sprintf("%v|%+v|%#v|%s", s, s, s, s), "auth.Caching(auth.ProviderFunc)|auth.Caching(auth.ProviderFunc)|auth.Caching(auth.ProviderFunc)|auth.Caching(auth.ProviderFunc)"; got != want {
		t.Errorf("printed as %s, want %s", got, want)
	}
}

func TestFromCredentialsGoNil(t *testing.T) {
	if _, err := FromCredentialsGo(nil).Credential(context.Background()); err == nil || !strings.Contains(err.Error(), "nil credentials.Credential") {
		t.Errorf("FromCredentialsGo(nil).Credential: err = %v, want a nil credential error", err)
	}
}
