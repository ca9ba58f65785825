// Package zapsls is a zapcore.Core that ships zap logs to Alibaba Cloud Simple
// Log Service (SLS) through a *producer.Producer.
//
// Tee it next to a console core, so logs go to both:
//
//	p, err := producer.New(cfg)
//	if err != nil { ... }
//	defer p.Close(context.Background())
//	logger := zap.New(zapcore.NewTee(
//		zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.Lock(os.Stderr), zap.DebugLevel),
//		zapsls.NewCore(p, "app", zap.InfoLevel),
//	), zap.AddCaller())
//	defer logger.Sync()
//	logger.Info("order placed", zap.Int("order_id", 42), zapsls.Context(ctx))
//
// # What SLS stores
//
// Every entry becomes one flat record, so SLS stores each key as its own,
// searchable field (producer.Expanded):
//
//   - the entry: "level", "logger" (the logger name), "caller"
//     ("pkg/file.go:42"), "msg", "stacktrace", each only when present; the
//     key names are Options. The entry time is the SLS log time
//     (__time__, which SLS keeps in whole seconds), and the producer keeps
//     it to the nanosecond in its time field ("time" by default,
//     producer.Config.TimeField): the core writes no "ts" of its own, so
//     a logstore fed by several adapters has one time field to query.
//   - the level in upper case (zapcore.Level.CapitalString): "DEBUG",
//     "INFO", "WARN", "ERROR", "DPANIC", "PANIC", "FATAL". That is how
//     slog.JSONHandler and producer/slogsls write levels, so a logstore fed
//     by both adapters has one spelling to query (SQL comparisons are case
//     sensitive); zap's own encoders write lower case by default.
//   - fields: strings as they are; integers, floats and bools in their Go
//     form; durations as time.Duration.String ("1.5s"); times as RFC 3339
//     with nanoseconds; binary as standard base64; Stringers through String;
//     zap.Error(err) as "error" plus "errorVerbose" when the error's %+v form
//     differs, and "errorCauses" for multi-errors, as zap does.
//   - zap.Namespace and nested objects (zap.Object, zap.Dict, zap.Inline
//     inlines) become dotted key prefixes: zap.Namespace("http"),
//     zap.Int("status", 200) is stored as "http.status". SLS expands one
//     level only, so flattening is what keeps nested fields searchable.
//   - arrays (zap.Ints, zap.Strings, zap.Array, ...) and zap.Reflect / zap.Any
//     of other types are stored as compact JSON text; a value whose JSON is
//     a string, such as a named string type (type Color string) through
//     zap.Any, is stored as that string, without its quotes, as
//     producer/slogsls stores it.
//
// SLS keys are 1 to 128 bytes, and the producer refuses an empty one: a
// field whose key is empty (zap.String("", ...) outside any namespace) is
// stored under "!BADKEY", slog's marker for an attribute without a proper
// key, as producer/slogsls stores it.
//
// Unlike zap's JSON encoder, which writes a repeated key twice, a record
// holds each key once and the last one wins: a field logged at the call site
// overrides one added with With, which overrides the entry's "msg" or
// "level".
//
// # Delivery
//
// Write hands the record to producer.Producer.Log, which is asynchronous, and
// returns Log's error: the record was not accepted (zap prints it to its
// ErrorOutput). Under the producer's Block policy a full buffer makes Write
// wait for space at most the producer's Config.MaxBlock (1 s by default);
// use producer.Drop if logging must never wait. Sync flushes the
// producer, bounded by Options.SyncTimeout (5 s by default). Entries above
// Error (DPanic, Panic, Fatal) are flushed before Write returns, so the last
// words of a crashing program reach SLS, and the entries before them do even
// when the producer refuses the last one.
//
// # No feedback loop
//
// Failures to ship never go through this core: the producer reports them to
// producer.Config.OnError and producer.Config.Logger, and zap reports Write
// errors to its ErrorOutput (stderr by default). Keep it that way: do not
// point Config.Logger, OnError or zap.ErrorOutput at a logger built on this
// core, or a failing endpoint would produce more logs for itself.
//
// # Trace correlation
//
// Context(ctx) is a field that adds the top-level fields "trace_id" and
// "span_id" when ctx carries a valid OpenTelemetry span. Other cores, such
// as a console core in the same Tee, render nothing for it.
//
// # Before the program exits
//
// The core keeps nothing; the producer buffers. [producer.Producer.Close]
// is what delivers what is buffered (Sync only flushes): call it before
// main returns, with a deadline that fits the shutdown. zap's Fatal, like
// os.Exit and log.Fatal, ends the program without running deferred calls:
// the Fatal entry and those before it are flushed (see Delivery), but a
// deferred Close does not run, so what other goroutines log meanwhile is
// lost. Prefer logging at Error and returning from main.
package zapsls
