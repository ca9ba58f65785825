package endpoint

import (
	"fmt"
	"net"
	"strconv"
)

// Endpoint is the address of an SLS Kafka endpoint.
type Endpoint struct {
	Host string
	Port int
}

// String returns "host:port".
func (e Endpoint) String() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Parse parses a literal "host:port".
func Parse(hostport string) (Endpoint, error) {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint: %w", err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return Endpoint{}, fmt.Errorf("endpoint: invalid port %q", p)
	}
	return Endpoint{Host: h, Port: n}, nil
}
