package slstest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

// Config configures an emulator. The zero value is usable: project "demo",
// one logstore "app" with 2 shards, a generated AccessKey, 127.0.0.1 on a
// free port.
type Config struct {
	// Project is the SLS project; SASL usernames must equal it.
	// Default "demo".
	Project string
	// Logstores maps logstore names to shard counts. Default {"app": 2}.
	// A count below 1 means 1.
	Logstores map[string]int
	// Addr is the listen address. Default "127.0.0.1:0" (a free port).
	Addr string
	// AdvertisedHost is the host name that metadata responses tell clients
	// to connect to, and that the server certificate is valid for in
	// addition to 127.0.0.1, ::1 and localhost. Default: the host of the
	// listening address (127.0.0.1 when listening on all interfaces).
	AdvertisedHost string
	// AccessKeyID and AccessKeySecret are the first valid AccessKey, the
	// one Credentials returns. Default: generated at start.
	AccessKeyID, AccessKeySecret string
	// Latency delays every produce response, pipelined requests included.
	// Change it at run time with SetLatency.
	Latency time.Duration
	// MaxBatchBytes is the largest record batch a partition accepts; a
	// larger one is answered with MESSAGE_TOO_LARGE. Default 1048588, the
	// Kafka broker default (message.max.bytes).
	MaxBatchBytes int
	// MaxRequestBytes is the largest request frame read; a client that sends
	// a larger one is disconnected, as a Kafka broker does
	// (socket.request.max.bytes). Default 100 MiB. Before a client has
	// authenticated, frames are capped at 512 KiB as well, as Kafka's
	// sasl.server.max.receive.size caps them.
	MaxRequestBytes int
	// Discard makes the emulator validate and acknowledge record batches
	// (framing, CRC, sizes) without decompressing or storing them: Logs
	// stays empty and OnLog is not called, while Stats and offsets still
	// count records. It keeps the emulator's own cost out of benchmarks.
	Discard bool
	// OnLog, if set, is called for every stored log, from the goroutine
	// serving the connection. Calls are made one at a time, in offset
	// order within each shard, and a log is visible to Logs before its
	// call. Fields is the callee's own copy. OnLog must not block: no
	// other log is stored while it runs.
	OnLog func(logstore string, l Log)
	// Logger receives the emulator's own diagnostics (connections,
	// authentication failures, faults). Default: discarded.
	Logger *slog.Logger
	// Now is the clock used for STS expiry. Default time.Now.
	Now func() time.Time
}

// Fault is a failure the emulator serves on demand, as a produce error.
type Fault int

const (
	// StorageError answers produce requests with KAFKA_STORAGE_ERROR, the
	// error SLS returns when its storage is briefly unavailable; clients
	// should wait a second and retry.
	StorageError Fault = iota + 1
	// NetworkError answers produce requests with NETWORK_EXCEPTION, which
	// SLS also documents as "wait 1 s and retry".
	NetworkError
)

// String returns the Kafka error name the fault is served as.
func (f Fault) String() string {
	switch f {
	case StorageError:
		return "KAFKA_STORAGE_ERROR"
	case NetworkError:
		return "NETWORK_EXCEPTION"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// Stats counts what the emulator has seen since it started.
type Stats struct {
	Connections      int64 // TCP connections accepted
	Authentications  int64 // successful SASL authentications
	AuthFailures     int64 // refused SASL authentications
	ProduceRequests  int64 // produce requests handled
	Records          int64 // records stored
	AuthorizationErr int64 // produce partitions refused with TOPIC_AUTHORIZATION_FAILED
	FaultsServed     int64 // produce requests answered with an injected fault
}

// Server is a running SLS Kafka endpoint emulator.
type Server struct {
	cfg     Config        // AccessKeySecret cleared: the keyring and creds hold it
	creds   auth.Provider // the first AccessKey, for Credentials
	ca      *authority
	ln      net.Listener
	keys    *keyring
	store   *store
	log     *slog.Logger
	host    string
	port    int
	latency atomic.Int64

	onLogMu sync.Mutex // held across storing logs and calling OnLog

	mu     sync.Mutex
	conns  map[*conn]struct{}
	faults map[string][]Fault
	closed bool

	wg        sync.WaitGroup
	closeOnce sync.Once
	done      chan struct{}

	stats struct {
		connections, auths, authFailures, produces, records, authz, faults atomic.Int64
	}
}

// Start starts an emulator. Close it when done.
func Start(cfg Config) (*Server, error) {
	return start(cfg, func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) })
}

