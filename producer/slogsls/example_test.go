package slogsls_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/slogsls"
	"github.com/slskafka/slskafka/slstest"
)

func Example() {
	// An SLS emulator stands in for the real endpoint; with real SLS, build
	// the config with producer.ConfigFromEnv or by hand.
	sls, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
	if err != nil {
		panic(err)
	}
	defer sls.Close()
	p, err := producer.New(producer.Config{
		Project:     sls.Project(),
		Endpoint:    sls.Endpoint(),
		Credentials: sls.Credentials(),
		TLS:         sls.TLSConfig(),
	})
	if err != nil {
		panic(err)
	}

	logger := slog.New(slogsls.New(p, "app", &slogsls.Options{Level: slog.LevelDebug}))
	logger = logger.With("service", "checkout")

	logger.Info("order placed",
		slog.Group("req", "method", "POST", "path", "/api/orders"),
		"order_id", 1042,
		"total", 99.5,
		"took", 84*time.Millisecond,
	)
	logger.WithGroup("db").Warn("slow query", "table", "orders", "err", errors.New("lock wait timeout"))

	// Close delivers what is buffered.
	if err := p.Close(context.Background()); err != nil {
		panic(err)
	}
	// What SLS stored: one flat log per call, groups as dotted keys, the
	// record time as the log time (not printed: it changes every run).
	for _, l := range sls.Logs("app") {
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
			fields = append(fields, k+"="+l.Fields[k])
		}
		fmt.Println(strings.Join(fields, "  "))
	}
	// Output:
	// level=INFO  msg=order placed  order_id=1042  req.method=POST  req.path=/api/orders  service=checkout  took=84ms  total=99.5
	// db.err=lock wait timeout  db.table=orders  level=WARN  msg=slow query  service=checkout
}
