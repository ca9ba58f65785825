package slstest

import (
	"bytes"
	"time"

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

// rawToken handles the frame after SaslHandshake v0: the PLAIN token,
// bare, answered by a bare (empty) frame. A failure closes the connection,
// as Kafka does.
func (c *conn) rawToken(token []byte) bool {
	if err := c.authenticate(token); err != nil {
		return false
	}
	return c.send(response{frame: []byte{0, 0, 0, 0}})
}

func (c *conn) saslAuthenticate(corr int32, req *kmsg.SASLAuthenticateRequest) bool {
	if c.state != saslAwaitAuthReq {
		return false
	}
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	if err := c.authenticate(req.SASLAuthBytes); err != nil {
		msg := "SLS authentication failed: " + err.Error()
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = &msg
		// Returning false closes the connection once the writer has
		// written this response (see serve).
		c.send(c.respond(corr, resp, time.Time{}))
		return false
	}
	return c.send(c.respond(corr, resp, time.Time{}))
}

// authenticate checks a SASL PLAIN token: [authzid] NUL username NUL
// password, where the username is the project and the password is the SLS
// AccessKey form. It returns an error if SASL must fail: a malformed
// token, or a refused credential under AtSASL. Under AtProduce a refused
// credential authenticates, and the connection's requests are refused. A
// valid key with another project authenticates in both modes, and finds
// no logstore.
func (c *conn) authenticate(token []byte) error {
	parts := bytes.Split(token, []byte{0})
	var err error
	switch {
	case len(parts) != 3:
		c.s.stats.authFailures.Add(1)
		err = authFailure("malformed SASL PLAIN token")
		c.s.log.Info("slstest: authentication failed", "remote", c.remote(), "reason", err.Error())
		return err
	case c.s.cfg.RefuseSecurityTokens && bytes.Count(parts[2], []byte{'#'}) >= 2:
		err = failTokenRefused
	default:
		c.id, err = c.s.keys.authenticate(string(parts[2]))
		if err == nil && string(parts[1]) != c.s.cfg.Project {
			// A valid key naming a project this endpoint does not
			// serve: SLS answers UnknownTopicOrPartition when "the
			// project or logstore does not exist", so the key is
			// accepted and no topic is found (conn.resolve).
			c.id.otherProject = true
			c.s.log.Info("slstest: authenticated for a project this endpoint does not serve; every topic answers UNKNOWN_TOPIC_OR_PARTITION", "remote", c.remote())
		}
	}
	if err != nil {
		c.s.stats.authFailures.Add(1)
		if c.s.cfg.AuthFailure == AtSASL {
			c.s.log.Info("slstest: authentication failed", "remote", c.remote(), "reason", err.Error())
			return err
		}
		c.s.log.Info("slstest: authentication failed; SASL passes and every topic answers TOPIC_AUTHORIZATION_FAILED (AtProduce)", "remote", c.remote(), "reason", err.Error())
		c.denied = err
	} else {
		c.s.stats.auths.Add(1)
	}
	c.state = saslAuthenticated
	c.authed.Store(true)
	return nil
}
