package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// withClock replaces the cache's clock.
func withClock(now func() time.Time) CacheOption {
	return func(c *cacheConfig) { c.now = now }
}

// withJoinHook makes the cache call f whenever a caller joins a fetch that
// is already in flight.
func withJoinHook(f func()) CacheOption {
	return func(c *cacheConfig) { c.onJoin = f }
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// isolate shields a test from the machine's Alibaba Cloud configuration: a
// fresh HOME, no ALIBABA_CLOUD_* variables, and no ECS metadata lookup, so
// that the credentials-go chain sees only what the test sets up and never
// leaves 127.0.0.1. It returns the new HOME.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") {
			t.Setenv(k, "") // restores the original value after the test
			os.Unsetenv(k)
		}
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	return home
}

// writeFile writes a fixture, creating its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(path[:strings.LastIndex(path, "/")], 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// stsServer is a credentials URI endpoint (ALIBABA_CLOUD_CREDENTIALS_URI)
// that issues a new STS credential on every request: the n-th request gets
// AccessKey ID "STS.key-n", secret "secret-n" and token "token-n", valid for
// lifetime.
type stsServer struct {
	*httptest.Server
	lifetime time.Duration

	mu       sync.Mutex
	hits     int
	gate     chan struct{} // when set, requests wait for it to close
	entered  chan struct{} // receives a value when a request reaches the gate
	override func(w http.ResponseWriter) bool
}

func newSTSServer(t *testing.T, lifetime time.Duration) *stsServer {
	s := &stsServer{lifetime: lifetime, entered: make(chan struct{}, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.open()
		s.Close()
	})
	return s
}

func (s *stsServer) serve(w http.ResponseWriter, r *http.Request) {
	// credentials-go builds a new http.Transport for every request and never
	// closes it; closing the connection keeps its goroutines from lingering.
	w.Header().Set("Connection", "close")
	s.mu.Lock()
	s.hits++
	n, gate, override := s.hits, s.gate, s.override
	s.mu.Unlock()
	if gate != nil {
		s.entered <- struct{}{}
		<-gate
	}
	if override != nil && override(w) {
		return
	}
	json.NewEncoder(w).Encode(map[string]string{
		"Code":            "Success",
		"AccessKeyId":     fmt.Sprintf("STS.key-%d", n),
		"AccessKeySecret": fmt.Sprintf("secret-%d", n),
		"SecurityToken":   fmt.Sprintf("token-%d", n),
		"Expiration":      time.Now().Add(s.lifetime).UTC().Format("2006-01-02T15:04:05Z"),
	})
}

// Hits returns the number of requests served so far.
func (s *stsServer) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// hold makes later requests wait until open is called.
func (s *stsServer) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
}

// open releases waiting requests and stops holding new ones.
func (s *stsServer) open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// setOverride makes f answer requests while it returns true.
func (s *stsServer) setOverride(f func(w http.ResponseWriter) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override = f
}

// waitFor fails the test if ch does not deliver within a generous bound.
// The bound only turns a hang into a failure; it does not order events.
func waitFor(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// wgDone returns a channel closed when wg's counter reaches zero.
func wgDone(wg *sync.WaitGroup) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		wg.Wait()
		close(ch)
	}()
	return ch
}

// mustNotContain fails if s contains any of the secrets.
func mustNotContain(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Errorf("%s leaks %q: %s", what, secret, s)
		}
	}
}

// checkErr fails unless err is non-nil, follows the error style and contains
// every string in want.
func checkErr(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, want)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "auth: ") {
		t.Errorf("%s: error %q lacks the \"auth: \" prefix", what, msg)
	}
	if strings.Contains(msg, ": auth: ") {
		t.Errorf("%s: error %q repeats the package prefix", what, msg)
	}
	if strings.HasSuffix(msg, ".") {
		t.Errorf("%s: error %q ends with a period", what, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not contain %q", what, msg, w)
		}
	}
}
