// Package kconn dials the TLS connections the Kafka client uses, for the
// three things franz-go's hooks and options cannot do:
//
//   - Retire a connection before the credential that authenticated it
//     expires. SLS speaks Kafka 2.1, which has no SASL re-authentication, so
//     a connection lives as long as the key that opened it. Once a Conn's
//     retire time passes it lets the requests in flight complete, then
//     refuses the next write with an error the Kafka client retries on a
//     fresh connection, which authenticates with the current credential.
//     Nothing in flight is cut, so nothing is lost or duplicated.
//   - Hold back metadata responses after a retriable partition error. SLS
//     asks clients to wait a second after NetworkException and
//     KafkaStorageException; franz-go retries such a partition after its
//     next metadata update, which it spaces from the previous update, not
//     from the error (see Dialer.PartitionBackoff).
//   - Keep a ledger of the partitions each produce request carried and of
//     what became of it (Ledger), so that a record failed by the client can
//     be told apart: never sent, or sent and perhaps stored.
//
// Both need the request and response frames, which no hook shows. And it
// names a server that closes connections before answering anything (an
// endpoint at its connection limit, a proxy in trouble) as such
// (ServerClosedError), where the Kafka client would guess at a TLS or SASL
// misconfiguration and stop retrying.
// Everything a hook does say is left to the hooks: dial, credential and SASL
// failures reach kgo.HookBrokerConnect, response arrival kgo.HookBrokerRead.
package kconn

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrRetired is returned by Write on a connection past its retire time. It
// wraps net.ErrClosed so that Kafka clients treat it as a retryable
// connection error.
var ErrRetired = fmt.Errorf("kconn: connection retired before its credential expires: %w", net.ErrClosed)

// ServerClosedError says that the server closed or reset a connection
// before answering anything on it: during the TLS handshake, or before the
// response to the first request. An SLS endpoint at its connection limit,
// or a proxy in front of it in trouble, accepts connections and closes
// them at once; retrying is the cure, and nothing about it says TLS is
// misconfigured (a server refusing the handshake sends a TLS alert, which
// is returned as it is).
//
// It unwraps to net.ErrClosed, so that Kafka clients retry it as a broken
// connection, and deliberately not to the io.EOF or reset it stands for:
// franz-go takes an EOF right after a dial for a TLS misconfiguration,
// says so, and gives up on the records after a few attempts.
type ServerClosedError struct {
	// During says when: "the TLS handshake" or "the first request".
	During string
	// Err is what the read or write said, such as io.EOF or "connection
	// reset by peer". It is in the message only.
	Err error
}

func (e *ServerClosedError) Error() string {
	return fmt.Sprintf("kconn: connection closed by the server during %s, before it answered anything (%v); an endpoint at its connection limit, or a proxy in trouble, does this, and connecting again is the remedy", e.During, e.Err)
}

// Unwrap returns net.ErrClosed; see the type's comment.
func (e *ServerClosedError) Unwrap() error { return net.ErrClosed }

// closedByPeer reports whether err is how a connection the server closed or
// reset looks from here: the end of the stream, a reset, a broken pipe (or
// a closed net.Pipe, its in-memory form).
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Dialer dials TLS connections that retire on schedule.
type Dialer struct {
	// TLS is the client TLS configuration; ServerName defaults to the host
	// being dialed.
	TLS *tls.Config
	// NetDial, if set, dials the connection TLS runs over; default a
	// net.Dialer.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds the TCP connect and TLS handshake. Zero means 10 s.
	Timeout time.Duration
	// RetireAt returns when a connection dialed now must stop taking new
	// requests; the zero time means never. It is called once per dial.
	RetireAt func(ctx context.Context) (time.Time, error)
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
	// Ledger, if set, records what produce requests carried.
	Ledger *Ledger

	holdUntil atomic.Int64 // unix nanos before which metadata responses wait
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

	tc, err := d.dialTLS(ctx, network, host)
	if err != nil {
		return nil, err
	}
	return newConn(tc, retireAt, d), nil
}

// dialTLS dials host and completes the TLS handshake.
func (d *Dialer) dialTLS(ctx context.Context, network, host string) (net.Conn, error) {
	if d.NetDial == nil {
		// tls.Dialer takes the server name from host when the config has
		// none and closes the TCP connection if the handshake fails.
		c, err := (&tls.Dialer{Config: d.TLS}).DialContext(ctx, network, host)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				return nil, err // the TCP connect itself failed
			}
			return nil, handshakeError(err)
		}
		return c, nil
	}
	raw, err := d.NetDial(ctx, network, host)
	if err != nil {
		return nil, err
	}
	cfg := d.TLS
	if cfg == nil || cfg.ServerName == "" {
		cfg = cfg.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.ServerName = host
		if h, _, err := net.SplitHostPort(host); err == nil {
			cfg.ServerName = h
		}
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, handshakeError(err)
	}
	return tc, nil
}

