// Package writersls is an [io.Writer] that ships every line written to it as
// one record to a logstore of Alibaba Cloud Simple Log Service (SLS) through
// a [producer.Producer]. It is the way in for loggers that write lines:
// zerolog, logrus and the standard library's log.
//
//	p, err := producer.New(cfg) // see package producer
//	if err != nil { ... }
//	defer p.Close(context.Background()) // delivers what is buffered
//	w := writersls.New(p, "app", nil)
//
//	std := log.New(w, "", 0)                        // the standard library's log
//	zl := zerolog.New(w).With().Timestamp().Logger() // github.com/rs/zerolog
//	logrus.SetOutput(w)                             // github.com/sirupsen/logrus,
//	logrus.SetFormatter(&logrus.JSONFormatter{})    // as JSON, so fields stay fields
//
// To keep a console copy, write to both: io.MultiWriter(os.Stderr, w)
// (zerolog.MultiLevelWriter does the same for zerolog).
//
// # What SLS stores
//
// A line that is a JSON object, as zerolog and logrus's JSONFormatter write
// them, becomes one record with one field per member:
//
//	{"level":"warn","user":{"id":42,"name":"ann"},"tags":["a","b"],"message":"slow"}
//
// stores the fields
//
//	level: warn
//	user.id: 42
//	user.name: ann
//	tags: ["a","b"]
//	message: slow
//
// In detail:
//
//   - Nested objects become dotted key prefixes, as producer/slogsls
//     flattens groups: SLS expands one level only, so flattening is what
//     keeps nested fields searchable. Empty objects add nothing.
//   - Strings are stored decoded, without their quotes; numbers, true,
//     false and null as their JSON text; arrays as their JSON text.
//   - An empty key at the top level is stored under "!BADKEY", as
//     producer/slogsls does (SLS keys cannot be empty). On a repeated key
//     the last one wins.
//   - The string value of the top-level "level" (Options.LevelKey) is also
//     the record's severity, [producer.Record.Level], as the other
//     adapters set it from their loggers' levels. Any case is understood:
//     trace (slog.LevelDebug-4), debug, info, warn and warning, error, fatal
//     and panic (slog.LevelError+4), and slog's offsets such as "WARN+2".
//     A line without a level, or with another one, is slog.LevelInfo. The
//     field is stored as it was written: zerolog and logrus write lower
//     case, producer/slogsls and producer/zapsls upper case.
//   - The log time (__time__, which SLS keeps in whole seconds) is the
//     time the producer accepts the record, which is when the logger wrote
//     it, and the producer keeps it to the nanosecond in its time field
//     ("time" by default, producer.Config.TimeField). A "time" member the
//     logger wrote (zerolog and logrus write one) replaces that field, so
//     the time is stored once, as the logger wrote it: zerolog and logrus
//     write whole seconds unless told otherwise
//     (zerolog.TimeFieldFormat = time.RFC3339Nano, logrus's
//     TimestampFormat).
//
// Any other line, such as what log.New(w, "", 0) or logrus's default text
// formatter write, is stored whole in the field "content" (ContentKey), at
// level Info. A trailing "\r" is dropped, and blank lines are skipped: SLS
// has no empty log.
//
// A line written in pieces, over several Write calls, is joined: a Writer
// holds the unterminated part (up to Options.MaxLineBytes) until a later
// Write ends it or [Writer.Flush] ships it.
//
// # Errors and delivery
//
// Write hands each line to producer.Producer.Log, which is asynchronous: it
// returns once the record is encoded and buffered, and Write waits only as
// long as the producer's buffer policy says. A line the producer refuses
// (buffer full, record too large, an invalid key) is counted
// ([Writer.Refused]) and passed to [Options.OnError], and Write still
// returns len(p), nil: loggers treat a Write error as a broken output (the
// standard log drops it, logrus prints it to stderr, zerolog passes it to
// its ErrorHandler), and a logger must not fail the program. Write returns
// an error only once the producer is closed, since nothing written after
// that can be stored.
//
// Records accepted but not yet delivered are delivered by Close
// (producer.Producer.Close); call it before the program exits. log.Fatal,
// logrus.Fatal, zerolog's Fatal and os.Exit end the program without running
// deferred calls, so a deferred Close does not run: close the producer
// before calling them (or log at error level and return from main).
//
// The Writer never logs anything itself. The producer's Config.Logger and
// Options.OnError must not write to the Writer: a failing endpoint would
// feed records about its own failure back into the producer.
package writersls
