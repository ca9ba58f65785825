package producer

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka"
	"github.com/slskafka/slskafka/slstest"
)

// The Kafka client id names the SDK's release unless the caller chose one.
func TestClientIDNamesVersion(t *testing.T) {
	s := slstest.New(t, slstest.Config{InMemory: true})
	for _, tc := range []struct{ set, want string }{
		{"", "slskafka/" + slskafka.Version},
		{"billing-api", "billing-api"},
	} {
		p, err := New(Config{
			Project: s.Project(), Endpoint: s.Endpoint(), Credentials: s.Credentials(),
			TLS: s.TLSConfig(), DialContext: s.DialContext, ClientID: tc.set,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := p.cl.OptValue(kgo.ClientID)
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("ClientID %q: client id sent = %v, want %q", tc.set, got, tc.want)
		}
	}
}
