// Command otellog ships OpenTelemetry logs to SLS: a log/slog logger bridged
// by otelslog feeds an OpenTelemetry LoggerProvider, whose BatchProcessor
// exports to SLS through producer/otelsls. Any other bridge (otelzap,
// otellogr, otellogrus) plugs into the same provider. It prints what SLS
// stored.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ...) in the environment it
// ships to real SLS (producer.ConfigFromEnv reads all but SLS_LOGSTORE).
// Without them it starts the embedded SLS emulator (package slstest) and
// ships there, so it runs anywhere:
//
//	go run ./examples/otellog
//
// This file stands alone: copied into a module of your own that requires
// github.com/slskafka/slskafka and github.com/slskafka/slskafka/producer/otelsls,
// it builds and runs as it is.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/otelsls"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "otellog:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	// 1. Configuration: real SLS from the environment, or the embedded
	// emulator.
	cfg, logstore, emulator, err := target(w)
	if err != nil {
		return err
	}
	if emulator != nil {
		defer emulator.Close()
	}

	// 2. A producer. Its own diagnostics (cfg.Logger, default: stderr) never
	// go through the OpenTelemetry pipeline: a failing endpoint must not log
	// to itself.
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close(context.Background())
	if err := p.Ping(ctx, logstore); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(w, "interrupted before logging anything")
			return nil
		}
		return err
	}

	// 3. The OpenTelemetry pipeline: the SLS exporter under a
	// BatchProcessor. The resource (OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES are read by resource.Default) goes into every
	// log, once per log as fields such as service.name.
	exp, err := otelsls.New(p, logstore, nil)
	if err != nil {
		return err
	}
	res, err := resource.Merge(resource.Default(),
		resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("service.version", "1.4.2")))
	if err != nil {
		return err
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	// Bridges that use the global provider (otelslog.NewLogger without
	// WithLoggerProvider, for one) now ship to SLS too.
	otel.SetLoggerProvider(lp)

	// Spans give the logs trace_id and span_id.
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	tracer := tp.Tracer("checkout")

	// 4. Log through the bridge, as a service does.
	logger := otelslog.NewLogger("checkout")
	logger.Info("starting", "addr", ":8080", "workers", 4)
	for i, item := range []string{"book", "lamp", "kettle"} {
		if ctx.Err() != nil {
			break
		}
		ctx, span := tracer.Start(ctx, "POST /api/orders")
		logger.InfoContext(ctx, "order placed", "order_id", 1040+i,
			slog.Group("req", "method", "POST", "path", "/api/orders"), "item", item)
		if item == "kettle" {
			logger.WarnContext(ctx, "stock low", "item", item, "left", 2)
		}
		span.End()
	}

	// 5. Shut the provider down first: it exports what is queued and
	// flushes the producer. Then close the producer (deferred above too,
	// for early returns), bounded even after Ctrl-C.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := lp.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := p.Close(shutdownCtx); err != nil {
		return err
	}
	st := p.Stats()

	if emulator == nil {
		fmt.Fprintf(w, "shipped to logstore %q of project %q: %d accepted, %d delivered, %d failed\n",
			logstore, cfg.Project, st.Accepted, st.Delivered, st.Failed)
		return nil
	}
	logs := emulator.Logs(logstore)
	fmt.Fprintln(w, "what SLS stored:")
	for _, l := range logs {
		fmt.Fprintln(w, format(l))
	}
	fmt.Fprintf(w, "summary: %d records accepted, %d delivered, %d failed, %d stored in logstore %q\n",
		st.Accepted, st.Delivered, st.Failed, len(logs), logstore)
	if int64(len(logs)) != st.Accepted || st.Failed != 0 {
		return fmt.Errorf("stored %d of %d records", len(logs), st.Accepted)
	}
	return nil
}

// logstoreEnv names the logstore to write to when shipping to real SLS.
// producer.ConfigFromEnv reads the other SLS_* variables; a producer serves
// every logstore of its project, so the logstore is the program's choice.
const logstoreEnv = "SLS_LOGSTORE"

// target says where to ship. With SLS_PROJECT set it is real SLS:
// producer.ConfigFromEnv and the logstore named by SLS_LOGSTORE (a service
// of your own needs only this branch). Without it, it starts an SLS emulator
// in this process (package slstest), which the caller closes, and says so on
// w.
func target(w io.Writer) (cfg producer.Config, logstore string, emulator *slstest.Server, err error) {
	if os.Getenv(producer.EnvProject) != "" {
		cfg, err = producer.ConfigFromEnv()
		logstore = os.Getenv(logstoreEnv)
		if logstore == "" {
			err = errors.Join(err, fmt.Errorf("%s is not set: name the logstore to write to, or unset %s to ship to the embedded emulator", logstoreEnv, producer.EnvProject))
		}
		return cfg, logstore, nil, err
	}
	emulator, err = slstest.Start(slstest.Config{Logstores: map[string]int{"app": 2}})
	if err != nil {
		return cfg, "", nil, err
	}
	fmt.Fprintf(w, "no %s in the environment: shipping to the embedded SLS emulator at %s\n\n", producer.EnvProject, emulator.Endpoint())
	cfg = producer.Config{
		Project:     emulator.Project(),
		Endpoint:    emulator.Endpoint(),
		Credentials: emulator.Credentials(),
		TLS:         emulator.TLSConfig(), // trusts the emulator's own CA
	}
	return cfg, "app", emulator, nil
}

// format prints a log the way the SLS console lists it: time, then fields
// in key order, the resource's telemetry.* fields left out for brevity.
func format(l slstest.Log) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  __time__: %s\n", l.Time.Format(time.RFC3339Nano))
	for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
		if strings.HasPrefix(k, "telemetry.") {
			continue
		}
		fmt.Fprintf(&b, "    %-20s %s\n", k+":", l.Fields[k])
	}
	return b.String()
}
