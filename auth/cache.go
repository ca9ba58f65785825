package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of [Caching]; see [RefreshInterval] and [RefreshMargin].
const (
	// DefaultRefreshInterval is how long a credential without Expiration is
	// reused before the source is asked again.
	DefaultRefreshInterval = time.Minute
	// DefaultRefreshMargin is how long before its Expiration a credential is
	// replaced.
	DefaultRefreshMargin = 5 * time.Minute
)

const (
	// retryInterval is how soon a failed refresh is retried while the cached
	// credential is still valid.
	retryInterval = time.Second
	// fetchTimeout bounds one call of the wrapped Provider, which runs
	// detached from the callers' contexts so that one caller giving up does
	// not fail the others.
	fetchTimeout = time.Minute
)

// CacheOption tunes [Caching] and [FromCredentialsGo].
type CacheOption func(*cacheConfig)

type cacheConfig struct {
	interval, margin time.Duration
	now              func() time.Time // the clock, replaced in tests
	onJoin           func()           // test hook: a caller joined a fetch in flight
}

// RefreshInterval sets how long a credential whose Expiration is zero is
// reused before the source is asked again; d <= 0 selects
// [DefaultRefreshInterval]. A shorter interval picks up a rotated key sooner
// and asks the source more often.
func RefreshInterval(d time.Duration) CacheOption {
	return func(c *cacheConfig) {
		if d > 0 {
			c.interval = d
		}
	}
}

// RefreshMargin sets how long before its Expiration a credential is replaced;
// d <= 0 selects [DefaultRefreshMargin]. The margin is capped at half of the
// credential's remaining lifetime when it was fetched, so short-lived
// credentials are still reused for a while.
func RefreshMargin(d time.Duration) CacheOption {
	return func(c *cacheConfig) {
		if d > 0 {
			c.margin = d
		}
	}
}

// Caching returns a Provider that asks p for a credential only when the cached
// one is due for refresh, and that is safe for concurrent use even if p is
// not:
//
//   - Callers that arrive while a fetch is in flight wait for that fetch:
//     many connections dialing at once cause one call of p, never a stampede.
//     A caller whose ctx ends stops waiting; the fetch runs on and fills
//     the cache for the next caller. It gets a one-minute deadline, which
//     bounds providers that honour their ctx; credentials-go's sources do
//     not take one and rely on their own HTTP and command timeouts.
//   - A credential with an Expiration is replaced [RefreshMargin] (default 5
//     minutes, at most half its lifetime) before it expires. If that refresh
//     fails, the cached credential keeps being returned until it expires,
//     and the refresh is retried at most once a second.
//   - A credential without Expiration is reused for [RefreshInterval]
//     (default 1 minute); if the refresh then fails, the error is returned.
//   - A credential that p returns already expired, or that fails
//     [Credential.Validate], is an error and is not cached.
//
// Errors of p are returned as they are, since p knows best which source
// failed.
//
// Caching returns p itself when p needs no caching: [Static] and [Env], which
// are cheap (and Env should see a changed environment at once), and a
// Provider from Caching, [Default] or [FromCredentialsGo] when no options are
// given. So it is safe to wrap any Provider you are handed.
func Caching(p Provider, opts ...CacheOption) Provider {
	if p == nil {
		return ProviderFunc(func(context.Context) (Credential, error) {
			return Credential{}, errors.New("auth: Caching was given a nil Provider: use auth.Default(), auth.Env() or auth.Static(id, secret)")
		})
	}
	switch p := p.(type) {
	case *static, envProvider:
		return p
	case *cachingProvider:
		if len(opts) == 0 {
			return p
		}
	}
	name := fmt.Sprintf("%T", p)
	if s, ok := p.(fmt.Stringer); ok {
		name = s.String()
	}
	return newCache(p, "auth.Caching("+name+")", opts)
}

// cachingProvider implements Caching. mu guards every field below it; src is
// called by one goroutine at a time, the one running fetch.
type cachingProvider struct {
	src  Provider
	name string
	cfg  cacheConfig

	mu        sync.Mutex
	cred      Credential // last good credential
	have      bool       // cred is set
	refreshAt time.Time  // when cred is due for refresh
	inflight  *flight    // the fetch in progress, or nil
}

