package producer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/slskafka/slskafka"
	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

// Defaults of the Config fields whose zero value means "use the default".
const (
	DefaultMaxRecordBytes   = 1_000_000
	DefaultMaxBufferedBytes = 64 << 20
	DefaultLinger           = 10 * time.Millisecond
	DefaultDeliveryTimeout  = 2 * time.Minute
	DefaultRetryBackoff     = time.Second
	DefaultMetadataMaxAge   = time.Minute
	DefaultRotateBefore     = time.Minute
	// DefaultSTSConnectionAge caps the age of connections authenticated
	// with an STS credential whose Expiration is unknown (the Alibaba
	// Cloud default chain does not report it).
	DefaultSTSConnectionAge = time.Minute
	DefaultMaxInflight      = 1 // see Config.MaxInflight for why not more
	DefaultMaxSpoolBytes    = 1 << 30
	DefaultSpoolSync        = time.Second
	// DefaultMaxBlock is how long Log waits for space by default (see
	// Config.MaxBlock).
	DefaultMaxBlock = time.Second
	// DefaultShedAt is how full the buffer is when records below
	// Config.ShedLevel start to be shed.
	DefaultShedAt = 0.8
	// MinConnectionAge is the shortest MaxConnectionAge accepted: a
	// connection must live long enough to authenticate and deliver.
	MinConnectionAge = 5 * time.Second
)

