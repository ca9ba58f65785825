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

	"github.com/go-logr/logr"

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
			v := l.Fields[k]
			if k == "time" { // the log time to the nanosecond (producer.Config.TimeField)
				v = "<RFC 3339 ns>"
			}
			fields = append(fields, k+"="+v)
		}
		fmt.Println(strings.Join(fields, "  "))
	}
	// Output:
	// level=INFO  msg=order placed  order_id=1042  req.method=POST  req.path=/api/orders  service=checkout  time=<RFC 3339 ns>  took=84ms  total=99.5
	// db.err=lock wait timeout  db.table=orders  level=WARN  msg=slow query  service=checkout  time=<RFC 3339 ns>
}

// Kubernetes controllers log through logr. logr.FromSlogHandler puts a
// logr.Logger on the handler; pass it to controller-runtime with
// ctrl.SetLogger, or to klog with klog.SetLogger. logr's V(1) is slog level
// -1, stored as "DEBUG+3"; Error adds the error as "err"; WithName adds
// "logger".
func Example_logr() {
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

	// Level -1 lets V(1) through; V(2) and above are left out.
	log := logr.FromSlogHandler(slogsls.New(p, "app", &slogsls.Options{Level: slog.Level(-1)}))
	log = log.WithName("webapp-controller").WithValues("namespace", "default", "name", "web")

	log.Info("reconciling", "generation", 7)
	log.V(1).Info("replicas scaled", "from", 2, "to", 3)
	log.V(2).Info("cache hit")
	log.Error(errors.New("conflict: object modified"), "update failed", "retry_in", 2*time.Second)

	if err := p.Close(context.Background()); err != nil {
		panic(err)
	}
	for _, l := range sls.Logs("app") {
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
			v := l.Fields[k]
			if k == "time" { // the log time to the nanosecond (producer.Config.TimeField)
				v = "<RFC 3339 ns>"
			}
			fields = append(fields, k+"="+v)
		}
		fmt.Println(strings.Join(fields, "  "))
	}
	// Output:
	// generation=7  level=INFO  logger=webapp-controller  msg=reconciling  name=web  namespace=default  time=<RFC 3339 ns>
	// from=2  level=DEBUG+3  logger=webapp-controller  msg=replicas scaled  name=web  namespace=default  time=<RFC 3339 ns>  to=3
	// err=conflict: object modified  level=ERROR  logger=webapp-controller  msg=update failed  name=web  namespace=default  retry_in=2s  time=<RFC 3339 ns>
}
