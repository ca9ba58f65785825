package producer

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/slskafka/slskafka/endpoint"
)

// TestLogstoreNotFoundNamesProjectAndRegion checks the message of
// ErrLogstoreNotFound: SLS answers a missing project and a missing logstore
// alike, so it names both, and the region the endpoint is in.
func TestLogstoreNotFoundNamesProjectAndRegion(t *testing.T) {
	public, _ := endpoint.For("demo", "cn-hangzhou", endpoint.Public)
	intranet, _ := endpoint.For("demo", "cn-shanghai", endpoint.Intranet)
	for _, tc := range []struct {
		ep   endpoint.Endpoint
		want string
	}{
		{public, `project "demo" or logstore "app" does not exist in region "cn-hangzhou"`},
		{intranet, `project "demo" or logstore "app" does not exist in region "cn-shanghai"`},
		{endpoint.Endpoint{Host: "127.0.0.1", Port: 10012}, `project "demo" or logstore "app" does not exist in the region of endpoint 127.0.0.1:10012`},
		{endpoint.Endpoint{Host: "sls.example.internal", Port: 10012}, `does not exist in the region of endpoint sls.example.internal:10012`},
	} {
		p := &Producer{cfg: Config{Project: "demo", Endpoint: tc.ep}}
		msg := p.newError(ErrLogstoreNotFound, "app", kerr.UnknownTopicOrPartition, false).Error()
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "region is the project's region") {
			t.Errorf("endpoint %s: %q does not say %q and what to check", tc.ep, msg, tc.want)
		}
	}
}
