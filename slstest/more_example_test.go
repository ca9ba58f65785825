package slstest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// An in-memory emulator has no port: the producer dials it with its
// DialContext. Started inside a testing/synctest bubble, it runs on the
// bubble's fake clock, so tests of timeouts and retries take no real time
// and assert exact durations.
func ExampleConfig_inMemory() {
	s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}, InMemory: true})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	p, err := producer.New(producer.Config{
		Project: s.Project(), Endpoint: s.Endpoint(),
		Credentials: s.Credentials(), TLS: s.TLSConfig(),
		DialContext: s.DialContext, // the only way in
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "in memory"}}}); err != nil {
		panic(err)
	}
	p.Close(ctx)
	fmt.Println(s.Endpoint(), s.Logs("app")[0].Fields["msg"])
	// Output: slstest.invalid:10012 in memory
}

// FailNext injects the faults SLS serves, to see how the code under test
// copes: here one storage error, which the producer retries after
// RetryBackoff, so the record is stored once and nothing fails.
func ExampleServer_FailNext() {
	s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	p, err := producer.New(producer.Config{
		Project: s.Project(), Endpoint: s.Endpoint(),
		Credentials: s.Credentials(), TLS: s.TLSConfig(),
		RetryBackoff: 10 * time.Millisecond, // SLS asks for 1 s, the default
	})
	if err != nil {
		panic(err)
	}
	s.FailNext("app", slstest.StorageError, 1) // injected

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = p.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "retried"}}})
	p.Close(ctx)
	st := p.Stats()
	fmt.Println(err, len(s.Logs("app")), st.Delivered, st.Failed)
	// Output: <nil> 1 1 0
}
