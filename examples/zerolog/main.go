// Command zerolog logs with zerolog and logrus to SLS and to the console at
// once, through producer/writersls, and prints what SLS stored.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ...) in the environment it
// ships to real SLS (producer.ConfigFromEnv reads all but SLS_LOGSTORE).
// Without them it starts the embedded SLS emulator (package slstest) and
// ships there, so it runs anywhere:
//
//	go run ./examples/zerolog
//
// This file stands alone: copied into a module of your own that requires
// github.com/slskafka/slskafka, it builds and runs as it is.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/sirupsen/logrus"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/writersls"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "zerolog example:", err)
		// os.Exit skips deferred calls: run has closed the producer.
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
	// not go through the writer below.
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	// Safety net for early returns; the normal path closes below.
	defer p.Close(ctx)

	// 3. One io.Writer for both loggers. A line the producer refuses is
	// counted (Refused) and reported to OnError; Write fails only once the
	// producer is closed, so logging never fails the program.
	sls := writersls.New(p, logstore, &writersls.Options{
		OnError: func(err error) { fmt.Fprintln(os.Stderr, "log line lost:", err) },
	})

	// zerolog: Debug and up to the console, Info and up to SLS (Debug
	// lines help while developing and are volume SLS stores and bills).
	console := zerolog.ConsoleWriter{Out: w, NoColor: true, PartsExclude: []string{zerolog.TimestampFieldName}}
	zl := zerolog.New(zerolog.MultiLevelWriter(console, infoAndUp{sls})).
		With().Timestamp().Str("service", "checkout").Logger()
	zl.Debug().Str("path", "/api/cart").Msg("request received")
	zl.Info().Str("method", "POST").Str("path", "/api/orders").Int("status", 201).Dur("took", 84*time.Millisecond).Msg("request served")
	zl.Warn().Dict("db", zerolog.Dict().Str("table", "orders").Int("ms", 740)).Msg("slow query")

	// logrus: JSON, so that fields stay fields.
	lr := logrus.New()
	lr.SetOutput(io.MultiWriter(w, sls))
	lr.SetFormatter(&logrus.JSONFormatter{DisableTimestamp: true})
	lr.WithFields(logrus.Fields{"service": "payments", "attempts": 3}).
		WithError(errors.New("upstream: connection reset by peer")).Error("payment provider failed")

	// 4. Close delivers what is buffered, even after Ctrl-C (bounded by a
	// timeout of its own). log.Fatal, zerolog's Fatal and logrus.Fatal exit
	// without running deferred calls: close before them, or return.
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

// infoAndUp passes zerolog events at Info and above to w, so that one
// logger writes Debug to the console only.
type infoAndUp struct{ w io.Writer }

func (f infoAndUp) Write(p []byte) (int, error) { return f.w.Write(p) }

func (f infoAndUp) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	if level < zerolog.InfoLevel {
		return len(p), nil
	}
	return f.w.Write(p)
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
