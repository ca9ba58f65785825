// Package kconn dials the TLS connections the Kafka client uses and retires
// each one before the credential that authenticated it expires.
//
// SLS speaks Kafka 2.1, which has no SASL re-authentication, so a connection
// lives as long as the key that opened it. A Conn tracks its request and
// response frames; once its retire time passes it lets the requests already
// in flight complete, then refuses the next write with an error the Kafka
// client retries on a fresh connection, which authenticates with the current
// credential. Nothing in flight is cut, so nothing is lost or duplicated by
// a rotation.
//
// The same frame tracking spots a failed SaslAuthenticate, which the Kafka
// client would otherwise only retry until its delivery timeout.
package kconn

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrRetired is returned by Write on a connection past its retire time. It
// wraps net.ErrClosed so that Kafka clients treat it as a retryable
// connection error.
var ErrRetired = fmt.Errorf("kconn: connection retired before its credential expires: %w", net.ErrClosed)

// Dialer dials TLS connections that retire on schedule.
type Dialer struct {
	// TLS is the client TLS configuration; ServerName defaults to the host
	// being dialed.
	TLS *tls.Config
	// Timeout bounds the TCP connect and TLS handshake. Zero means 10 s.
	Timeout time.Duration
	// RetireAt returns when a connection dialed now must stop taking new
	// requests; the zero time means never. It is called once per dial.
	RetireAt func(ctx context.Context) (time.Time, error)
	// OnAuthFailure is called when the broker answers SaslAuthenticate
	// with an error. The message is the broker's.
	OnAuthFailure func(err error)
	// OnRetire is called each time a connection is retired.
	OnRetire func()
	// DrainTimeout bounds how long a retiring connection waits for its
	// in-flight responses before it is closed anyway. Zero means 30 s.
	DrainTimeout time.Duration
	// PartitionBackoff is how long after a produce response carrying a
	// retriable partition error (SLS's NetworkException and
	// KafkaStorageException: "wait 1 s and retry") metadata responses are
	// held back. franz-go retries such a partition only after its next
	// metadata update, so holding that update is what makes the retry
	// wait PartitionBackoff after the error rather than after the
	// previous update. Zero disables the hold.
	PartitionBackoff time.Duration
	// OnPartitionError is called for each retriable partition error seen
	// in a produce response.
	OnPartitionError func(err error)
	// Clock, if set, is the time LastResponse counts from.
	Clock time.Time

	holdUntil    atomic.Int64 // unix nanos before which metadata responses wait
	lastResponse atomic.Int64 // see LastResponse
}

// LastResponse returns when the latest response frame was read, on any
// connection, as time since Clock. It never goes back, and it is updated
// before the Kafka client can act on the response, so a record's promise
// sees at least the time its acknowledgement arrived: a clock read per
// response instead of one per acknowledged record.
func (d *Dialer) LastResponse() time.Duration { return time.Duration(d.lastResponse.Load()) }

func (d *Dialer) noteResponse() {
	now := int64(time.Since(d.Clock))
	for {
		cur := d.lastResponse.Load()
		if now <= cur || d.lastResponse.CompareAndSwap(cur, now) {
			return
		}
	}
}

// hold delays metadata responses until t.
func (d *Dialer) hold(t time.Time) {
	for {
		cur := d.holdUntil.Load()
		if t.UnixNano() <= cur || d.holdUntil.CompareAndSwap(cur, t.UnixNano()) {
			return
		}
	}
}

// DialContext dials host over TCP, completes the TLS handshake and returns
// the tracked connection. It has the signature kgo.Dialer expects.
func (d *Dialer) DialContext(ctx context.Context, network, host string) (net.Conn, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var retireAt time.Time
	if d.RetireAt != nil {
		var err error
		if retireAt, err = d.RetireAt(ctx); err != nil {
			return nil, err
		}
	}

	// tls.Dialer takes the server name from host when the config has none
	// and closes the TCP connection if the handshake fails.
	tc, err := (&tls.Dialer{Config: d.TLS}).DialContext(ctx, network, host)
	if err != nil {
		return nil, err
	}
	return newConn(tc, retireAt, d), nil
}

