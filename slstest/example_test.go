package slstest_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/slogsls"
	"github.com/slskafka/slskafka/slstest"
)

// checkout stands for the code under test: it logs through the logger it
// is given.
func checkout(logger *slog.Logger) {
	logger.Info("order placed", "order_id", 1042, slog.Group("req", "method", "POST"))
}

// New belongs in a test: it takes the test's *testing.T and closes the
// emulator when the test ends. An Example cannot be handed a *testing.T, so
// this one is compiled but not run; ExampleStart runs the same steps.
func ExampleNew() {
	testCheckoutLogs := func(t *testing.T) { // func TestCheckoutLogs(t *testing.T) in a _test.go file
		s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
		p, err := producer.New(producer.Config{
			Project: s.Project(), Endpoint: s.Endpoint(),
			Credentials: s.Credentials(), TLS: s.TLSConfig(),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(context.Background())

		checkout(slog.New(slogsls.New(p, "app", nil)))

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		logs, err := s.WaitLogs(ctx, "app", 1) // what SLS would have stored
		if err != nil {
			t.Fatal(err)
		}
		if got := logs[0].Fields["msg"]; got != "order placed" {
			t.Errorf("msg = %q, want %q; fields: %v", got, "order placed", logs[0].Fields)
		}
	}
	_ = testCheckoutLogs
}

func ExampleStart() {
	// Start is New without a test: for demos, examples and programs that
	// fall back to an emulator. Close it when done.
	s, err := slstest.Start(slstest.Config{Project: "demo", Logstores: map[string]int{"app": 2}})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	p, err := producer.New(producer.Config{
		Project: s.Project(), Endpoint: s.Endpoint(),
		Credentials: s.Credentials(), TLS: s.TLSConfig(),
	})
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())

	checkout(slog.New(slogsls.New(p, "app", nil)))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logs, err := s.WaitLogs(ctx, "app", 1) // what SLS would have stored
	if err != nil {
		panic(err)
	}
	f := logs[0].Fields
	fmt.Println(f["msg"], f["order_id"], f["req.method"])
	// Output: order placed 1042 POST
}