// Config configures a Producer. Project, Endpoint and Credentials are
// required; every other zero value selects the documented default.
type Config struct {
	// Project is the SLS project. It is the SASL username.
	Project string
	// Endpoint is the project's Kafka endpoint; build it with endpoint.For,
	// endpoint.FromSLS or endpoint.Parse.
	Endpoint endpoint.Endpoint
	// Credentials provides the AccessKey. Each new connection asks it for
	// the current credential, so rotated keys are picked up without a
	// restart. The provider is wrapped in auth.Caching (which leaves
	// auth.Static, auth.Env and providers that cache already as they are),
	// so many connections dialing at once cause one fetch.
	Credentials auth.Provider

	// TLS is the client TLS configuration. Nil means the system CA bundle
	// (honouring SSL_CERT_FILE and SSL_CERT_DIR) and TLS 1.2 or newer,
	// which is what SLS needs: its certificates chain to public GlobalSign
	// roots, and SLS has moved between them (R1, R3, R5, R6, R46, E46), so
	// trust stores pinned to one root broke when it rotated. Do not pin
	// one root in RootCAs; to add a CA (a proxy's, the emulator's), start
	// from x509.SystemCertPool and append to it. A config with
	// InsecureSkipVerify and no VerifyConnection or VerifyPeerCertificate
	// callback is refused: SLS is never spoken to without verifying its
	// certificate.
	TLS *tls.Config
	// DialContext, if set, dials the connections that TLS runs over, for
	// a proxy or an in-memory emulator (slstest.Config.InMemory, whose
	// Server.DialContext fits). Default: a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// CAFile, if set, is a PEM bundle that replaces the system CA bundle
	// (for example, the emulator's CA). It is ignored when TLS sets
	// RootCAs. For SLS itself leave it empty: a file holding one
	// GlobalSign root stops working when SLS rotates to another (see
	// TLS); if one is needed, give a full bundle of public roots.
	CAFile string

	// Format selects how SLS stores each record. Default Expanded.
	Format Format
	// StaticFields are added to every record, before its own fields (a
	// record's field of the same name wins). Typical: host, service, env.
	StaticFields []Field
	// MaxRecordBytes is the largest encoded record Log accepts; a larger
	// one is refused with ErrRecordTooLarge and nothing is sent. Default
	// 1,000,000 bytes, or MaxBufferedBytes if that is smaller.
	MaxRecordBytes int

	// Compression is the batch compression codec. Default Auto: LZ4,
	// switching to Gzip for good if SLS refuses LZ4, without failing a
	// record. Producer.Compression says which is in use.
	Compression Compression
	// Linger is how long a batch waits for more records before it is
	// sent. Default 10 ms; at most 1 minute.
	Linger time.Duration
	// MaxBufferedBytes bounds the memory the producer holds for records
	// accepted and not yet acknowledged or failed: their encoded bytes,
	// and what the producer and the Kafka client keep per record (about
	// 300 bytes, which dominates for small records). Records are placed
	// one after another into blocks (chunks of MaxBufferedBytes/16, at
	// most 64 KiB, for the bytes; slabs for the rest), and a block counts
	// in full until its last record is finished, so the bound holds even
	// when one slow shard keeps a few records of every block alive; the
	// blocks being filled count too (at most a quarter of the buffer).
	// Compressed copies of the batches in flight come on top (franz-go
	// holds at most a quarter of the buffer). Stats and metrics report the
	// encoded bytes. Default 64 MiB.
	MaxBufferedBytes int
	// OnBufferFull says what Log does when the buffer is full (with a
	// spool: when the spool is full): Block (the default) waits for space
	// at most MaxBlock, or until its context is done; Drop returns
	// ErrBufferFull at once. Either way a record not accepted is counted
	// in Stats.Dropped, and Logger gets one line about it (then one line
	// with a count per ten RetryBackoffs while it lasts).
	OnBufferFull FullPolicy

	// SpoolDir, if set, keeps every accepted record on disk too, in this
	// directory, until SLS acknowledges it: a record for which Log
	// returned nil survives the process dying (SIGKILL, a crash, an OOM
	// kill), and the next producer opened on the directory delivers it (at
	// least once: those that were in flight may be stored twice). During
	// an outage, records beyond MaxBufferedBytes go to disk instead of
	// blocking or being dropped, and wait there, oldest first, for as long
	// as MaxSpoolBytes lasts: with a spool a record does not fail for its
	// DeliveryTimeout, it goes back to disk. One producer per directory;
	// the directory is created 0700, its files 0600, and it holds log
	// content only. A full or failing disk does not stop Log: records go
	// on through memory only, as without a spool, until the disk has room
	// again (Stats.SpoolDegraded; one line to Logger names the directory
	// and the free space). Records lost to damage on disk are counted in
	// Stats.SpoolLost. A lost disk loses the spool; a power loss, what came
	// in the last SpoolSync. Unix only. Default "": no spool.
	SpoolDir string
	// MaxSpoolBytes bounds the disk the spool takes. Default 1 GiB.
	MaxSpoolBytes int64
	// SpoolSync is how often spooled records are written to disk: what a
	// power loss or a kernel crash can take. (A process dying takes
	// nothing: the records are in the page cache as soon as Log returns.)
	// Default 1 s; negative: never, the kernel writes back on its own
	// schedule.
	SpoolSync time.Duration

	// DeliveryTimeout is how long after Log accepted it a record may wait
	// for its acknowledgement, retries included, before it fails with
	// ErrDeliveryTimeout, whose message names the last transport error
	// (for example "connection refused"). Each record fails at its own
	// deadline, at most about 200 ms late (deadlines are kept per window
	// of acceptance). It is counted from acceptance, not from the
	// record's Time, so old log lines are delivered like new ones. With a
	// spool (SpoolDir), a record past its deadline goes back to disk and
	// is sent again later instead of failing. Default 2 minutes.
	DeliveryTimeout time.Duration
	// RetryBackoff is the wait before retrying a shard SLS answered with a
	// retriable error; SLS asks clients to wait a second after
	// NetworkException and KafkaStorageException. It is also the minimum
	// age of metadata before a refresh, which is what paces franz-go's
	// retries of partition errors (so the first retry after a calm spell
	// may come sooner than RetryBackoff), and the longest wait between retries
	// of a request whose connection failed (the first such retry comes
	// after 50 ms, the wait doubling from there). Default 1 s.
	RetryBackoff time.Duration
	// MetadataMaxAge is how often shard lists are refreshed, which bounds
	// how soon new shards (after a split) receive records. Default 1 min.
	MetadataMaxAge time.Duration
	// RotateBefore is how long before its credential expires a connection
	// stops taking requests and is replaced by one authenticated with the
	// current credential; it is capped at a quarter of the credential's
	// remaining lifetime when the connection is dialed. Default 1 min.
	RotateBefore time.Duration
	// MaxConnectionAge, if positive, also retires connections this long
	// after they were dialed, for credentials that rotate without an
	// expiry (a rewritten credentials file, for example); at least
	// MinConnectionAge. Default 0: no age limit, except that connections
	// authenticated with an STS credential of unknown expiry (as
	// auth.Default returns on ECS, ACK and Function Compute) live at most
	// DefaultSTSConnectionAge.
	MaxConnectionAge time.Duration
	// MaxInflight is how many produce requests may be in flight per
	// connection. Each request carries a batch for every shard that has
	// records, so one in flight already sends to all shards at once.
	// More than one keeps a high-latency link busier, at two costs, both
	// because SLS has no idempotent producer: a retriable partition error
	// (KafkaStorageException, NetworkException) makes the Kafka client
	// rewind the shard and send again every batch that was in flight
	// behind the failed one, so batches SLS had acknowledged are stored
	// twice; and a retried batch can land after a later batch of the same
	// shard (what order SLS then shows them in is not documented).
	// Default 1: a duplicate only where an acknowledgement was lost.
	MaxInflight int

	// OnError is called with every final delivery failure: records that
	// will not be delivered; and with records Log refused as invalid
	// (ErrInvalid, Stats.Invalid). Failures of the same logstore and kind
	// that happen together are reported once, with their count. It is called
	// from one goroutine at a time and must not call Flush or Close.
	// Failures are also counted in Stats and, when OnError is nil, logged
	// to Logger.
	OnError func(Failure)
	// Logger receives the SDK's own diagnostics: connection and
	// credential problems, delivery failures when OnError is nil. It must
	// not ship to SLS through this producer. Default: a text handler on
	// stderr at level Warn. Use slog.New(slog.DiscardHandler) to silence.
	Logger *slog.Logger
	// MeterProvider receives the producer's metrics (see the Metric
	// constants). Default: the OpenTelemetry global. After Close, the
	// next collection (the provider's last export, usually) reports the
	// final values; then the producer's metrics are unregistered.
	MeterProvider metric.MeterProvider
	// Hooks are franz-go hooks added to the Kafka client, such as the
	// client's own metrics (connections, bytes, batches) from franz-go's
	// kotel plugin:
	//
	//	cfg.Hooks = kotel.NewKotel(kotel.WithMeter(kotel.NewMeter(kotel.MeterProvider(mp)))).Hooks()
	//
	// They are opt-in so that a producer's users do not get kotel's test
	// dependencies (testify, the OpenTelemetry SDK) in their go.sum. Not
	// kotel's tracer: it replaces Record.Context, which the producer
	// relies on, and a span per log line costs more than the line.
	Hooks []kgo.Hook
	// TracerProvider is used for trace context. Default: the
	// OpenTelemetry global.
	TracerProvider trace.TracerProvider
	// ClientID is the Kafka client id sent to SLS. Default "slskafka/" +
	// slskafka.Version, such as "slskafka/v0.1.0".
	ClientID string

	// TimeField is the field that keeps each record's full time: SLS
	// stores the log time (__time__, Record.Time) in whole seconds, which
	// loses the order and the fraction of records of one second. The
	// field holds Record.Time in UTC, RFC 3339 with nine fractional digits
	// ("2026-01-02T03:04:05.123456789Z"), so that it sorts as text. It
	// comes after StaticFields (replacing one of that name), and a
	// record's own field of that name replaces it, so it is never written
	// twice. Default DefaultTimeField ("time", as slog's JSON handler
	// names it); "-": no time field.
	TimeField string

	// MaxBlock is the longest Log (and LogSync, before its record is
	// accepted) waits for buffer or spool space under the Block policy
	// (OnBufferFull), whatever its context: then it returns an error
	// wrapping ErrBufferFull. The adapters (slogsls, zapsls, otelsls,
	// writersls) log with contexts that never end, so this is what keeps
	// an application's request path from stalling behind an endpoint that
	// is down. A context that ends first makes Log return ErrBufferFull
	// wrapping the context's error. Default 1 s (DefaultMaxBlock); it must
	// not be negative.
	MaxBlock time.Duration

	// ShedLevel and ShedAt keep the important records when the buffer
	// fills: once the buffer (MaxBufferedBytes; with SpoolDir, the spool's
	// MaxSpoolBytes) is ShedAt full, records whose Record.Level is below
	// ShedLevel are refused at once with an error wrapping ErrBufferFull
	// (IsShed tells it apart), counted in Stats.Shed and said once per
	// diagnostic interval in Logger, and those at or above it use the
	// rest, as Logback's AsyncAppender keeps WARN and ERROR. A Record
	// without a Level is INFO; the adapters set it from their logger's
	// level.
	//
	// ShedLevel is the lowest level kept: default slog.LevelWarn. A
	// *slog.LevelVar changes it at run time.
	ShedLevel slog.Leveler
	// ShedAt is the share of the buffer in use from which records below
	// ShedLevel are shed: default 0.8 (DefaultShedAt), at most 1. A
	// negative ShedAt switches shedding off: every record then waits for
	// space as OnBufferFull says.
	ShedAt float64
}

