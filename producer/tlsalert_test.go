package producer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// A server that refuses the TLS handshake with an alert (here: it has no
// certificate, so it answers the ClientHello with an alert) is a TLS
// failure. Go reports a received alert as a "remote error: tls: ..."
// net.OpError, not as a tls.AlertError.
func TestTLSAlertFromServerIsErrTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				tls.Server(c, &tls.Config{}).Handshake()
			})
		}
	})
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, func(c *producer.Config) {
		c.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
		}
	})
	err = p.Ping(timeout(t, 10*time.Second), "app")
	if !errors.Is(err, producer.ErrTLS) {
		t.Fatalf("Ping err = %v, want ErrTLS", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		t.Errorf("err = %v, want it to carry the server's alert", err)
	}
}