// start starts an emulator that serves on the listener listen returns.
func start(cfg Config, listen func(addr string) (net.Listener, error)) (*Server, error) {
	if cfg.Project == "" {
		cfg.Project = "demo"
	}
	if len(cfg.Logstores) == 0 {
		cfg.Logstores = map[string]int{"app": 2}
	}
	logstores := make(map[string]int, len(cfg.Logstores))
	for name, n := range cfg.Logstores {
		if name == "" {
			return nil, errors.New("slstest: empty logstore name in Config.Logstores")
		}
		logstores[name] = max(n, 1)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID = "LTAI" + rand.Text()[:16]
	}
	if cfg.AccessKeySecret == "" {
		cfg.AccessKeySecret = rand.Text()[:26]
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 1048588
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 100 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ln, err := listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("slstest: listen on %s: %w", cfg.Addr, err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := cfg.AdvertisedHost
	if host == "" {
		host = addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
	}
	ca, err := newAuthority([]string{host})
	if err != nil {
		ln.Close()
		return nil, err
	}

	s := &Server{
		cfg:    cfg,
		creds:  auth.Static(cfg.AccessKeyID, cfg.AccessKeySecret),
		ca:     ca,
		keys:   &keyring{keys: make(map[string]*key), now: cfg.Now},
		store:  newStore(logstores),
		log:    logger,
		host:   host,
		port:   addr.Port,
		conns:  make(map[*conn]struct{}),
		faults: make(map[string][]Fault),
		done:   make(chan struct{}),
	}
	s.latency.Store(int64(cfg.Latency))
	s.keys.add(cfg.AccessKeyID, cfg.AccessKeySecret, "", time.Time{})
	// Only the keyring and creds keep the secret, so that printing a
	// Server (%+v in a test failure, say) does not show it.
	s.cfg.AccessKeySecret = ""
	s.ln = tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{ca.server},
		MinVersion:   tls.VersionTLS12,
	})
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// New starts an emulator for a test and closes it when the test ends. It
// fails the test if the emulator cannot start.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Accept retry delays after a failed accept (EMFILE, say), as
// net/http.Server.Serve uses: the first, doubled on every further failure
// up to the last.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

func (s *Server) accept() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Running out of file descriptors or a connection aborted
			// before it was accepted is temporary: keep serving.
			delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
			s.log.Warn("slstest: accept failed, retrying", "err", err, "retry_in", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		c := &conn{s: s, nc: nc, resps: make(chan response, 64), quit: make(chan struct{})}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.stats.connections.Add(1)
		s.wg.Add(2)
		go c.serve()
		go c.write()
	}
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// String names the server by its project and endpoint.
func (s *Server) String() string {
	if s == nil {
		return "<nil>"
	}
	return "slstest.Server(" + s.cfg.Project + "@" + s.Endpoint().String() + ")"
}

// Format prints String for every verb. fmt would otherwise print the
// fields, which hold the AccessKeys (any verb fmt does not expect for a
// field, %s say, prints what its pointers point to), and reading them races
// with the goroutines serving clients.
func (s *Server) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// Endpoint returns the address clients bootstrap from.
func (s *Server) Endpoint() endpoint.Endpoint { return endpoint.Endpoint{Host: s.host, Port: s.port} }

// Project returns the project name clients must use as SASL username.
func (s *Server) Project() string { return s.cfg.Project }

// Credentials returns a provider of the emulator's first AccessKey.
func (s *Server) Credentials() auth.Provider { return s.creds }

// TLSConfig returns a client TLS configuration that trusts the emulator's
// generated CA. Each call returns a new config the caller may modify.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.ca.pool, MinVersion: tls.VersionTLS12}
}

// CACertPEM returns the emulator's CA certificate in PEM form, for clients
// that read trust roots from a file (kcat, Beats, Telegraf).
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.ca.caPEM...) }

// Logs returns every log stored in a logstore so far: in arrival order,
// which is offset order within each shard. It returns nil for an unknown
// logstore.
func (s *Server) Logs(logstore string) []Log {
	return s.store.logs(logstore)
}

// WaitLogs blocks until the logstore holds at least n logs, then returns
// them all, or returns what it holds and an error when ctx is done.
func (s *Server) WaitLogs(ctx context.Context, logstore string, n int) ([]Log, error) {
	return s.store.wait(ctx, logstore, n)
}

// AddKey makes another AccessKey valid.
func (s *Server) AddKey(id, secret string) { s.keys.add(id, secret, "", time.Time{}) }

// AddSTSKey makes an STS credential valid until expires. Clients send it as
// <id>#<secret>#<token>.
func (s *Server) AddSTSKey(id, secret, token string, expires time.Time) {
	s.keys.add(id, secret, token, expires)
}

// RevokeKey disables an AccessKey. New authentications with it fail, and
// produce requests on connections it authenticated are answered with
// TOPIC_AUTHORIZATION_FAILED.
func (s *Server) RevokeKey(id string) { s.keys.revoke(id) }

// SetShards creates a logstore with n shards, or grows an existing one to n
// shards (a shard split, as clients see it after a metadata refresh).
func (s *Server) SetShards(logstore string, n int) { s.store.setShards(logstore, max(n, 1)) }

// SetLatency changes the delay added to every produce response.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// FailNext makes the next n produce requests that write to logstore fail
// with f on every partition of that logstore. Nothing of a failed request
// is stored.
func (s *Server) FailNext(logstore string, f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[logstore] = append(s.faults[logstore], f)
	}
}

// takeFault pops the next pending fault for a logstore.
func (s *Server) takeFault(logstore string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[logstore]
	if len(q) == 0 {
		return 0, false
	}
	s.faults[logstore] = q[1:]
	s.stats.faults.Add(1)
	return q[0], true
}

// DropConnections closes every client connection now. Responses not yet
// written are lost, as when a network path breaks.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Connections:      s.stats.connections.Load(),
		Authentications:  s.stats.auths.Load(),
		AuthFailures:     s.stats.authFailures.Load(),
		ProduceRequests:  s.stats.produces.Load(),
		Records:          s.stats.records.Load(),
		AuthorizationErr: s.stats.authz.Load(),
		FaultsServed:     s.stats.faults.Load(),
	}
}

// Close stops the emulator: it closes the listener and every connection and
// waits for every goroutine it started. Later calls return nil.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		err = s.ln.Close()
		s.DropConnections()
		s.wg.Wait()
	})
	return err
}