// flight is one call of the source; done is closed when cred and err are set.
type flight struct {
	done chan struct{}
	cred Credential
	err  error
}

func newCache(src Provider, name string, opts []CacheOption) *cachingProvider {
	c := &cachingProvider{src: src, name: name, cfg: cacheConfig{
		interval: DefaultRefreshInterval,
		margin:   DefaultRefreshMargin,
		now:      time.Now,
	}}
	for _, o := range opts {
		o(&c.cfg)
	}
	return c
}

// Credential returns the cached credential, or waits for a fetch.
func (c *cachingProvider) Credential(ctx context.Context) (Credential, error) {
	c.mu.Lock()
	if c.have && c.cfg.now().Before(c.refreshAt) {
		cred := c.cred
		c.mu.Unlock()
		return cred, nil
	}
	f := c.inflight
	joined := f != nil
	if f == nil {
		if err := ctx.Err(); err != nil {
			c.mu.Unlock()
			return c.abandon(ctx)
		}
		f = &flight{done: make(chan struct{})}
		c.inflight = f
		go c.fetch(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()
	if joined && c.cfg.onJoin != nil {
		c.cfg.onJoin()
	}

	select {
	case <-f.done:
		return f.cred, f.err
	case <-ctx.Done():
		return c.abandon(ctx)
	}
}

// abandon is Credential's answer when ctx ends before a fetch does: the
// cached credential if it is still valid, or the context's error.
func (c *cachingProvider) abandon(ctx context.Context) (Credential, error) {
	c.mu.Lock()
	cred, ok := c.stillValid(c.cfg.now())
	c.mu.Unlock()
	if ok {
		return cred, nil
	}
	return Credential{}, fmt.Errorf("auth: gave up waiting for a credential from %s: %w", c.name, context.Cause(ctx))
}

// stillValid returns the cached credential if its known Expiration has not
// passed. c.mu must be held.
func (c *cachingProvider) stillValid(now time.Time) (Credential, bool) {
	if c.have && !c.cred.Expiration.IsZero() && now.Before(c.cred.Expiration) {
		return c.cred, true
	}
	return Credential{}, false
}

// fetch calls the source once, updates the cache and completes f.
func (c *cachingProvider) fetch(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	cred, err := c.src.Credential(ctx)
	cancel()

	c.mu.Lock()
	now := c.cfg.now()
	if err == nil {
		err = c.check(cred, now)
	}
	switch cached, ok := c.stillValid(now); {
	case err == nil:
		c.cred, c.have = cred, true
		c.refreshAt = c.nextRefresh(cred, now)
	case ok:
		// Keep serving the credential that still works; try again soon.
		cred, err = cached, nil
		c.refreshAt = now.Add(min(retryInterval, cached.Expiration.Sub(now)/2))
	default:
		cred = Credential{}
	}
	f.cred, f.err = cred, err
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
}

// check rejects a credential the source should not have returned.
func (c *cachingProvider) check(cred Credential, now time.Time) error {
	if p := cred.problem(plainNames); p != "" {
		return fmt.Errorf("auth: %s returned an invalid credential: %s", c.name, p)
	}
	if !cred.Expiration.IsZero() && !now.Before(cred.Expiration) {
		return fmt.Errorf("auth: %s returned a credential that expired at %s, %s ago: check the clock of this machine and the configuration of the credential source",
			c.name, cred.Expiration.Format(time.RFC3339), now.Sub(cred.Expiration).Round(time.Second))
	}
	return nil
}

// nextRefresh returns when a credential fetched at now is due for refresh.
func (c *cachingProvider) nextRefresh(cred Credential, now time.Time) time.Time {
	if cred.Expiration.IsZero() {
		return now.Add(c.cfg.interval)
	}
	margin := min(c.cfg.margin, cred.Expiration.Sub(now)/2)
	return cred.Expiration.Add(-margin)
}

// String describes the provider without its credential.
func (c *cachingProvider) String() string { return c.name }

// Format keeps the cached credential out of every fmt verb, including %+v
// and %#v.
func (c *cachingProvider) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.name, c.name) }
