package slstest

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handshakeTimeout bounds the TLS handshake and the SASL exchange of a new
// connection, reads and writes alike, so that a client that connects and
// says nothing, speaks plaintext, or sends requests and never reads the
// responses does not hold a connection for long.
const handshakeTimeout = 10 * time.Second

// maxSASLFrameBytes caps request frames before SASL authentication, as
// Kafka's sasl.server.max.receive.size (default 512 KiB) does: a client that
// has not authenticated cannot make the emulator allocate MaxRequestBytes.
const maxSASLFrameBytes = 512 << 10

// initialFrameBytes is the buffer a request frame is read into at first.
// It doubles as the bytes arrive, up to the size the frame declares, so
// that a frame header costs what the client sent, not what it declared.
const initialFrameBytes = 64 << 10

// Bounds on the responses a connection queues for its writer: a client
// may pipeline requests (librdkafka sends up to a million), but one that
// does not read its responses must not make the emulator hold them.
// When either bound is reached the connection stops reading requests
// until the client reads, as a Kafka broker mutes a connection whose
// response is not yet sent. One response is always let through, however
// large.
const (
	maxQueuedResponses     = 64
	maxQueuedResponseBytes = 8 << 20
)

// maxPreAuthRequests bounds the requests read before SASL authentication
// completes. A client needs at most four (ApiVersions, again at a lower
// version after UNSUPPORTED_VERSION, SaslHandshake, SaslAuthenticate).
const maxPreAuthRequests = 8

// conn serves one client connection. Requests are read and handled in order
// by serve; responses are written in the same order by write, each no
// earlier than its due time, so injected latency does not stop pipelining.
// Both goroutines end when the connection ends.
type conn struct {
	s      *Server
	nc     net.Conn
	resps  chan response
	queued atomic.Int64  // bytes of the responses in resps and being written
	freed  chan struct{} // signalled by write whenever queued shrinks
	quit   chan struct{} // closed by close: stop now
	once   sync.Once
	alive  atomic.Int32 // goroutines of the connection still running
	opened time.Time    // handshakeTimeout counts from here

	// authed is set once SASL has completed; the writer reads it to pick
	// its deadline.
	authed atomic.Bool

	// Owned by serve.
	state    saslState
	clientID string   // from the latest request header
	requests int      // requests read before authentication
	id       identity // the AccessKey the connection authenticated with
	denied   error    // AtProduce: why the credential was refused
	// throttledUntil is when a throttle (Server.ThrottleShard) ends.
	throttledUntil time.Time
}

type response struct {
	frame []byte
	due   time.Time
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, resps: make(chan response, maxQueuedResponses), freed: make(chan struct{}, 1), quit: make(chan struct{}), opened: time.Now()}
	c.alive.Store(2)
	return c
}

// close closes the connection at once; queued responses are dropped. It
// closes the transport under TLS: tls.Conn.Close first writes a
// close_notify alert, which blocks for up to 5 s on a client that does not
// read.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.quit)
		if tc, ok := c.nc.(*tls.Conn); ok {
			tc.NetConn().Close()
		} else {
			c.nc.Close()
		}
	})
}

// exit is deferred by both goroutines of the connection; the last one out
// removes the connection from the server.
func (c *conn) exit() {
	if c.alive.Add(-1) == 0 {
		c.s.forget(c)
	}
}

func (c *conn) serve() {
	// The writer closes the connection once it has written what is queued,
	// so that a final response (a SASL failure) reaches the client: a
	// handler that stops serving queues its last response, then returns
	// false.
	defer close(c.resps)

	c.nc.SetDeadline(c.opened.Add(handshakeTimeout))
	if tc, ok := c.nc.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			c.handshakeFailed(err)
			c.close()
			return
		}
	}

	var size [4]byte
	for {
		if c.state == saslAuthenticated {
			c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
		} else {
			c.requests++
			if c.requests > maxPreAuthRequests {
				c.s.log.Warn("slstest: too many requests before SASL authentication, closing", "remote", c.remote(), "limit", maxPreAuthRequests)
				c.close()
				return
			}
		}
		if _, err := io.ReadFull(c.nc, size[:]); err != nil {
			c.readFailed(err)
			return
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		limit := c.s.cfg.MaxRequestBytes
		if c.state != saslAuthenticated {
			limit = min(limit, maxSASLFrameBytes)
		}
		if n < 0 || int(n) > limit {
			c.s.log.Warn("slstest: request frame too large, closing connection", "remote", c.remote(), "bytes", n, "limit", limit)
			c.close()
			return
		}
		body, err := c.readFrame(int(n))
		if err != nil {
			c.readFailed(err)
			return
		}
		keep := c.handleFrame(body)
		// Nothing keeps the frame past handleFrame: stored values and
		// responses are copies.
		c.s.releaseFrame(cap(body))
		if !keep {
			return
		}
	}
}

