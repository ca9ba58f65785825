package otelsls_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/otelsls"
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
		Project: sls.Project(), Endpoint: sls.Endpoint(),
		Credentials: sls.Credentials(), TLS: sls.TLSConfig(),
	})
	if err != nil {
		panic(err)
	}

	// The exporter under an OpenTelemetry LoggerProvider; its resource
	// (usually resource.Default(), which reads OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES) goes into every log.
	exp, err := otelsls.New(p, "app", nil)
	if err != nil {
		panic(err)
	}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "checkout"))),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)),
	)

	// Any OpenTelemetry log bridge; here log/slog's.
	logger := otelslog.NewLogger("shop", otelslog.WithLoggerProvider(lp))
	logger.Info("order placed", "order_id", 1042, slog.Group("req", "method", "POST", "path", "/api/orders"))

	// Shut the provider down first (it exports what is queued and flushes),
	// then close the producer.
	if err := lp.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	if err := p.Close(context.Background()); err != nil {
		panic(err)
	}
	for _, l := range sls.Logs("app") {
		for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
			v := l.Fields[k]
			if k == "time" { // the log time to the nanosecond (producer.Config.TimeField)
				v = "<RFC 3339 ns>"
			}
			fmt.Printf("%s: %s\n", k, v)
		}
	}
	// Output:
	// level: INFO
	// msg: order placed
	// order_id: 1042
	// otel.scope.name: shop
	// req.method: POST
	// req.path: /api/orders
	// service.name: checkout
	// severity_number: 9
	// time: <RFC 3339 ns>
}

func ExampleNewProcessor() {
	sls, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
	if err != nil {
		panic(err)
	}
	defer sls.Close()
	p, err := producer.New(producer.Config{
		Project: sls.Project(), Endpoint: sls.Endpoint(),
		Credentials: sls.Credentials(), TLS: sls.TLSConfig(),
	})
	if err != nil {
		panic(err)
	}

	// The processor in place of a BatchProcessor: each record is encoded
	// into the producer's buffer on the logging goroutine, and the
	// producer batches and sends.
	proc, err := otelsls.NewProcessor(p, "app", nil)
	if err != nil {
		panic(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(proc))
	logger := otelslog.NewLogger("shop", otelslog.WithLoggerProvider(lp))
	logger.Warn("payment retried", "order_id", 1042)

	if err := lp.Shutdown(context.Background()); err != nil { // flushes
		panic(err)
	}
	if err := p.Close(context.Background()); err != nil {
		panic(err)
	}
	for _, l := range sls.Logs("app") {
		fmt.Println(l.Fields["level"], l.Fields["msg"], l.Fields["order_id"])
	}
	// Output:
	// WARN payment retried 1042
}