// handshakeError names a handshake the server ended by closing the
// connection (see ServerClosedError); other errors, a TLS alert ("remote
// error: tls: ...") among them, are returned as they are.
func handshakeError(err error) error {
	if closedByPeer(err) {
		return &ServerClosedError{During: "the TLS handshake", Err: err}
	}
	return err
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

	answered bool // a response byte has been read; only Read touches it
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
	// Registered before the bytes leave: the response can arrive as soon
	// as they do.
	c.inflight += c.w.frames(b, c.d.Ledger)
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

// Read reads response frames, counting them, settling produce requests in
// the ledger and holding back metadata responses after a retriable
// partition error (see Dialer.PartitionBackoff).
func (c *Conn) Read(b []byte) (int, error) {
	c.holdMetadata()
	n, err := c.Conn.Read(b)
	if n == 0 && !c.answered && err != nil && closedByPeer(err) {
		// franz-go would guess "TLS missing?" and stop retrying.
		return 0, &ServerClosedError{During: "the first request", Err: err}
	}
	if n > 0 {
		c.answered = true
		c.mu.Lock()
		done, produced := c.r.feed(b[:n], &c.w)
		c.mu.Unlock()
		for _, pr := range produced {
			c.produceResponse(pr)
		}
		if done > 0 {
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
	}
	return n, err
}

// produceResponse settles a produce request in the ledger and reports its
// retriable partition errors.
func (c *Conn) produceResponse(pr producedResponse) {
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(pr.req.version)
	if len(pr.body) < 4 || resp.ReadFrom(pr.body[4:]) != nil {
		resp = nil
	}
	if c.d.Ledger != nil && pr.req.written != nil {
		c.d.Ledger.answer(pr.req.written, resp)
	}
	if resp == nil {
		return
	}
	var errs []error
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil && kerr.IsRetriable(err) {
				errs = append(errs, fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, err))
			}
		}
	}
	if len(errs) == 0 {
		return
	}
	if c.d.PartitionBackoff > 0 {
		c.d.hold(time.Now().Add(c.d.PartitionBackoff))
	}
	if c.d.OnPartitionError != nil {
		for _, e := range errs {
			c.d.OnPartitionError(e)
		}
	}
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

// Close closes the connection and stops its retire timer. Produce requests
// still waiting for their responses are settled in the ledger as lost.
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
	lost := c.w.pending
	c.w.pending = nil
	if c.r.remain > 0 || c.r.nsize > 0 {
		lost = append(lost, c.r.cur) // its response was cut short
	}
	c.mu.Unlock()
	if l := c.d.Ledger; l != nil {
		for _, s := range lost {
			if s.written != nil {
				l.lose(s.written)
			}
		}
	}
	return c.Conn.Close()
}

// sent is a request whose response has not been read yet.
type sent struct {
	key, version int16
	written      *written // a produce request in the ledger
}

// writeTracker splits the written byte stream into Kafka request frames and
// remembers the key and version of each request awaiting its response.
type writeTracker struct {
	hdr     [8]byte // size(4) key(2) version(2) of the frame being written
	nhdr    int
	remain  int    // body bytes of the current frame still to come
	start   []byte // the current frame from its size prefix, when it began in this write
	pending []sent
}

// frames consumes bytes about to be written and returns how many frames
// started in them. Produce requests are registered in ledger (if not nil),
// with their partitions when the whole frame is in b.
func (w *writeTracker) frames(b []byte, ledger *Ledger) int {
	started := 0
	for len(b) > 0 {
		if w.nhdr < 4 {
			if w.nhdr == 0 {
				w.start = b
			}
			k := copy(w.hdr[w.nhdr:4], b)
			w.nhdr += k
			b = b[k:]
			if w.nhdr < 4 {
				w.start = nil
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
				s := &w.pending[len(w.pending)-1]
				s.key = int16(binary.BigEndian.Uint16(w.hdr[4:]))
				s.version = int16(binary.BigEndian.Uint16(w.hdr[6:]))
				if s.key == produceKey && ledger != nil {
					s.written = ledger.write(w.whole(), s.version)
				}
			}
		}
		w.remain -= n
		b = b[n:]
		if w.remain == 0 {
			w.nhdr = 0
			w.start = nil
		}
	}
	return started
}

// whole returns the current frame after its size prefix if it is entirely
// in the bytes being written, else nil.
func (w *writeTracker) whole() []byte {
	size := int(binary.BigEndian.Uint32(w.hdr[:4]))
	if w.start == nil || len(w.start) < 4+size {
		return nil
	}
	return w.start[4 : 4+size]
}

// Request keys the trackers look into.
const (
	produceKey  = 0
	metadataKey = 3
)

// readTracker splits the read byte stream into response frames.
type readTracker struct {
	size   [4]byte
	nsize  int
	remain int
	body   []byte // collected only for produce responses
	cur    sent
}

// producedResponse is a complete produce response and its request.
type producedResponse struct {
	req  sent
	body []byte
}

func (r *readTracker) atFrameStart() bool { return r.remain == 0 && r.nsize == 0 }

// feed consumes read bytes. It returns how many response frames completed
// and the produce responses among them.
func (r *readTracker) feed(b []byte, w *writeTracker) (int, []producedResponse) {
	done := 0
	var produced []producedResponse
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
		if r.cur.key == produceKey {
			r.body = append(r.body, b[:n]...)
		}
		r.remain -= n
		b = b[n:]
		if r.remain == 0 {
			done++
			if r.cur.key == produceKey {
				produced = append(produced, producedResponse{r.cur, append([]byte(nil), r.body...)})
			}
			r.cur = sent{key: -1}
		}
	}
	return done, produced
}
