// Command zap logs a small web shop's activity with zap, to the console and
// to SLS at once, and prints what SLS stored.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ...) in the environment it
// ships to real SLS (producer.ConfigFromEnv reads all but SLS_LOGSTORE).
// Without them it starts the embedded SLS emulator (package slstest) and
// ships there, so it runs anywhere:
//
//	go run ./examples/zap
//
// This file stands alone: copied into a module of your own that requires
// github.com/slskafka/slskafka, it builds and runs as it is.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/zapsls"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, 20); err != nil {
		fmt.Fprintln(os.Stderr, "zap example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, requests int) error {
	// 1. Configuration: real SLS from the environment, or the embedded
	// emulator.
	cfg, logstore, emulator, err := target(w)
	if err != nil {
		return err
	}
	if emulator != nil {
		defer emulator.Close()
	}

	// 2. A producer. Its own diagnostics go to cfg.Logger (stderr by
	// default), never to the zap logger built on it: a failing endpoint
	// must not log to itself.
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close(context.Background())
	if err := p.Ping(ctx, logstore); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(w, "interrupted before logging")
			return nil
		}
		return err
	}

	// 3. A zap logger that writes every entry to the console and ships Info
	// and above to SLS.
	console := zapcore.NewCore(
		zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
		zapcore.Lock(zapcore.AddSync(unsynced{os.Stderr})),
		zap.DebugLevel,
	)
	logger := zap.New(zapcore.NewTee(console, zapsls.NewCore(p, logstore, zap.InfoLevel)),
		zap.AddCaller(), zap.AddStacktrace(zap.ErrorLevel),
	).Named("shop").With(zap.String("service", "shop"), zap.String("version", "1.4.2"))

	// Spans give the logs trace_id and span_id (zapsls.Context).
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	tracer := tp.Tracer("shop")

	// 4. Log: a start-up line, then one or two lines per request.
	start := time.Now()
	shipped := 0
	logger.Info("starting", zap.Dict("config", zap.String("listen", ":8080"), zap.Int("workers", 4), zap.Duration("timeout", 5*time.Second)))
	shipped++
	logger.Debug("console only: debug lines are not shipped", zap.Int("requests", requests))

	served := 0
	for i := range requests {
		if ctx.Err() != nil {
			break // Ctrl-C: stop logging, still deliver what is logged
		}
		serve(ctx, tracer, logger, i)
		served++
		shipped++
	}
	logger.Info("stopping", zap.Int("served", served), zap.Duration("uptime", time.Since(start).Round(time.Millisecond)))
	shipped++

	// 5. Sync delivers what is buffered (bounded, 5 s by default); Close
	// does the same and closes the connections. A fresh context, so that an
	// interrupted run still drains.
	if err := logger.Sync(); err != nil {
		return err
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		return err
	}
	took := time.Since(start)
	st := p.Stats()

	if ctx.Err() != nil {
		fmt.Fprintf(w, "\ninterrupted after %d of %d requests\n", served, requests)
	}
	if emulator == nil {
		fmt.Fprintf(w, "shipped %d entries to logstore %q of project %q in %v: %d delivered, %d failed\n",
			shipped, logstore, cfg.Project, took.Round(time.Millisecond), st.Delivered, st.Failed)
		return nil
	}
	logs := emulator.Logs(logstore)
	fmt.Fprintln(w, "\nwhat SLS stored (one entry of each kind):")
	seen := map[string]bool{}
	for _, l := range logs {
		if msg := l.Fields["msg"]; !seen[msg] {
			seen[msg] = true
			fmt.Fprintln(w, format(l))
		}
	}
	traced := 0
	for _, l := range logs {
		if l.Fields["trace_id"] != "" {
			traced++
		}
	}
	fmt.Fprintf(w, "summary: %d entries shipped, %d delivered, %d failed, %d stored in logstore %q (%d with a trace id), in %v\n",
		shipped, st.Delivered, st.Failed, len(logs), logstore, traced, took.Round(time.Millisecond))
	if len(logs) != shipped || st.Failed != 0 {
		return fmt.Errorf("stored %d of %d entries", len(logs), shipped)
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

var (
	methods = []string{"GET", "GET", "POST", "PUT", "DELETE"}
	paths   = []string{"/api/orders", "/api/orders/1042", "/api/users/7", "/api/cart"}

	errDeclined = errors.New("card declined")
)

// serve pretends to handle request i and logs it: one entry at Info or
// above, which SLS receives, and maybe a Debug one for the console only.
func serve(ctx context.Context, tracer trace.Tracer, logger *zap.Logger, i int) {
	method, path := methods[i%len(methods)], paths[i%len(paths)]
	ctx, span := tracer.Start(ctx, method+" "+path)
	defer span.End()

	// A request-scoped logger: trace ids, then the http namespace, which
	// SLS stores as http.method, http.path, http.status, ...
	log := logger.With(zapsls.Context(ctx), zap.Namespace("http"),
		zap.String("method", method), zap.String("path", path),
		zap.String("request_id", fmt.Sprintf("%016x", rand.Uint64())))
	latency := time.Duration(500+rand.IntN(20_000)) * time.Microsecond

	switch r := rand.IntN(10); {
	case i == 3 || r == 0:
		err := fmt.Errorf("charge order %d: %w", 1000+i, errDeclined)
		log.Error("request failed", zap.Int("status", 402), zap.Duration("latency", latency), zap.Error(err))
	case r < 3:
		log.Warn("slow request", zap.Int("status", 200), zap.Duration("latency", latency+time.Second))
	default:
		log.Debug("cache hit", zap.String("key", path))
		log.Info("request served", zap.Int("status", 200), zap.Duration("latency", latency),
			zap.Strings("tags", []string{"web", "v1"}))
	}
}

// unsynced hides os.Stderr's Sync: fsync on a terminal or pipe fails with
// EINVAL on Linux (zap issue #370), and stderr is not buffered anyway.
type unsynced struct{ io.Writer }

// format prints a log the way the SLS console lists it: time, then fields in
// key order.
func format(l slstest.Log) string {
	keys := make([]string, 0, len(l.Fields))
	width := 0
	for k := range l.Fields {
		keys = append(keys, k)
		width = max(width, len(k)+1)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "  __time__: %s  __shard__: %d\n", l.Time.Format(time.RFC3339Nano), l.Shard)
	for _, k := range keys {
		v := l.Fields[k]
		if k == "stacktrace" {
			v = strings.SplitN(v, "\n", 2)[0] + " ..."
		}
		fmt.Fprintf(&b, "    %-*s %s\n", width, k+":", v)
	}
	return b.String()
}
