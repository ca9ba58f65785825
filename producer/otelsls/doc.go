// Package otelsls ships every log record of the OpenTelemetry Logs SDK to a
// logstore of Alibaba Cloud Simple Log Service (SLS) through a
// [producer.Producer]: as an exporter
// ([go.opentelemetry.io/otel/sdk/log.Exporter], from [New]) under a
// BatchProcessor, or as a processor ([NewProcessor]) that ships from OnEmit
// without a second queue. With it, the OpenTelemetry log bridges (otelslog,
// otelzap, otellogr, otellogrus, ...) ship to SLS:
//
//	exp, err := otelsls.New(p, "app", nil) // p: a *producer.Producer
//	if err != nil { ... }
//	lp := sdklog.NewLoggerProvider(
//		sdklog.WithResource(res), // service.name, host.name, ...
//		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)),
//	)
//	defer lp.Shutdown(context.Background()) // exports what is queued; then close p
//	logger := otelslog.NewLogger("checkout", otelslog.WithLoggerProvider(lp))
//	logger.InfoContext(ctx, "order placed", "order_id", 1042, slog.Group("req", "method", "POST"))
//
// stores one log with the fields
//
//	service.name:    checkout         (each resource attribute)
//	otel.scope.name: checkout         (the logger's instrumentation scope)
//	level:           INFO             (severity text, or the severity's name)
//	severity_number: 9
//	msg:             order placed     (the body)
//	trace_id, span_id                 (when the record carries a span)
//	order_id:        1042
//	req.method:      POST
//
// and the record's timestamp (or, without one, its observed timestamp) as
// the log time (__time__, which SLS keeps in whole seconds; the producer
// keeps it to the nanosecond in its field "time", producer.Config.TimeField).
//
// # One flat record per log record
//
// SLS expands a JSON object one level deep into fields, so each record
// becomes one flat record of string fields, as package slogsls writes them
// (see there), so that logs from both sit well in one logstore:
//
//   - Map values (attributes, and a map body) become dotted key prefixes:
//     a map attribute "req" holding "method" is the field "req.method"; an
//     empty map is omitted. A map body goes under "msg." ("msg.user").
//   - Strings are stored as they are; integers, floats and booleans as
//     strconv writes them; byte slices in base64, and slices as JSON arrays,
//     as OpenTelemetry renders them for protocols other than OTLP
//     ([attribute.Value.String]); an empty value is the empty string.
//   - A value the bridge could not convert arrives as text it made: the
//     otelslog bridge renders such a value with fmt's %+v, which prints
//     unexported fields too (a struct with a password field shows it),
//     where slogsls writes the value's JSON. The exporter only sees that
//     text: give such types a LogValue or MarshalJSON method, or log
//     through slogsls.
//   - The resource's attributes come first, then the built-ins, then the
//     record's attributes: when two fields have the same key, the later one
//     wins, so a record's own attribute overrides the resource's.
//   - The severity text is what the bridge set (otelslog: "INFO", "WARN+2";
//     otelzap: "info"); a record without one gets the severity's name
//     ("INFO", "WARN3"). severity_number is OpenTelemetry's 1 to 24 scale,
//     the same for every bridge: query on it when bridges mix in a logstore.
//
// The resource's attributes are rendered once per resource and then added
// to every record, so that each log is complete whatever else the producer
// serves. The producer encodes them again for every record: with 8 resource
// attributes that costs about a fifth more CPU per record than when the
// producer encodes them once as its Config.StaticFields (BenchmarkExport:
// 1.21x CPU per record, 1.26x time per record, medians of 6 rounds). Where
// that matters, and one producer serves one service, give the
// LoggerProvider resource.Empty() and put the attributes in StaticFields,
// which then go into every record of that producer, from every adapter.
//
// # The exporter contract
//
// Export hands each record to [producer.Producer.Log], which returns once
// the record is encoded and buffered; delivery is the producer's job
// (batching, retries, Config.OnError). Export blocks only while the
// producer's buffer is full under Config.OnBufferFull Block, and never past
// the producer's Config.MaxBlock (1 s by default), its context's deadline or
// [Options.Timeout], whichever comes first: after the first record refused
// for want of space, the rest are offered without waiting
// ([producer.NoWait]), so the producer counts each one it cannot take, and
// all that were not accepted are reported in its error. Export does not
// retain the records.
//
// ForceFlush is [producer.Producer.Flush]: it returns once every record
// exported before it is acknowledged by SLS, or its context ends. Shutdown
// waits for running Exports, flushes, and makes later Exports fail with
// [sdklog.ErrExporterShutdown]; it does not close the producer, which may
// serve other loggers: close it after the LoggerProvider has shut down. All
// methods are safe for concurrent use.
//
// The exporter never logs: a failing SLS endpoint cannot feed records about
// its own failure back into the pipeline. Errors go back to the SDK, which
// hands them to the OpenTelemetry error handler (otel.SetErrorHandler); do
// not route that handler into this exporter.
//
// # Before the program exits
//
// Shut the LoggerProvider down (it exports what its batch processor holds),
// then Close the producer ([producer.Producer.Close]), which is what
// delivers what is buffered; give both a deadline that fits the shutdown.
// os.Exit, and log.Fatal that calls it, end the program without running
// deferred calls, so deferred Shutdown and Close do not run and what is
// still queued or buffered is lost: return from main instead.
package otelsls