// errFrameBudget ends a connection whose frame does not fit in what is
// left of Config.MaxPendingRequestBytes.
var errFrameBudget = errors.New("slstest: request bytes held by all connections at Config.MaxPendingRequestBytes")

// readFrame reads a request body of n bytes into a buffer that grows with
// the bytes that arrive, each growth reserved from the bytes all
// connections may hold together (Server.reserveFrame). The caller releases
// cap(body) once it is done with the body.
func (c *conn) readFrame(n int) ([]byte, error) {
	size := min(n, initialFrameBytes)
	if !c.s.reserveFrame(size) {
		return nil, errFrameBudget
	}
	body := make([]byte, 0, size)
	for len(body) < n {
		if len(body) == cap(body) {
			next := min(n, 2*cap(body))
			if !c.s.reserveFrame(next - cap(body)) {
				c.s.releaseFrame(cap(body))
				return nil, errFrameBudget
			}
			grown := make([]byte, len(body), next)
			copy(grown, body)
			body = grown
		}
		m, err := c.nc.Read(body[len(body):cap(body)])
		body = body[:len(body)+m]
		if err != nil && len(body) < n {
			c.s.releaseFrame(cap(body))
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return body, nil
}

// readFailed ends a connection whose client went away, idled past its
// deadline or sent a partial frame. Nothing queued can reach it any more,
// so the writer stops too, even if a response is held back by latency.
func (c *conn) readFailed(err error) {
	if errors.Is(err, errFrameBudget) {
		c.s.log.Warn("slstest: requests being read by all connections hold Config.MaxPendingRequestBytes, closing", "remote", c.remote(), "max_pending_request_bytes", c.s.cfg.MaxPendingRequestBytes)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		if c.state == saslAuthenticated {
			c.s.log.Debug("slstest: idle connection closed", "remote", c.remote(), "idle_timeout", c.s.cfg.IdleTimeout)
		} else {
			c.s.log.Info("slstest: client did not authenticate in time, closing", "remote", c.remote(), "timeout", handshakeTimeout)
		}
	}
	c.close()
}

// handshakeFailed logs a failed TLS handshake. A client speaking plaintext
// to the TLS port only sees its connection break ("broken pipe"), so the
// first such client is logged as a warning that names the fix.
func (c *conn) handshakeFailed(err error) {
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) && !c.s.plaintextSeen.Swap(true) {
		c.s.log.Warn("slstest: a client spoke plaintext to the TLS-only port; SLS takes SASL_SSL only: set security.protocol=SASL_SSL (TLS on) in the client",
			"remote", c.remote(), "err", err)
		return
	}
	c.s.log.Debug("slstest: TLS handshake failed", "remote", c.remote(), "err", err)
}

func (c *conn) remote() string { return c.nc.RemoteAddr().String() }

// handleFrame handles one request frame and reports whether to keep serving.
func (c *conn) handleFrame(body []byte) bool {
	if !c.waitThrottle() {
		return false
	}
	if c.state == saslAwaitRaw {
		return c.rawToken(body)
	}

	r := kbin.Reader{Src: body}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	if clientID := r.NullableString(); clientID != nil {
		c.clientID = *clientID
	}
	if !r.Ok() {
		return false
	}

	if key == kmsg.ApiVersions.Int16() {
		return c.send(c.respond(corr, apiVersions(version), time.Time{}))
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		return false
	}
	if !supported(key, version) {
		if isAdvertised(key, version) {
			// Offered in ApiVersions so that clients enable the
			// features a 2.1 broker has, but not emulated.
			c.s.log.Warn("slstest: request not emulated (SLS serves producers, consumers and group admin only), closing", "key", kmsg.NameForKey(key), "version", version)
			return false
		}
		// A Kafka broker closes the connection on a request version it
		// never advertised.
		c.s.log.Debug("slstest: unsupported request version, closing", "key", kmsg.NameForKey(key), "version", version)
		return false
	}
	req.SetVersion(version)
	if err := req.ReadFrom(r.Src); err != nil {
		c.s.log.Debug("slstest: malformed request, closing", "key", kmsg.NameForKey(key), "err", err)
		return false
	}

	switch req := req.(type) {
	case *kmsg.SASLHandshakeRequest:
		return c.saslHandshake(corr, req)
	case *kmsg.SASLAuthenticateRequest:
		return c.saslAuthenticate(corr, req)
	}

	if c.state != saslAuthenticated {
		// Kafka's SASL server authenticator rejects any other request
		// before authentication by closing the connection.
		c.s.log.Debug("slstest: request before SASL authentication, closing", "key", kmsg.NameForKey(key))
		return false
	}

	var resp kmsg.Response
	switch req := req.(type) {
	case *kmsg.ProduceRequest:
		resp := c.s.produce(c, req)
		delay, mute := throttling(req.Version, resp)
		c.throttle(mute)
		if req.Acks == 0 {
			return true
		}
		return c.send(c.respond(corr, resp, time.Now().Add(time.Duration(c.s.latency.Load())+delay)))
	case *kmsg.InitProducerIDRequest:
		// SLS has no idempotent or transactional producer: refuse the
		// producer id the way a Kafka broker refuses a principal without
		// IdempotentWrite permission, so an idempotent client fails fast
		// instead of silently producing without sequence numbers.
		r := req.ResponseKind().(*kmsg.InitProducerIDResponse)
		r.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		r.ProducerID, r.ProducerEpoch = -1, -1
		resp = r
	case *kmsg.MetadataRequest:
		resp = c.s.metadata(c, req)
	case *kmsg.FetchRequest:
		resp = c.s.fetch(c, req)
	case *kmsg.ListOffsetsRequest:
		resp = c.s.listOffsets(c, req)
	case *kmsg.CreateTopicsRequest:
		resp = c.s.createTopics(c, req)
	case *kmsg.DeleteTopicsRequest:
		resp = c.s.deleteTopics(c, req)
	case *kmsg.DescribeConfigsRequest:
		resp = c.s.describeConfigs(c, req)
	default:
		var ok bool
		if resp, ok = c.s.groups.handle(c, req); !ok {
			return false
		}
	}
	if resp == nil { // the connection ended while the request waited
		return false
	}
	return c.send(c.respond(corr, resp, time.Time{}))
}

// authorized returns why the connection's credential may not read or
// write, or nil: refused at SASL time (AtProduce), or revoked or expired
// since.
func (c *conn) authorized() error {
	if c.denied != nil {
		return c.denied
	}
	return c.s.keys.valid(c.id)
}

// respond frames a response: size, correlation id, body. None of the
// versions the emulator serves use flexible (tagged) headers.
func (c *conn) respond(corr int32, resp kmsg.Response, due time.Time) response {
	buf := make([]byte, 8, 64)
	binary.BigEndian.PutUint32(buf[4:], uint32(corr))
	buf = resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	return response{frame: buf, due: due}
}

// send queues a response for the writer, or reports false if the
// connection is closing. It waits while the queue holds
// maxQueuedResponseBytes; only serve calls it, so queued grows only here.
func (c *conn) send(r response) bool {
	for q := c.queued.Load(); q > 0 && q+int64(len(r.frame)) > maxQueuedResponseBytes; q = c.queued.Load() {
		select {
		case <-c.freed:
		case <-c.quit:
			return false
		}
	}
	c.queued.Add(int64(len(r.frame)))
	select {
	case c.resps <- r:
		return true
	case <-c.quit:
		return false
	}
}

// write writes queued responses in order, each no earlier than its due
// time. Until the client has authenticated, writes share the handshake
// deadline; after, each write must finish within IdleTimeout: a client
// that does not read its responses is as idle as one that sends nothing.
func (c *conn) write() {
	defer c.close()
	var timer *time.Timer
	for r := range c.resps {
		if wait := time.Until(r.due); wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-c.quit:
				return
			}
		}
		if c.authed.Load() {
			c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
		}
		if _, err := c.nc.Write(r.frame); err != nil {
			c.s.log.Debug("slstest: write failed, closing", "remote", c.remote(), "err", err)
			return
		}
		c.queued.Add(-int64(len(r.frame)))
		select {
		case c.freed <- struct{}{}:
		default: // already signalled
		}
	}
}
