// Package testproducer builds producers on the in-process emulator for the
// SDK's own tests and benchmarks.
package testproducer

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// New returns a producer on s, with s's project, endpoint, credentials and
// TLS, a logger that discards and no time field (Config.TimeField), so
// that tests compare the fields they log; closed when t ends. Each mutate
// adjusts the config first (TimeField = "" restores the default).
func New(t testing.TB, s *slstest.Server, mutate ...func(*producer.Config)) *producer.Producer {
	t.Helper()
	cfg := producer.Config{
		Project:     s.Project(),
		Endpoint:    s.Endpoint(),
		Credentials: s.Credentials(),
		TLS:         s.TLSConfig(),
		Logger:      slog.New(slog.DiscardHandler),
		TimeField:   producer.NoTimeField,
	}
	for _, m := range mutate {
		if m != nil {
			m(&cfg)
		}
	}
	p, err := producer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// Outage is a Config.DialContext that dials an in-memory emulator
// (slstest.Config.InMemory) while the endpoint is up and refuses the
// connection while it is down, as an endpoint that is down does.
type Outage struct {
	s    *slstest.Server
	down atomic.Bool
}

// NewOutage returns an Outage on s, down.
func NewOutage(s *slstest.Server) *Outage {
	o := &Outage{s: s}
	o.down.Store(true)
	return o
}

// Up ends the outage: later dials reach the emulator.
func (o *Outage) Up() { o.down.Store(false) }

// DialContext fits Config.DialContext.
func (o *Outage) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	return o.s.DialContext(ctx, network, addr)
}
