package producer_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func ExampleNew() {
	// An SLS emulator stands in for the real endpoint. With real SLS, the
	// config is producer.ConfigFromEnv(), or endpoint.For and auth.Default:
	//
	//	ep, err := endpoint.For("my-project", "cn-hangzhou", endpoint.Public)
	//	creds, err := auth.Default()
	//	cfg := producer.Config{Project: "my-project", Endpoint: ep, Credentials: creds}
	sls, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 2}})
	if err != nil {
		panic(err)
	}
	defer sls.Close()

	p, err := producer.New(producer.Config{
		Project:      sls.Project(),
		Endpoint:     sls.Endpoint(),
		Credentials:  sls.Credentials(),
		TLS:          sls.TLSConfig(), // trusts the emulator's CA; nil for real SLS
		StaticFields: []producer.Field{{Key: "service", Value: "checkout"}},
		OnError: func(f producer.Failure) {
			// f.Err says what to do; errors.Is tells the kind.
			fmt.Printf("%d record(s) for %s lost; logstore not found: %v\n",
				f.Records, f.Logstore, errors.Is(f.Err, producer.ErrLogstoreNotFound))
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	// Ping checks the endpoint, the credentials and the logstore.
	if err := p.Ping(ctx, "app"); err != nil {
		panic(err)
	}

	// Log is asynchronous: it returns once the record is buffered.
	err = p.Log(ctx, "app", producer.Record{
		Time:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Fields: []producer.Field{{Key: "level", Value: "INFO"}, {Key: "msg", Value: "order placed"}, {Key: "order_id", Value: "1042"}},
	})
	if err != nil {
		panic(err)
	}
	// A logstore that does not exist fails after Log accepted the record:
	// OnError hears of it, and so does Flush.
	if err := p.Log(ctx, "no-such-logstore", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "lost"}}}); err != nil {
		panic(err)
	}
	if err := p.Flush(ctx); !errors.Is(err, producer.ErrLogstoreNotFound) {
		panic(err)
	}

	// Close delivers what is buffered, bounded by its context.
	if err := p.Close(ctx); err != nil {
		panic(err)
	}
	l := sls.Logs("app")[0]
	fmt.Println(l.Time.UTC(), l.Fields["service"], l.Fields["level"], l.Fields["msg"], l.Fields["order_id"])
	st := p.Stats()
	fmt.Printf("accepted %d, delivered %d, failed %d\n", st.Accepted, st.Delivered, st.Failed)
	// Output:
	// 1 record(s) for no-such-logstore lost; logstore not found: true
	// 2026-01-02 03:04:05 +0000 UTC checkout INFO order placed 1042
	// accepted 2, delivered 1, failed 1
}