// Conn is a connection that retires on schedule. See the package comment.
type Conn struct {
	net.Conn
	d *Dialer

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced when inflight drops or the conn closes
	inflight int
	retired  bool
	closed   bool
	timer    *time.Timer

	w writeTracker
	r readTracker
}

func newConn(nc net.Conn, retireAt time.Time, d *Dialer) *Conn {
	c := &Conn{Conn: nc, d: d, changed: make(chan struct{})}
	if !retireAt.IsZero() {
		c.timer = time.AfterFunc(time.Until(retireAt), c.retire)
	}
	return c
}

// retire marks the connection retired and closes it at once if nothing is in
// flight; otherwise the last response closes it.
func (c *Conn) retire() {
	c.mu.Lock()
	if c.retired || c.closed {
		c.mu.Unlock()
		return
	}
	c.retired = true
	idle := c.inflight == 0
	c.mu.Unlock()
	if c.d.OnRetire != nil {
		c.d.OnRetire()
	}
	if idle {
		c.Close()
	}
}

// Write writes request frames. On a retired connection it waits for the
// responses in flight, closes the connection and returns ErrRetired without
// writing, so the request is retried intact on a new connection.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.retired || c.closed {
		c.mu.Unlock()
		c.drain()
		return 0, ErrRetired
	}
	c.inflight += c.w.frames(b)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// drain waits until no response is in flight (or the drain timeout), then
// closes the connection.
func (c *Conn) drain() {
	timeout := c.d.DrainTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if c.inflight <= 0 || c.closed {
			c.mu.Unlock()
			break
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			c.Close()
			return
		}
	}
	c.Close()
}

// Read reads response frames, counting them, watching SASL results and
// produce errors, and holding back metadata responses after a retriable
// partition error (see Dialer.PartitionBackoff).
func (c *Conn) Read(b []byte) (int, error) {
	c.holdMetadata()
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		done, authErr, partErrs := c.r.feed(b[:n], &c.w)
		c.mu.Unlock()
		if len(partErrs) > 0 {
			if c.d.PartitionBackoff > 0 {
				c.d.hold(time.Now().Add(c.d.PartitionBackoff))
			}
			if c.d.OnPartitionError != nil {
				for _, e := range partErrs {
					c.d.OnPartitionError(e)
				}
			}
		}
		if done > 0 {
			if !c.d.Clock.IsZero() {
				c.d.noteResponse()
			}
			c.mu.Lock()
			c.inflight -= done
			closeNow := c.retired && c.inflight <= 0
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
			if closeNow {
				// Return what was read; the next read sees the close.
				defer c.Close()
			}
		}
		if authErr != nil && c.d.OnAuthFailure != nil {
			c.d.OnAuthFailure(authErr)
		}
	}
	return n, err
}

// holdMetadata waits, before a metadata response is read, until the
// dialer's hold has passed. Responses arrive in request order, so the next
// response belongs to the oldest pending request.
func (c *Conn) holdMetadata() {
	for {
		c.mu.Lock()
		next := int16(-1)
		if c.r.atFrameStart() && len(c.w.pending) > 0 {
			next = c.w.pending[0].key
		}
		closed, ch := c.closed, c.changed
		c.mu.Unlock()
		if next != metadataKey || closed {
			return // most reads: no clock read
		}
		wait := time.Until(time.Unix(0, c.d.holdUntil.Load()))
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ch:
		}
		t.Stop()
	}
}

// Close closes the connection and stops its retire timer.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return c.Conn.Close()
}

// sent is a request whose response has not been read yet.
type sent struct{ key, version int16 }

// writeTracker splits the written byte stream into Kafka request frames and
// remembers the key and version of each request awaiting its response.
type writeTracker struct {
	hdr     [8]byte // size(4) key(2) version(2) of the frame being written
	nhdr    int
	remain  int // body bytes of the current frame still to come
	pending []sent
}