// Format selects how SLS stores a record.
type Format int

const (
	// Expanded sends records to the "<logstore>.json" topic, so SLS
	// stores each top-level JSON key as its own, searchable field.
	Expanded Format = iota
	// Content sends records to the "<logstore>" topic, so SLS stores the
	// whole JSON object as text in the field "content".
	Content
)

// String returns the format name.
func (f Format) String() string {
	switch f {
	case Expanded:
		return "expanded"
	case Content:
		return "content"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Compression is a batch compression codec. SLS's documents show gzip and
// uncompressed batches only; that SLS accepts the others is assumed, and
// checked against a project by the conformance kit (slstest/conformance,
// TestCodec). With a codec set explicitly, a batch SLS refuses for its
// codec fails with ErrRejected, whose message names the codec and suggests
// Gzip; with Auto, the default, the producer switches to Gzip instead.
type Compression int

const (
	// Auto is the default: LZ4 until SLS refuses a batch for its codec
	// (UNSUPPORTED_COMPRESSION_TYPE, or CORRUPT_MESSAGE on an LZ4
	// batch), then Gzip for the producer's lifetime. The refused records
	// are sent again, the switch is logged once (Config.Logger, Warn).
	// LZ4 costs a fraction of gzip's CPU (bench/throughput.sh).
	Auto Compression = iota
	// LZ4 is fast, with a good ratio on log text. Set explicitly, a
	// refusal fails the records.
	LZ4
	// NoCompression sends batches uncompressed.
	NoCompression
	// Gzip compresses best and costs the most CPU.
	Gzip
	// Snappy is fast with a lower ratio.
	Snappy
	// Zstd compresses better than LZ4 at more CPU.
	Zstd
)

// String returns the codec name.
func (c Compression) String() string {
	switch c {
	case Auto:
		return "auto"
	case LZ4:
		return "lz4"
	case NoCompression:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// FullPolicy says what Log does when the buffer is full.
type FullPolicy int

const (
	// Block waits for buffer space at most Config.MaxBlock, or until the
	// Log context is done, then refuses the record with ErrBufferFull.
	Block FullPolicy = iota
	// Drop refuses the record at once with ErrBufferFull.
	Drop
)

// String returns the policy name.
func (p FullPolicy) String() string {
	switch p {
	case Block:
		return "block"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("FullPolicy(%d)", int(p))
}

// normalize checks the config and fills in defaults.
func (c Config) normalize() (Config, error) {
	var errs []error
	if c.Project == "" {
		errs = append(errs, errors.New("Project is required: the SLS project name (SLS_PROJECT)"))
	} else if err := endpoint.ValidateProject(c.Project); err != nil {
		errs = append(errs, err)
	}
	if c.Endpoint.Host == "" || c.Endpoint.Port <= 0 || c.Endpoint.Port > 65535 {
		errs = append(errs, errors.New("Endpoint is required: build it with endpoint.For(project, region, endpoint.Public) or endpoint.FromSLS(project, \"cn-hangzhou.log.aliyuncs.com\")"))
	}
	if c.Credentials == nil {
		errs = append(errs, errors.New("Credentials is required: use auth.Default(), auth.Env() or auth.Static(id, secret)"))
	}
	if c.TLS != nil && c.TLS.InsecureSkipVerify && c.TLS.VerifyConnection == nil && c.TLS.VerifyPeerCertificate == nil {
		errs = append(errs, errors.New("TLS.InsecureSkipVerify would send the AccessKey to an unverified server: trust the server's CA with CAFile or TLS.RootCAs instead"))
	}
	if c.Format != Expanded && c.Format != Content {
		errs = append(errs, fmt.Errorf("unknown Format %d", int(c.Format)))
	}
	if c.Compression < Auto || c.Compression > Zstd {
		errs = append(errs, fmt.Errorf("unknown Compression %d", int(c.Compression)))
	}
	if c.OnBufferFull != Block && c.OnBufferFull != Drop {
		errs = append(errs, fmt.Errorf("unknown OnBufferFull policy %d", int(c.OnBufferFull)))
	}
	for _, f := range c.StaticFields {
		if f.Key == "" {
			errs = append(errs, errors.New("StaticFields: a field has an empty key"))
			break
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Linger", c.Linger}, {"DeliveryTimeout", c.DeliveryTimeout}, {"RetryBackoff", c.RetryBackoff}, {"MetadataMaxAge", c.MetadataMaxAge}, {"RotateBefore", c.RotateBefore}, {"MaxConnectionAge", c.MaxConnectionAge}, {"MaxBlock", c.MaxBlock}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %v", d.name, d.v))
		}
	}
	if c.Linger > time.Minute {
		errs = append(errs, fmt.Errorf("Linger must be at most 1m, got %v", c.Linger))
	}
	if c.MaxConnectionAge > 0 && c.MaxConnectionAge < MinConnectionAge {
		errs = append(errs, fmt.Errorf("MaxConnectionAge must be 0 (no limit) or at least %v, got %v: a connection must live long enough to authenticate and deliver", MinConnectionAge, c.MaxConnectionAge))
	}
	if c.MaxSpoolBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxSpoolBytes must not be negative, got %d", c.MaxSpoolBytes))
	}
	if c.MaxInflight < 0 {
		errs = append(errs, fmt.Errorf("MaxInflight must not be negative, got %d", c.MaxInflight))
	}
	if c.MaxRecordBytes < 0 || c.MaxBufferedBytes < 0 {
		errs = append(errs, errors.New("MaxRecordBytes and MaxBufferedBytes must not be negative"))
	}

	if c.MaxBufferedBytes == 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = min(DefaultMaxRecordBytes, c.MaxBufferedBytes)
	}
	if c.MaxRecordBytes > c.MaxBufferedBytes {
		errs = append(errs, fmt.Errorf("MaxRecordBytes (%d) must not exceed MaxBufferedBytes (%d)", c.MaxRecordBytes, c.MaxBufferedBytes))
	}
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.DeliveryTimeout == 0 {
		c.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MetadataMaxAge == 0 {
		c.MetadataMaxAge = DefaultMetadataMaxAge
	}
	if c.RotateBefore == 0 {
		c.RotateBefore = DefaultRotateBefore
	}
	if c.MaxSpoolBytes == 0 {
		c.MaxSpoolBytes = DefaultMaxSpoolBytes
	}
	if c.SpoolSync == 0 {
		c.SpoolSync = DefaultSpoolSync
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.MaxBlock == 0 {
		c.MaxBlock = DefaultMaxBlock
	}
	if c.ShedAt > 1 || math.IsNaN(c.ShedAt) {
		errs = append(errs, fmt.Errorf("ShedAt must be at most 1 (a share of the buffer), or negative to switch shedding off, got %v", c.ShedAt))
	}
	if c.ShedAt == 0 {
		c.ShedAt = DefaultShedAt
	}
	if c.ShedLevel == nil {
		c.ShedLevel = slog.LevelWarn
	}
	if c.ClientID == "" {
		c.ClientID = "slskafka/" + slskafka.Version
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
	if c.TracerProvider == nil {
		c.TracerProvider = otel.GetTracerProvider()
	}
	c.StaticFields = append([]Field(nil), c.StaticFields...)
	if len(errs) > 0 {
		return c, fmt.Errorf("producer: invalid config: %w", errors.Join(errs...))
	}
	return c, nil
}
