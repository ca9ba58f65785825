// Command quickstart ships a few hundred log records to SLS and prints what
// SLS stored.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ...) in the environment it
// ships to real SLS (producer.ConfigFromEnv reads all but SLS_LOGSTORE).
// Without them it starts the embedded SLS emulator (package slstest) and
// ships there, so it runs anywhere:
//
//	go run ./examples/quickstart
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
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, 300); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int) error {
	// 1. Configuration: real SLS from the environment, or the embedded
	// emulator.
	cfg, logstore, emulator, err := target(os.Stdout)
	if err != nil {
		return err
	}
	if emulator != nil {
		defer emulator.Close()
	}

	// 2. A producer. Static fields go into every record.
	host, _ := os.Hostname()
	cfg.StaticFields = []producer.Field{{Key: "host", Value: host}, {Key: "service", Value: "quickstart"}}
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close(context.Background())

	// 3. Check the endpoint, credentials and logstore before logging.
	if err := p.Ping(ctx, logstore); err != nil {
		return err
	}

	// 4. Log. Log is asynchronous: it returns once the record is buffered.
	start := time.Now()
	for i := range n {
		if err := p.Log(ctx, logstore, request(i)); err != nil {
			return err
		}
	}

	// 5. Close delivers everything buffered, bounded by its context.
	closeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		return err
	}
	took := time.Since(start)
	st := p.Stats()

	if emulator == nil {
		fmt.Printf("shipped %d records to logstore %q of project %q in %v: %d delivered, %d failed\n",
			n, logstore, cfg.Project, took.Round(time.Millisecond), st.Delivered, st.Failed)
		return nil
	}
	logs := emulator.Logs(logstore)
	fmt.Println("what SLS stored (first 3 logs):")
	for _, l := range logs[:min(3, len(logs))] {
		fmt.Println(format(l))
	}
	shards := map[int]int{}
	for _, l := range logs {
		shards[l.Shard]++
	}
	fmt.Printf("summary: %d records logged, %d delivered, %d failed, %d stored in logstore %q across %d shards %v, in %v\n",
		n, st.Delivered, st.Failed, len(logs), logstore, len(shards), shards, took.Round(time.Millisecond))
	if len(logs) != n || st.Failed != 0 {
		return fmt.Errorf("stored %d of %d records", len(logs), n)
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
	methods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	paths   = []string{"/api/orders", "/api/orders/{id}", "/api/users/{id}", "/healthz", "/api/cart"}
)

// request returns a realistic access-log record.
func request(i int) producer.Record {
	status := 200
	switch r := rand.IntN(100); {
	case r < 3:
		status = 500
	case r < 10:
		status = 404
	}
	level := "INFO"
	if status >= 500 {
		level = "ERROR"
	}
	path := strings.ReplaceAll(paths[i%len(paths)], "{id}", strconv.Itoa(1000+rand.IntN(9000)))
	return producer.Record{Fields: []producer.Field{
		{Key: "level", Value: level},
		{Key: "msg", Value: "request served"},
		{Key: "method", Value: methods[i%len(methods)]},
		{Key: "path", Value: path},
		{Key: "status", Value: strconv.Itoa(status)},
		{Key: "latency_ms", Value: strconv.FormatFloat(0.5+rand.ExpFloat64()*20, 'f', 1, 64)},
		{Key: "request_id", Value: fmt.Sprintf("%016x", rand.Uint64())},
	}}
}

// format prints a log the way the SLS console lists it: time, then fields
// in key order.
func format(l slstest.Log) string {
	keys := slices.Sorted(maps.Keys(l.Fields))
	var b strings.Builder
	fmt.Fprintf(&b, "  __time__: %s  __shard__: %d\n", l.Time.Format(time.RFC3339Nano), l.Shard)
	for _, k := range keys {
		fmt.Fprintf(&b, "    %-11s %s\n", k+":", l.Fields[k])
	}
	return b.String()
}
