package zapsls_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/zapsls"
	"github.com/slskafka/slskafka/slstest"
)

func Example() {
	// An SLS emulator stands in for the real endpoint.
	s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	p, err := producer.New(producer.Config{
		Project:     s.Project(),
		Endpoint:    s.Endpoint(),
		Credentials: s.Credentials(),
		TLS:         s.TLSConfig(),
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())

	logger := zap.New(zapsls.NewCore(p, "app", zap.InfoLevel), zap.AddCaller()).Named("checkout")
	logger = logger.With(zap.String("service", "shop"))

	logger.Debug("not shipped: below Info")
	logger.Info("order placed",
		zap.Int("order_id", 42),
		zap.Duration("took", 1500*time.Millisecond),
		zap.Namespace("payment"),
		zap.String("method", "card"),
		zap.Strings("items", []string{"book", "pen"}),
	)
	logger.Error("payment failed", zap.Error(errors.New("card declined")))
	if err := logger.Sync(); err != nil { // delivers what is buffered
		panic(err)
	}

	for _, l := range s.Logs("app") {
		keys := make([]string, 0, len(l.Fields))
		for k := range l.Fields {
			if k != "caller" { // "zapsls/example_test.go:<line>"
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := l.Fields[k]
			if k == "time" { // the log time to the nanosecond (producer.Config.TimeField)
				v = "<RFC 3339 ns>"
			}
			fmt.Printf("%s=%s\n", k, v)
		}
		fmt.Println()
	}
	// Output:
	// level=INFO
	// logger=checkout
	// msg=order placed
	// order_id=42
	// payment.items=["book","pen"]
	// payment.method=card
	// service=shop
	// time=<RFC 3339 ns>
	// took=1.5s
	//
	// error=card declined
	// level=ERROR
	// logger=checkout
	// msg=payment failed
	// service=shop
	// time=<RFC 3339 ns>
}
