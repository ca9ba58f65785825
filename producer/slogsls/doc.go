// Package slogsls is a [log/slog] handler that ships every log record to a
// logstore of Alibaba Cloud Simple Log Service (SLS) through a
// [producer.Producer].
//
//	p, err := producer.New(cfg) // see package producer
//	if err != nil { ... }
//	defer p.Close(context.Background())
//	logger := slog.New(slogsls.New(p, "app", nil))
//	logger.Info("request served", "method", "GET", slog.Group("user", "id", 42))
//
// stores one log with the fields
//
//	time: 2026-01-02T03:04:05.123456789Z
//	level: INFO
//	msg: request served
//	method: GET
//	user.id: 42
//
// and the record's time as the log time (__time__, in whole seconds; the
// field "time" is the producer's, producer.Config.TimeField).
//
// Code that logs through github.com/go-logr/logr (Kubernetes controllers,
// client-go through klog) uses the handler through
// logr.FromSlogHandler(slogsls.New(p, "app", nil)); see the logr example.
//
// # One flat record per call
//
// SLS expands a JSON object one level deep into fields; anything nested stays
// an opaque string. So each call becomes one flat record of string fields:
//
//   - Groups become dotted key prefixes: slog.Group("req", "method", "GET")
//     is the field "req.method"; so is WithGroup("req") followed by
//     "method". Empty attributes and empty groups are omitted, and a group
//     with an empty key is inlined into its parent, as [slog.Handler]
//     specifies. Any other attribute with an empty key outside a group is
//     stored under "!BADKEY" (SLS keys cannot be empty, and the producer
//     refuses them). The flattening is not reversible when keys themselves
//     contain dots.
//   - The record time is the log time (__time__, which SLS keeps in whole
//     seconds), and the producer keeps it to the nanosecond in its time
//     field ("time" by default, producer.Config.TimeField), as it does for
//     every adapter; the handler writes no time field of its own unless
//     [Options.TimeKey] says so. A record with a zero time has no time of
//     its own: the producer stamps it with the time it accepts it, since
//     every SLS log has a time.
//   - The level is a field, upper case as slog.JSONHandler writes it
//     (Level.String: "DEBUG", "INFO", "WARN", "ERROR", "WARN+2"; logr's
//     V(1) is "DEBUG+3"). producer/zapsls writes zap's levels in upper case
//     too, so a logstore fed by both has one spelling to query. The message
//     is a field, and so is, with [Options.AddSource], the source position
//     "file:line". Their keys are "level", "msg" and "source" unless
//     [Options] renames them.
//   - When the context carries a valid OpenTelemetry span context
//     ([trace.SpanContextFromContext]), the fields "trace_id" and "span_id"
//     (lower-case hex) are added at the top level, whatever group the logger
//     is in.
//   - Fields are written in this order: built-ins, trace_id and span_id,
//     attributes added with WithAttrs, then the record's attributes. When
//     two fields have the same key the later one wins.
//
// Values are rendered to strings as follows (after LogValuer resolution):
//
//	string                     as is
//	int, uint, float, bool     strconv, as slog.JSONHandler writes them
//	time.Duration              Duration.String: "1.5s"
//	time.Time                  RFC 3339 with nanoseconds
//	nil, nil pointer           "null"
//	error                      Error()
//	[]byte                     the bytes as text (invalid UTF-8 becomes U+FFFD)
//	encoding.TextAppender,     AppendText or MarshalText (slog.Level, net.IP,
//	encoding.TextMarshaler     netip.Addr, ...)
//	*slog.Source               "file:line"
//	anything else              compact JSON (encoding/json, HTML not escaped);
//	                           a JSON string is stored without its quotes;
//	                           "!ERROR:" and the error if marshaling fails,
//	                           as slog.JSONHandler does
//
// # Errors, blocking and cancellation
//
// [Handler.Handle] calls [producer.Producer.Log], which is asynchronous: it
// returns once the record is encoded and buffered. Handle therefore blocks
// only as long as the producer's buffer policy says (Config.OnBufferFull:
// Block waits for space at most Config.MaxBlock, 1 s by default; Drop
// never waits). It does not pass Log the caller's context, because a
// record that was logged must not be lost because the request that logged
// it ended; the span context is read from it first.
//
// If the producer refuses the record (closed, buffer full under Drop, record
// too large), Handle returns the error, as slog.Handler specifies. Since
// [slog.Logger] ignores it, the handler also counts it ([Handler.Refused])
// and passes it to [Options.OnError]. Records the producer accepted but could
// not deliver are reported by the producer (Config.OnError, Stats and its
// Logger), not here.
//
// The handler never logs anything itself, so a failing SLS endpoint cannot
// feed records about its own failure back into the producer. Do not close
// that loop by hand: the producer's Config.Logger and the OnError callbacks
// must not log through a handler of this package.
//
// # Before the program exits
//
// The handler keeps nothing; the producer buffers. [producer.Producer.Close]
// is what delivers what is buffered: call it before main returns, with a
// deadline that fits the shutdown. os.Exit, and log.Fatal that calls it,
// end the program without running deferred calls, so a deferred Close does
// not run and what is still buffered is lost: log the error, return from
// main (or Close first), and exit there.
package slogsls
