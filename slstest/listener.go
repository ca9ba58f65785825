package slstest

import (
	"context"
	"net"
	"sync"
)

// memListener is an in-memory listener: DialContext hands the server the
// far end of a net.Pipe. Pipes block on channels, which a testing/synctest
// bubble sees as durably blocked, and their deadlines run on the bubble's
// clock, so the emulator's timeouts can be tested without waiting.
type memListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// dial connects a client to the listener; it returns once the server has
// accepted the connection.
func (l *memListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: "memory", Err: net.ErrClosed}
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: "memory", Err: ctx.Err()}
	}
}

// memAddr is the address of an in-memory listener.
type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return "memory" }

// DialContext opens a connection to the emulator, whatever network and
// address it is given: every broker address the emulator hands out is its
// own. It is the only way to reach an InMemory emulator; use it as
// franz-go's kgo.Dialer with a TLS client on top:
//
//	kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
//		c, err := s.DialContext(ctx, network, host)
//		if err != nil {
//			return nil, err
//		}
//		return tls.Client(c, s.TLSConfig()), nil
//	})
//
// The connection is not encrypted yet: the client does the TLS handshake,
// as it does over TCP.
func (s *Server) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	if s.mem != nil {
		return s.mem.dial(ctx)
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	ip := addr.IP
	if ip.IsUnspecified() {
		// Listening on every interface: dial the loopback one.
		ip = net.IPv6loopback
		if addr.IP.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", (&net.TCPAddr{IP: ip, Port: addr.Port}).String())
}
