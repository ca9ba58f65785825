// Package kconn dials the TLS connections the Kafka client uses, for the
// two things franz-go's hooks and options cannot do:
//
//   - Retire a connection before the credential that authenticated it
//     expires. SLS speaks Kafka 2.1, which has no SASL re-authentication, so
//     a connection lives as long as the key that opened it. Once a Conn's
//     retire time passes it lets the requests in flight complete, then
//     refuses the next write with an error the Kafka client retries on a
//     fresh connection, which authenticates with the current credential.
//     Nothing in flight is cut, so nothing is lost or duplicated. Requests
//     in flight are counted by the frames' size prefixes, nothing more.
//   - Hand whole request and response frames to a Frames, such as the
//     produce ledger (internal/ledger), which tells a record failed by the
//     client apart: never sent, or sent and perhaps stored.
//
// Both need the byte stream, which no hook shows (hooks do not expose the
// connection). And it names a server that closes connections before
// answering anything (an endpoint at its connection limit, a proxy in
// trouble) as such (ServerClosedError), where the Kafka client would
// guess at a TLS or SASL misconfiguration and stop retrying.
// Everything a hook does say is left to the hooks: dial, credential and SASL
// failures reach kgo.HookBrokerConnect, response arrival kgo.HookBrokerRead.
//
// Pacing retries of partition errors (SLS's "wait 1 s and retry") is left
// to kgo.MetadataMinAge: franz-go retries such a partition at its next
// metadata update, at least MetadataMinAge after the previous one. Only
// the first retry after a calm spell can come sooner than a second after
// the error; holding metadata responses back here removed that one early
// retry per burst and nothing else, which was not worth watching request
// keys for.
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
	"syscall"
	"time"
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

// Dialer dials TLS connections that retire on schedule. It owns their
// configuration only; each Conn owns its own state.
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
	// Frames, if set, is told of every request and response frame.
	Frames Frames
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

// Frames is told of the Kafka frames on a dialer's connections: each
// request as it is about to be written, and for those it asks to follow,
// the response or the loss of the connection before it. The produce ledger
// is one (internal/ledger). Calls come from many goroutines at once: a
// connection writes and reads concurrently, and a dialer has many.
type Frames interface {
	// Request is called before a request frame's last bytes are written.
	// frame is the frame after its size prefix, size bytes long, or only
	// its beginning when the frame is written in pieces. The result, if
	// not nil, is passed back to Response or Lost.
	Request(frame []byte, size int) (entry any)
	// Response is called with the response frame (after its size prefix)
	// to the request that returned entry. frame is valid during the call
	// only.
	Response(entry any, frame []byte)
	// Lost is called when the connection ends before that response.
	Lost(entry any)
}

// Conn is a connection that retires on schedule. It owns the count of its
// requests in flight, its retire timer, and the split of its byte streams
// into frames. See the package comment.
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
	c.inflight += c.w.frames(b, c.d.Frames)
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

// Read reads response frames, counting them and handing those followed to
// Frames.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n == 0 && !c.answered && err != nil && closedByPeer(err) {
		// franz-go would guess "TLS missing?" and stop retrying.
		return 0, &ServerClosedError{During: "the first request", Err: err}
	}
	if n > 0 {
		c.answered = true
		rest := b[:n]
		for len(rest) > 0 {
			c.mu.Lock()
			var done int
			var entry any
			var body []byte
			rest, done, entry, body = c.r.feed(rest, &c.w)
			if done > 0 {
				c.inflight -= done
				close(c.changed)
				c.changed = make(chan struct{})
			}
			closeNow := done > 0 && c.retired && c.inflight <= 0
			c.mu.Unlock()
			if entry != nil && c.d.Frames != nil {
				c.d.Frames.Response(entry, body)
			}
			if closeNow {
				// Return what was read; the next read sees the close.
				defer c.Close()
			}
		}
	}
	return n, err
}

// Close closes the connection and stops its retire timer. Requests still
// waiting for their responses are reported lost to Frames.
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
	if !c.r.atFrameStart() {
		lost = append(lost, c.r.cur) // its response was cut short
	}
	c.mu.Unlock()
	if f := c.d.Frames; f != nil {
		for _, s := range lost {
			if s.entry != nil {
				f.Lost(s.entry)
			}
		}
	}
	return c.Conn.Close()
}

// sent is a request whose response has not been read yet.
type sent struct {
	entry any // from Frames.Request; nil when its response is not followed
}

// headLen is how much of a frame written in pieces is kept for
// Frames.Request: enough for the request header.
const headLen = 64

// writeTracker splits the written byte stream into request frames by their
// size prefix and remembers each awaiting its response.
type writeTracker struct {
	size    [4]byte
	nsize   int
	remain  int // bytes of the current frame still to come
	head    []byte
	total   int // the current frame's size
	pending []sent
}

// frames consumes bytes about to be written and returns how many frames
// started in them, telling f (if not nil) of each.
func (w *writeTracker) frames(b []byte, f Frames) int {
	started := 0
	for len(b) > 0 {
		if w.remain == 0 {
			k := copy(w.size[w.nsize:], b)
			w.nsize += k
			b = b[k:]
			if w.nsize < 4 {
				break
			}
			w.nsize = 0
			w.total = int(binary.BigEndian.Uint32(w.size[:]))
			w.remain = w.total
			w.pending = append(w.pending, sent{})
			started++
			if w.remain == 0 {
				continue
			}
			if len(b) >= w.remain {
				// The common case: franz-go writes each request whole.
				w.request(b[:w.remain], f)
				b = b[w.remain:]
				w.remain = 0
				continue
			}
			w.head = w.head[:0]
		}
		n := min(w.remain, len(b))
		if len(w.head) < headLen {
			w.head = append(w.head, b[:min(n, headLen-len(w.head))]...)
		}
		w.remain -= n
		b = b[n:]
		if w.remain == 0 {
			w.request(w.head, f)
		}
	}
	return started
}

// request tells f of the frame just completed.
func (w *writeTracker) request(frame []byte, f Frames) {
	if f != nil {
		w.pending[len(w.pending)-1].entry = f.Request(frame, w.total)
	}
}

// readTracker splits the read byte stream into response frames by their
// size prefix.
type readTracker struct {
	size   [4]byte
	nsize  int
	remain int
	body   []byte // collected only for responses Frames follows
	cur    sent
}

func (r *readTracker) atFrameStart() bool { return r.remain == 0 && r.nsize == 0 }

// feed consumes read bytes until they end or a followed response is
// complete. It returns the bytes not consumed, how many response frames
// completed, and the followed response's entry and body, if any; the body
// is valid until the next feed.
func (r *readTracker) feed(b []byte, w *writeTracker) (rest []byte, done int, entry any, body []byte) {
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
			r.cur = sent{}
			if len(w.pending) > 0 {
				r.cur = w.pending[0]
				w.pending = w.pending[1:]
			}
			r.body = r.body[:0]
		}
		n := min(r.remain, len(b))
		if r.cur.entry != nil {
			r.body = append(r.body, b[:n]...)
		}
		r.remain -= n
		b = b[n:]
		if r.remain == 0 {
			done++
			entry, r.cur = r.cur.entry, sent{}
			if entry != nil {
				return b, done, entry, r.body
			}
		}
	}
	return b, done, nil, nil
}
