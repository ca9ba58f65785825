package producer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// emulator starts an SLS emulator with the logstore "app" and returns it
// with a Config that reaches it. With real SLS, build the Config with
// producer.ConfigFromEnv, or with endpoint.For and auth.Default.
func emulator() (*slstest.Server, producer.Config) {
	sls, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
	if err != nil {
		panic(err)
	}
	return sls, producer.Config{
		Project:     sls.Project(),
		Endpoint:    sls.Endpoint(),
		Credentials: sls.Credentials(),
		TLS:         sls.TLSConfig(), // trusts the emulator's CA; nil for real SLS
	}
}

// ConfigFromEnv reads the project, the endpoint and the credentials from
// the environment; here the variables point at an emulator.
func ExampleConfigFromEnv() {
	sls, err := slstest.Start(slstest.Config{Project: "my-project", AccessKeyID: "LTAI-example", AccessKeySecret: "example-secret"})
	if err != nil {
		panic(err)
	}
	defer sls.Close()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, sls.CACertPEM(), 0o600); err != nil {
		panic(err)
	}
	// In a deployment these come from the environment itself.
	for k, v := range map[string]string{
		producer.EnvProject:               "my-project",
		producer.EnvEndpoint:              sls.Endpoint().String(),
		producer.EnvCAFile:                caFile, // the emulator's CA; unset for real SLS
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "LTAI-example",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "example-secret",
	} {
		os.Setenv(k, v)
		defer os.Unsetenv(k)
	}

	cfg, err := producer.ConfigFromEnv()
	if err != nil {
		panic(err) // names every variable that is missing or invalid
	}
	cfg.StaticFields = []producer.Field{{Key: "service", Value: "checkout"}} // adjust before New
	p, err := producer.New(cfg)
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())
	fmt.Println(cfg.Project, p.Ping(context.Background(), "app"))
	// Output:
	// my-project <nil>
}

// Ping checks the endpoint, the credential and the logstore before the
// first record; its error says what to fix.
func ExampleProducer_Ping() {
	sls, cfg := emulator()
	defer sls.Close()
	p, err := producer.New(cfg)
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(p.Ping(ctx, "app"))
	err = p.Ping(ctx, "orders")
	fmt.Println(errors.Is(err, producer.ErrLogstoreNotFound))
	// Output:
	// <nil>
	// true
}

// Log returns once the record is buffered; Close delivers what is
// buffered, bounded by its context. A program that ends through log.Fatal
// or os.Exit skips its deferred calls: Close before them.
func ExampleProducer_Log() {
	sls, cfg := emulator()
	defer sls.Close()
	p, err := producer.New(cfg)
	if err != nil {
		panic(err)
	}

	for i := range 3 {
		err := p.Log(context.Background(), "app", producer.Record{
			Fields: []producer.Field{{Key: "msg", Value: "order placed"}, {Key: "order_id", Value: fmt.Sprint(1040 + i)}},
		})
		if err != nil {
			// Not accepted: closed, buffer full under Drop, too large,
			// invalid.
			fmt.Println(err)
		}
	}

	// Give Close a deadline that fits the process's shutdown.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		fmt.Println(err)
	}
	for _, l := range sls.Logs("app") {
		fmt.Println(l.Fields["msg"], l.Fields["order_id"])
	}
	// Output:
	// order placed 1040
	// order placed 1041
	// order placed 1042
}

// LogSync waits for SLS's acknowledgement, for the few records that must
// be stored before the program goes on (an audit entry); Log is the
// everyday call.
func ExampleProducer_LogSync() {
	sls, cfg := emulator()
	defer sls.Close()
	p, err := producer.New(cfg)
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = p.LogSync(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "audit", Value: "refund approved"}}})
	fmt.Println(err, len(sls.Logs("app")))
	// Output:
	// <nil> 1
}

// Config.OnError hears of records that were accepted and then failed, with
// the cause, the logstore and how many records failed together.
func ExampleConfig_onError() {
	sls, cfg := emulator()
	defer sls.Close()
	cfg.OnError = func(f producer.Failure) {
		fmt.Printf("%d record(s) for %q lost, logstore not found: %v\n",
			f.Records, f.Logstore, errors.Is(f.Err, producer.ErrLogstoreNotFound))
	}
	p, err := producer.New(cfg)
	if err != nil {
		panic(err)
	}

	// Log accepts the record: whether the logstore exists is known only
	// once it is sent.
	if err := p.Log(context.Background(), "no-such-logstore", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "lost"}}}); err != nil {
		panic(err)
	}
	p.Close(context.Background())
	st := p.Stats()
	fmt.Printf("accepted %d, delivered %d, failed %d\n", st.Accepted, st.Delivered, st.Failed)
	// Output:
	// 1 record(s) for "no-such-logstore" lost, logstore not found: true
	// accepted 1, delivered 0, failed 1
}
