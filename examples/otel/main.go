// Command otel shows the producer's OpenTelemetry metrics: it logs some
// records, with two faults injected on purpose (one record to a logstore
// that does not exist and, on the emulator, one storage error that SLS asks
// clients to retry), and prints a summary of the metrics that result (with
// -json, also the exporter's full output, some 750 lines).
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ...) in the environment it
// ships to real SLS (producer.ConfigFromEnv reads all but SLS_LOGSTORE).
// Without them it starts the embedded SLS emulator:
//
//	go run ./examples/otel
//	go run ./examples/otel -json
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
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	printJSON := flag.Bool("json", false, "also print the metrics as the stdout exporter writes them")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *printJSON); err != nil {
		fmt.Fprintln(os.Stderr, "otel:", err)
		os.Exit(1)
	}
}

// missingLogstore does not exist, so the record sent to it fails and the
// failure shows in the metrics: an injected fault.
const missingLogstore = "no-such-logstore"

func run(ctx context.Context, w io.Writer, printJSON bool) error {
	// 1. Configuration: real SLS from the environment, or the embedded
	// emulator.
	cfg, logstore, emulator, err := target(w)
	if err != nil {
		return err
	}
	if emulator != nil {
		defer emulator.Close()
		// One storage error, which SLS asks clients to retry after a second:
		// it shows up as a partition retry, not as a failure.
		emulator.FailNext(logstore, slstest.StorageError, 1)
		fmt.Fprintf(w, "injected: the emulator answers the first batch for %q with KAFKA_STORAGE_ERROR (retried: partition.retries)\n", logstore)
	}
	fmt.Fprintf(w, "injected: one record goes to %q, which does not exist (failed: records.failed, OnError)\n\n", missingLogstore)

	// 2. A MeterProvider. In production the exporter would be OTLP
	// (otlpmetricgrpc or otlpmetrichttp) and the PeriodicReader would export
	// every minute (its default); this run is shorter than that, so the one
	// export happens at Shutdown. The default resource reads OTEL_SERVICE_NAME
	// and OTEL_RESOURCE_ATTRIBUTES.
	jsonOut := io.Discard
	if printJSON {
		jsonOut = w
	}
	exp, err := stdoutmetric.New(stdoutmetric.WithWriter(jsonOut), stdoutmetric.WithPrettyPrint())
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(summarize(exp, w))))
	defer mp.Shutdown(context.Background())

	// 3. The producer reports to that provider (nil would mean the global
	// one, otel.GetMeterProvider). Its own metrics are named by the
	// producer.Metric* constants:
	//
	//   slskafka.producer.records.accepted/delivered/failed/dropped
	//       counters per logstore; failed has error.type (auth,
	//       logstore_not_found, ...), dropped has slskafka.drop.reason
	//   slskafka.producer.buffer.usage, .buffer.records
	//       bytes and records accepted but not yet acknowledged
	//   slskafka.producer.delivery.duration
	//       histogram, seconds from Log to acknowledgement
	//   slskafka.producer.partition.retries
	//       NetworkException/KafkaStorageException answers, each retried
	//   slskafka.producer.credential.rotations, .credential.errors,
	//   slskafka.producer.auth.failures, .connections.retired
	//       credential health
	//
	// Alert on records.failed and records.dropped; watch buffer.usage
	// against MaxBufferedBytes. The Kafka client underneath (franz-go)
	// reports through the same provider with its kotel plugin, under
	// messaging.kafka.* (connects, write bytes, produce records, ...),
	// once its hooks are added.
	cfg.MeterProvider = mp
	cfg.Hooks = kotel.NewKotel(kotel.WithMeter(kotel.NewMeter(kotel.MeterProvider(mp)))).Hooks()
	// Failures are counted in the metrics either way; OnError is where the
	// application hears about them as they happen.
	cfg.OnError = func(f producer.Failure) {
		fmt.Fprintf(w, "OnError: %d record(s) for logstore %q failed: %v\n\n", f.Records, f.Logstore, f.Err)
	}
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	// Safety net for early returns (Ctrl-C included): drop what is buffered
	// rather than wait for it. The normal path closes below.
	defer p.Close(ctx)

	// 4. Log 100 records, and one to a logstore that does not exist.
	for i := range 100 {
		r := producer.Record{Fields: []producer.Field{{Key: "msg", Value: "order placed"}, {Key: "order", Value: strconv.Itoa(1000 + i)}}}
		if err := p.Log(ctx, logstore, r); err != nil {
			return err
		}
	}
	if err := p.Log(ctx, missingLogstore, producer.Record{Fields: []producer.Field{{Key: "msg", Value: "lost"}}}); err != nil {
		return err
	}

	// 5. Flush waits for every record. It reports the failure that OnError
	// has already printed; anything else is unexpected.
	flushCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Flush(flushCtx); err != nil && !errors.Is(err, producer.ErrLogstoreNotFound) {
		return err
	}

	// 6. Shut the provider down before closing the producer: Shutdown makes
	// the reader collect and export one last time, and Close unregisters the
	// producer's metrics, so after Close they would no longer be reported.
	// (franz-go records messaging.kafka.produce_* from a goroutine of its own
	// after the acknowledgement, so right after Flush they may lag a batch.)
	if printJSON {
		fmt.Fprintln(w, "metrics, as the stdout exporter prints them:")
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := mp.Shutdown(shutdownCtx); err != nil {
		return err
	}
	return p.Close(shutdownCtx)
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

// summarize wraps an exporter so that each export is followed by a table of
// every metric's total, which the JSON buries in data points.
func summarize(exp sdkmetric.Exporter, w io.Writer) sdkmetric.Exporter {
	return summary{exp, w}
}

type summary struct {
	sdkmetric.Exporter
	w io.Writer
}

func (s summary) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if err := s.Exporter.Export(ctx, rm); err != nil {
		return err
	}
	fmt.Fprintln(s.w, "\nsummary (totals over all attributes):")
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				var total int64
				for _, dp := range d.DataPoints {
					total += dp.Value
				}
				fmt.Fprintf(s.w, "  %-40s %d\n", m.Name, total)
			case metricdata.Histogram[float64]:
				var n uint64
				var max float64
				for _, dp := range d.DataPoints {
					n += dp.Count
					if v, ok := dp.Max.Value(); ok && v > max {
						max = v
					}
				}
				fmt.Fprintf(s.w, "  %-40s %d recorded, max %.3f %s\n", m.Name, n, max, m.Unit)
			}
		}
	}
	return nil
}
