package slstest_test

// Compatibility tests of the emulator with Kafka clients other than franz-go
// that are Go modules (sarama, segmentio/kafka-go), configured as the SLS
// documentation configures them. They live in a module of their own so that
// users of package slstest do not get these clients in their module graph;
// librdkafka (kcat) and the franz-go tests stay with slstest.

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/slstest/internal/compattest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// sarama records metrics with rcrowley/go-metrics, whose first
		// Meter starts one process-wide ticker goroutine that is never
		// stopped (meterArbiter.tick). It belongs to no client or
		// connection, so it is not a leak of the code under test.
		goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"),
	)
}

// The helpers shared with the compatibility tests of the other module
// (slstest/internal/compattest), under the names these tests use.
type badLogin = compattest.BadLogin

var (
	badLogins             = compattest.BadLogins
	checkNoSecret         = compattest.CheckNoSecret
	testBadLogins         = compattest.RefusesBadLogins
	checkPlaintextRefused = compattest.CheckPlaintextRefused
	waitLogs              = compattest.WaitLogs
	checkStored           = compattest.CheckStored
	perShard              = compattest.PerShard
	content               = compattest.Content
	password              = compattest.Password
)
