package slstest

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// saslState is where a connection is in the SASL exchange.
type saslState int

const (
	saslStart         saslState = iota // only ApiVersions and SaslHandshake allowed
	saslAwaitRaw                       // handshake v0 done: next frame is a bare PLAIN token
	saslAwaitAuthReq                   // handshake v1 done: next request is SaslAuthenticate
	saslAuthenticated                  // everything allowed
)

// handshakeTimeout bounds the TLS handshake and the SASL exchange of a new
// connection, so that a client that connects and says nothing (or speaks
// plaintext) does not hold a goroutine forever.
const handshakeTimeout = 10 * time.Second

// maxSASLFrameBytes caps request frames before SASL authentication, as
// Kafka's sasl.server.max.receive.size (default 512 KiB) does: a client that
// has not authenticated cannot make the emulator allocate MaxRequestBytes.
const maxSASLFrameBytes = 512 << 10

// conn serves one client connection. Requests are read and handled in order
// by serve; responses are written in the same order by write, each no
// earlier than its due time, so injected latency does not stop pipelining.
type conn struct {
	s     *Server
	nc    net.Conn
	resps chan response
	quit  chan struct{}
	once  sync.Once

	state saslState
	id    identity
}

type response struct {
	frame []byte
	due   time.Time
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.quit)
		c.nc.Close()
	})
}

func (c *conn) serve() {
	defer c.s.wg.Done()
	// The writer closes the connection once it has written what is queued,
	// so that a final response (a SASL failure) reaches the client: a
	// handler that stops serving queues its last response, then returns
	// false.
	defer close(c.resps)

	// The deadline covers the TLS handshake and SASL; the read deadline is
	// lifted once the client has authenticated (authenticate). Closing the
	// connection also unblocks it.
	c.nc.SetDeadline(time.Now().Add(handshakeTimeout))
	if tc, ok := c.nc.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			c.s.log.Debug("slstest: TLS handshake failed", "remote", c.nc.RemoteAddr().String(), "err", err)
			return
		}
	}
	c.nc.SetWriteDeadline(time.Time{})

	var size [4]byte
	for {
		if _, err := io.ReadFull(c.nc, size[:]); err != nil {
			return
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		limit := c.s.cfg.MaxRequestBytes
		if c.state != saslAuthenticated {
			limit = min(limit, maxSASLFrameBytes)
		}
		if n < 0 || int(n) > limit {
			c.s.log.Warn("slstest: request frame too large, closing connection", "remote", c.nc.RemoteAddr().String(), "bytes", n, "limit", limit)
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(c.nc, body); err != nil {
			return
		}
		if !c.handleFrame(body) {
			return
		}
	}
}

// handleFrame handles one request frame and reports whether to keep serving.
func (c *conn) handleFrame(body []byte) bool {
	if c.state == saslAwaitRaw {
		// After SaslHandshake v0 the client sends the PLAIN token in a bare
		// size-prefixed frame and expects a bare (empty) frame back; a
		// failure closes the connection, as Kafka does.
		if err := c.authenticate(body); err != nil {
			return false
		}
		return c.send(response{frame: []byte{0, 0, 0, 0}})
	}

	r := kbin.Reader{Src: body}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	r.NullableString() // client id
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
			c.s.log.Warn("slstest: request not emulated (the emulator serves produce only), closing", "key", kmsg.NameForKey(key), "version", version)
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
		if c.state != saslAwaitAuthReq {
			return false
		}
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		if err := c.authenticate(req.SASLAuthBytes); err != nil {
			msg := "SLS authentication failed: " + err.Error()
			resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
			resp.ErrorMessage = &msg
			// Returning false closes the connection once the
			// writer has written this response (see serve).
			c.send(c.respond(corr, resp, time.Time{}))
			return false
		}
		return c.send(c.respond(corr, resp, time.Time{}))
	}

	if c.state != saslAuthenticated {
		// Kafka's SASL server authenticator rejects any other request
		// before authentication by closing the connection.
		c.s.log.Debug("slstest: request before SASL authentication, closing", "key", kmsg.NameForKey(key))
		return false
	}

	switch req := req.(type) {
	case *kmsg.MetadataRequest:
		return c.send(c.respond(corr, c.s.metadata(req), time.Time{}))
	case *kmsg.ProduceRequest:
		resp := c.s.produce(c, req)
		if req.Acks == 0 {
			return true
		}
		return c.send(c.respond(corr, resp, time.Now().Add(time.Duration(c.s.latency.Load()))))
	case *kmsg.InitProducerIDRequest:
		// SLS has no idempotent or transactional producer: refuse the
		// producer id the way a Kafka broker refuses a principal without
		// IdempotentWrite permission, so an idempotent client fails fast
		// instead of silently producing without sequence numbers.
		resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		resp.ProducerID, resp.ProducerEpoch = -1, -1
		return c.send(c.respond(corr, resp, time.Time{}))
	}
	return false
}

func (c *conn) saslHandshake(corr int32, req *kmsg.SASLHandshakeRequest) bool {
	if c.state != saslStart {
		return false
	}
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.SupportedMechanisms = []string{"PLAIN"}
	if req.Mechanism != "PLAIN" {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return c.send(c.respond(corr, resp, time.Time{}))
	}
	if req.Version == 0 {
		c.state = saslAwaitRaw
	} else {
		c.state = saslAwaitAuthReq
	}
	return c.send(c.respond(corr, resp, time.Time{}))
}

// authenticate checks a SASL PLAIN token: [authzid] NUL username NUL
// password, where the username is the project and the password is the SLS
// AccessKey form.
func (c *conn) authenticate(token []byte) error {
	parts := bytes.Split(token, []byte{0})
	var err error
	switch {
	case len(parts) != 3:
		err = authFailure("malformed SASL PLAIN token")
	case string(parts[1]) != c.s.cfg.Project:
		err = authFailure("username must be the SLS project name; this endpoint serves a different project")
	default:
		c.id, err = c.s.keys.authenticate(string(parts[2]))
	}
	if err != nil {
		c.s.stats.authFailures.Add(1)
		c.s.log.Info("slstest: authentication failed", "remote", c.nc.RemoteAddr().String(), "reason", err.Error())
		return err
	}
	c.s.stats.auths.Add(1)
	c.state = saslAuthenticated
	c.nc.SetReadDeadline(time.Time{})
	return nil
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
// connection is closing.
func (c *conn) send(r response) bool {
	select {
	case c.resps <- r:
		return true
	case <-c.quit:
		return false
	}
}

// write writes queued responses in order, each no earlier than its due time.
func (c *conn) write() {
	defer c.s.wg.Done()
	defer c.s.forget(c)
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
		if _, err := c.nc.Write(r.frame); err != nil {
			return
		}
	}
}
