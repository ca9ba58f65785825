// Command slog logs with log/slog to SLS and to the console at once, and
// prints what SLS stored.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ...) in the environment it
// ships to real SLS (producer.ConfigFromEnv reads all but SLS_LOGSTORE).
// Without them it starts the embedded SLS emulator (package slstest) and
// ships there, so it runs anywhere:
//
//	go run ./examples/slog
//
// This file stands alone: copied into a module of your own that requires
// github.com/slskafka/slskafka, it builds and runs as it is.
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

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/slogsls"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // after the first Ctrl-C, a second one exits at once
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "slog example:", err)
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

	// 2. A producer. Its own diagnostics (cfg.Logger, default: stderr) must
	// never go through the SLS handler: a failing endpoint would feed
	// itself.
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

	// 3. One logger, two handlers: everything from Debug up to the console,
	// Info and up to SLS (the default Level), as in the zap example. Debug
	// lines help while developing and are volume SLS stores and bills.
	sls := slogsls.New(p, logstore, &slogsls.Options{
		AddSource: true,
		OnError:   func(err error) { fmt.Fprintln(os.Stderr, "log record lost:", err) },
	})
	console := slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
	logger := slog.New(slog.NewMultiHandler(console, sls)).With("service", "checkout", "version", "1.4.2")

	// 4. Log like a service does.
	logger.Info("starting", "addr", ":8080", "workers", 4)
	served := 0
	for i, r := range requests {
		if ctx.Err() != nil {
			logger.Warn("interrupted, shutting down", "served", served)
			break
		}
		serve(ctx, logger.With("request_id", fmt.Sprintf("req-%04d", 1000+i)), r)
		served++
	}
	logger.Info("stopped", "served", served)

	// 5. Close delivers what is buffered, even after Ctrl-C (bounded by a
	// timeout of its own).
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		return err
	}
	st := p.Stats()

	if emulator == nil {
		fmt.Fprintf(w, "\nshipped to logstore %q of project %q: %d accepted, %d delivered, %d failed, %d refused\n",
			logstore, cfg.Project, st.Accepted, st.Delivered, st.Failed, sls.Refused())
		return nil
	}
	logs := emulator.Logs(logstore)
	fmt.Fprintln(w, "\nwhat SLS stored:")
	for _, l := range logs {
		fmt.Fprintln(w, format(l))
	}
	fmt.Fprintf(w, "summary: %d records accepted, %d delivered, %d failed, %d refused, %d stored in logstore %q\n",
		st.Accepted, st.Delivered, st.Failed, sls.Refused(), len(logs), logstore)
	if int64(len(logs)) != st.Accepted || st.Failed != 0 || sls.Refused() != 0 {
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
	emulator, err = slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
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

type request struct {
	method, path string
	status       int
	took         time.Duration
	dbTook       time.Duration
}

var requests = []request{
	{"GET", "/api/cart", 200, 12 * time.Millisecond, 3 * time.Millisecond},
	{"POST", "/api/orders", 201, 84 * time.Millisecond, 61 * time.Millisecond},
	{"GET", "/api/orders/1042", 200, 740 * time.Millisecond, 702 * time.Millisecond},
	{"POST", "/api/payments", 502, 3 * time.Second, 0},
}

// serve logs what handling one request would.
func serve(ctx context.Context, logger *slog.Logger, r request) {
	req := slog.Group("req", "method", r.method, "path", r.path)
	logger.DebugContext(ctx, "request received", req)
	if r.dbTook > 500*time.Millisecond {
		logger.WithGroup("db").WarnContext(ctx, "slow query", "table", "orders", "took", r.dbTook)
	}
	if r.status >= 500 {
		logger.ErrorContext(ctx, "payment provider failed", req,
			"err", errors.New("upstream: connection reset by peer"), "attempts", 3)
	}
	logger.InfoContext(ctx, "request served", req, slog.Group("resp", "status", r.status, "took", r.took))
}

// format prints a log the way the SLS console lists it: time, then fields
// in key order.
func format(l slstest.Log) string {
	keys := slices.Sorted(maps.Keys(l.Fields))
	var b strings.Builder
	fmt.Fprintf(&b, "  __time__: %s\n", l.Time.Format(time.RFC3339Nano))
	for _, k := range keys {
		fmt.Fprintf(&b, "    %-16s %s\n", k+":", l.Fields[k])
	}
	return b.String()
}