// frames consumes written bytes and returns how many frames started in them.
func (w *writeTracker) frames(b []byte) int {
	started := 0
	for len(b) > 0 {
		if w.nhdr < 4 {
			k := copy(w.hdr[w.nhdr:4], b)
			w.nhdr += k
			b = b[k:]
			if w.nhdr < 4 {
				break
			}
			w.remain = int(binary.BigEndian.Uint32(w.hdr[:4]))
			w.pending = append(w.pending, sent{key: -1})
			started++
			if w.remain == 0 {
				w.nhdr = 0
			}
			continue
		}
		n := min(w.remain, len(b))
		if w.nhdr < len(w.hdr) {
			w.nhdr += copy(w.hdr[w.nhdr:], b[:n])
			if w.nhdr == len(w.hdr) {
				w.pending[len(w.pending)-1] = sent{
					key:     int16(binary.BigEndian.Uint16(w.hdr[4:])),
					version: int16(binary.BigEndian.Uint16(w.hdr[6:])),
				}
			}
		}
		w.remain -= n
		b = b[n:]
		if w.remain == 0 {
			w.nhdr = 0
		}
	}
	return started
}

// Request keys the trackers look into.
const (
	produceKey          = 0
	metadataKey         = 3
	saslAuthenticateKey = 36
)

// readTracker splits the read byte stream into response frames.
type readTracker struct {
	size   [4]byte
	nsize  int
	remain int
	body   []byte // collected only for SaslAuthenticate and Produce responses
	cur    sent
}

func (r *readTracker) atFrameStart() bool { return r.remain == 0 && r.nsize == 0 }

// keep reports whether a response's body is decoded.
func keep(key int16) bool { return key == saslAuthenticateKey || key == produceKey }

// feed consumes read bytes. It returns how many response frames completed,
// the error of a failed SaslAuthenticate, and the retriable partition errors
// of produce responses.
func (r *readTracker) feed(b []byte, w *writeTracker) (int, error, []error) {
	done := 0
	var authErr error
	var partErrs []error
	for len(b) > 0 {
		if r.remain == 0 {
			k := copy(r.size[r.nsize:], b)
			r.nsize += k
			b = b[k:]
			if r.nsize < 4 {
				break
			}
			r.nsize = 0
			r.remain = int(binary.BigEndian.Uint32(r.size[:]))
			r.cur = sent{key: -1}
			if len(w.pending) > 0 {
				r.cur = w.pending[0]
				w.pending = w.pending[1:]
			}
			r.body = r.body[:0]
			if r.remain == 0 {
				done++
				continue
			}
		}
		n := min(r.remain, len(b))
		if keep(r.cur.key) {
			r.body = append(r.body, b[:n]...)
		}
		r.remain -= n
		b = b[n:]
		if r.remain == 0 {
			done++
			switch r.cur.key {
			case saslAuthenticateKey:
				if err := saslResult(r.body, r.cur.version); err != nil {
					authErr = err
				}
			case produceKey:
				partErrs = append(partErrs, produceErrors(r.body, r.cur.version)...)
			}
		}
	}
	return done, authErr, partErrs
}

// produceErrors decodes a produce response body (after the correlation id)
// and returns its retriable partition errors.
func produceErrors(frame []byte, version int16) []error {
	if len(frame) < 4 {
		return nil
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(version)
	if err := resp.ReadFrom(frame[4:]); err != nil {
		return nil
	}
	var out []error
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil && kerr.IsRetriable(err) {
				out = append(out, fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, err))
			}
		}
	}
	return out
}

// saslResult decodes a SaslAuthenticate response body (after the
// correlation id) and returns its error, if any.
func saslResult(frame []byte, version int16) error {
	if len(frame) < 4 {
		return nil
	}
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.SetVersion(version)
	if err := resp.ReadFrom(frame[4:]); err != nil {
		return nil
	}
	err := kerr.ErrorForCode(resp.ErrorCode)
	if err == nil {
		return nil
	}
	if resp.ErrorMessage != nil && *resp.ErrorMessage != "" {
		return fmt.Errorf("%w: %s", err, *resp.ErrorMessage)
	}
	return err
}
