package slstest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

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
	Connections         int64 // connections served (RejectedConnections not counted)
	OpenConnections     int64 // connections open now
	RejectedConnections int64 // connections closed at once because MaxConnections were open
	Authentications     int64 // credentials accepted
	// AuthFailures counts credentials refused: at SASL, or under
	// AtProduce, accepted by SASL and then refused on every request.
	AuthFailures     int64
	ProduceRequests  int64 // produce requests handled
	Records          int64 // records stored
	AuthorizationErr int64 // topics and partitions answered TOPIC_AUTHORIZATION_FAILED (metadata, produce, fetch, list offsets)
	FaultsServed     int64 // produce requests answered with an injected fault
	Throttled        int64 // produce requests answered with a throttle (ThrottleShard)
	// PendingRequestBytes is what the buffers of request frames being
	// read or handled hold now, all connections together: at most
	// Config.MaxPendingRequestBytes.
	PendingRequestBytes int64
}

// Server is a running SLS Kafka endpoint emulator.
type Server struct {
	cfg     Config        // AccessKeySecret cleared: the keyring and creds hold it
	creds   auth.Provider // the first AccessKey, for Credentials
	ca      *authority
	ln      net.Listener
	mem     *memListener // the listener under ln with InMemory, else nil
	keys    *keyring
	store   *store
	groups  *coordinator
	log     *slog.Logger
	host    string
	port    int
	latency atomic.Int64

	decompressor kgo.Decompressor
	decodeSlots  chan struct{} // one per batch being decompressed
	codecs       codecCounts   // stored batches per codec; batch.go

	onLogMu sync.Mutex // held across storing logs and calling OnLog

	plaintextSeen atomic.Bool // a plaintext client has been logged

	pendingFrames atomic.Int64 // bytes reserved by request frame buffers, at most cfg.MaxPendingRequestBytes

	mu      sync.Mutex
	conns   map[*conn]struct{}
	faults  map[string][]Fault
	closed  bool
	atLimit bool // MaxConnections reached; logged once until it frees up

	wg        sync.WaitGroup
	closeOnce sync.Once
	done      chan struct{}

	stats struct {
		connections, rejected, auths, authFailures, produces, records, authz, faults atomic.Int64
		throttled                                                                    atomic.Int64
	}
}

// Start starts an emulator. Close it when done.
func Start(cfg Config) (*Server, error) {
	if cfg.InMemory {
		return start(cfg, func(string) (net.Listener, error) { return newMemListener(), nil })
	}
	return start(cfg, func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) })
}

// start starts an emulator that serves on the listener listen returns.
func start(cfg Config, listen func(addr string) (net.Listener, error)) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	decompressor, err := newDecompressor(cfg.MaxDecompressedBytes)
	if err != nil {
		return nil, err
	}
	ln, err := listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("slstest: listen on %s: %w", cfg.Addr, err)
	}
	mem, _ := ln.(*memListener)
	host, port := cfg.AdvertisedHost, inMemoryPort
	if addr, ok := ln.Addr().(*net.TCPAddr); ok {
		port = addr.Port
		if host == "" {
			host = addr.IP.String()
			if addr.IP.IsUnspecified() {
				host = "127.0.0.1"
			}
		}
	} else if host == "" {
		host = inMemoryHost
	}
	ca, err := newAuthority(cfg.CA, []string{host})
	if err != nil {
		ln.Close()
		return nil, err
	}

	s := &Server{
		cfg:          cfg,
		creds:        auth.Static(cfg.AccessKeyID, cfg.AccessKeySecret),
		ca:           ca,
		mem:          mem,
		keys:         &keyring{keys: make(map[string]*key), now: cfg.Now},
		store:        newStore(cfg.Logstores, cfg.JumpingOffsets),
		log:          cfg.Logger,
		host:         host,
		port:         port,
		decompressor: decompressor,
		decodeSlots:  make(chan struct{}, runtime.GOMAXPROCS(0)),
		conns:        make(map[*conn]struct{}),
		faults:       make(map[string][]Fault),
		done:         make(chan struct{}),
	}
	s.store.maxBytes = int64(cfg.MaxStoredBytes)
	s.groups = newCoordinator()
	s.latency.Store(int64(cfg.Latency))
	s.keys.add(cfg.AccessKeyID, cfg.AccessKeySecret, "", time.Time{})
	// Only the keyring and creds keep the secret, so that printing a
	// Server (%+v in a test failure, say) does not show it.
	s.cfg.AccessKeySecret = ""
	s.ln = tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{ca.server},
		MinVersion:   tls.VersionTLS12,
		// No resumption to offer: a TLS 1.3 session ticket is one more
		// write that a client which never reads would block.
		SessionTicketsDisabled: true,
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
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			continue
		}
		s.stats.connections.Add(1)
		s.wg.Add(2)
		go func() {
			defer s.wg.Done()
			defer c.exit()
			c.serve()
		}()
		go func() {
			defer s.wg.Done()
			defer c.exit()
			c.write()
		}()
	}
}

// track registers a new connection, or reports false if the server is
// closed or MaxConnections are open.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		s.stats.rejected.Add(1)
		if !s.atLimit {
			s.atLimit = true
			s.log.Warn("slstest: connection limit reached, closing new connections until one ends", "max_connections", s.cfg.MaxConnections, "remote", c.remote())
		}
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.atLimit = s.atLimit && len(s.conns) >= s.cfg.MaxConnections
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
// CA, with ServerName set to the endpoint's host. Each call returns a new
// config the caller may modify.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.ca.pool, ServerName: s.host, MinVersion: tls.VersionTLS12}
}

// CA returns the emulator's certificate authority: its certificate and
// private key. Hand it to Config.CA to start another emulator (after this
// one is closed, say, on the same Addr) that clients configured for this
// one still trust.
func (s *Server) CA() tls.Certificate {
	ca := s.ca.ca
	ca.Certificate = [][]byte{ca.Certificate[0]}
	return ca
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

// RevokeKey disables an AccessKey. New authentications with it fail where
// Config.AuthFailure says, and the requests of connections it already
// authenticated are answered with TOPIC_AUTHORIZATION_FAILED.
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
	s.mu.Lock()
	open := len(s.conns)
	s.mu.Unlock()
	return Stats{
		Connections:         s.stats.connections.Load(),
		OpenConnections:     int64(open),
		RejectedConnections: s.stats.rejected.Load(),
		Authentications:     s.stats.auths.Load(),
		AuthFailures:        s.stats.authFailures.Load(),
		ProduceRequests:     s.stats.produces.Load(),
		Records:             s.stats.records.Load(),
		AuthorizationErr:    s.stats.authz.Load(),
		FaultsServed:        s.stats.faults.Load(),
		Throttled:           s.stats.throttled.Load(),
		PendingRequestBytes: s.pendingFrames.Load(),
	}
}

// reserveFrame reserves n bytes of request frame buffer, or reports false
// if that would take what all connections hold past
// Config.MaxPendingRequestBytes.
func (s *Server) reserveFrame(n int) bool {
	if s.pendingFrames.Add(int64(n)) > int64(s.cfg.MaxPendingRequestBytes) {
		s.pendingFrames.Add(-int64(n))
		return false
	}
	return true
}

// releaseFrame returns what reserveFrame reserved.
func (s *Server) releaseFrame(n int) { s.pendingFrames.Add(-int64(n)) }

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
		s.groups.close()
	})
	return err
}
