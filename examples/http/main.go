// Command http is a net/http server whose request logs ship to SLS through
// log/slog, each carrying the request's trace_id and span_id so that a log
// line in SLS leads to its trace.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ...) in the environment it
// ships to real SLS (producer.ConfigFromEnv reads all but SLS_LOGSTORE);
// otherwise to the embedded emulator.
//
//	go run ./examples/http                       # serve, send itself 5 requests, stop
//	go run ./examples/http -requests 0 -addr 127.0.0.1:8080   # serve until Ctrl-C
//
// This file stands alone: copied into a module of your own that requires
// github.com/slskafka/slskafka, it builds and runs as it is.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/slogsls"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	requests := flag.Int("requests", 5, "requests the example sends itself before it stops; 0 serves until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *addr, *requests); err != nil {
		fmt.Fprintln(os.Stderr, "http:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, addr string, requests int) error {
	// SLS from the environment, or the embedded emulator.
	cfg, logstore, emulator, err := target(out)
	if err != nil {
		return err
	}
	if emulator != nil {
		defer emulator.Close()
	}
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close(context.Background())

	// Tracing: a real SDK tracer provider (add an exporter to send spans to
	// your tracing backend). The W3C propagator continues traces that
	// arrive in a traceparent header.
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	prop := propagation.TraceContext{}

	// Request logs ship to SLS; trace_id and span_id come from the context.
	logger := slog.New(slogsls.New(p, logstore, nil)).With("service", "shop-api")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "0" {
			logger.WarnContext(r.Context(), "order not found", "order_id", r.PathValue("id"))
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"status":"shipped"}`+"\n", r.PathValue("id"))
	})
	// otelhttp starts a server span per request; accessLog runs inside it.
	handler := otelhttp.NewHandler(accessLog(logger, mux), "http.server",
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(out, "serving on http://%s\n", ln.Addr())

	if requests > 0 {
		err = selfTest(ctx, "http://"+ln.Addr().String(), requests)
	} else {
		<-ctx.Done() // serve until Ctrl-C
	}

	// Stop taking requests, then deliver their logs.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, serr)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if cerr := p.Close(shutdownCtx); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return err
	}

	st := p.Stats()
	if emulator != nil {
		logs := emulator.Logs(logstore)
		fmt.Fprintln(out, "\nwhat SLS stored:")
		for _, l := range logs {
			fmt.Fprintln(out, " ", line(l.Fields))
		}
		fmt.Fprintf(out, "summary: %d request logs delivered, %d failed\n", st.Delivered, st.Failed)
		if len(logs) == 0 || st.Failed > 0 {
			return fmt.Errorf("stored %d logs, %d failed", len(logs), st.Failed)
		}
		return nil
	}
	fmt.Fprintf(out, "shipped %d logs to logstore %q, %d failed\n", st.Delivered, logstore, st.Failed)
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
	emulator, err = slstest.Start(slstest.Config{Logstores: map[string]int{"access": 2}})
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
	return cfg, "access", emulator, nil
}

// accessLog logs one line per request, after it is served.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		logger.LogAttrs(r.Context(), level, "request served",
			slog.Group("http",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
			),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// selfTest sends a few requests, one continuing a trace from a caller.
func selfTest(ctx context.Context, base string, n int) error {
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range n {
		id := fmt.Sprint(1000 + i)
		if i == n-1 {
			id = "0" // a 404, logged at WARN too
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/orders/"+id, nil)
		if err != nil {
			return err
		}
		if i == 0 {
			// As if an upstream service had called us inside its trace.
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil
}

// line prints a log's fields in key order, as one line.
func line(f map[string]string) string {
	keys := slices.Sorted(maps.Keys(f))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + f[k]
	}
	return strings.Join(parts, " ")
}
