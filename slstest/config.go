package slstest

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Config configures an emulator. The zero value is usable: project "demo",
// one logstore "app" with 2 shards, a generated AccessKey and CA, 127.0.0.1
// on a free port, and the bounds documented on each field.
type Config struct {
	// Project is the SLS project; SASL usernames must equal it.
	// Default "demo".
	Project string
	// Logstores maps logstore names to shard counts. Default {"app": 2}.
	// A count below 1 means 1.
	Logstores map[string]int
	// Addr is the listen address. Default "127.0.0.1:0" (a free port).
	// Ignored with InMemory.
	Addr string
	// InMemory serves on an in-memory listener instead of TCP: clients
	// connect with DialContext only (kgo.Dialer(s.DialContext) plus a TLS
	// client, say). Connections are net.Pipe pairs, so an emulator
	// started inside a testing/synctest bubble runs on the bubble's fake
	// clock: tests of timeouts, expiry and rotation take no real time.
	// The endpoint is then slstest.invalid:10012 (or AdvertisedHost),
	// an address no network resolves.
	InMemory bool
	// AdvertisedHost is the host name that metadata responses tell clients
	// to connect to, and that the server certificate is valid for in
	// addition to 127.0.0.1, ::1 and localhost. Default: the host of the
	// listening address (127.0.0.1 when listening on all interfaces).
	AdvertisedHost string
	// AccessKeyID and AccessKeySecret are the first valid AccessKey, the
	// one Credentials returns. Default: generated at start.
	AccessKeyID, AccessKeySecret string
	// AuthFailure is where a refused credential fails. Default AtProduce,
	// as SLS documents it.
	AuthFailure AuthFailure
	// RefuseSecurityTokens refuses every password that carries a security
	// token (<AccessKeyId>#<AccessKeySecret>#<SecurityToken>), STS keys
	// added with AddSTSKey included, where AuthFailure says. SLS documents
	// only the AccessKey pair as its Kafka password; that it accepts STS
	// credentials in the token form is assumed (conformance test
	// TestSTSPassword). Set it to see how a client reports an STS
	// credential that SLS refuses.
	RefuseSecurityTokens bool
	// RefuseCodecs lists the batch compression codecs the emulator
	// refuses: a record batch compressed with one of them is answered with
	// CodecRefusal and nothing of it is stored. SLS's documents show gzip
	// only; that it accepts the others is assumed (conformance tests
	// TestCodec/*). Set it to see how a client reports a codec that SLS
	// refuses. Default: every codec is accepted.
	RefuseCodecs []kgo.CompressionCodecType
	// CodecRefusal is how a batch in one of RefuseCodecs is answered.
	// Default UnsupportedCompression.
	CodecRefusal CodecRefusal
	// CA is the certificate authority that signs the server certificate:
	// a CA certificate with its private key, as CA returns it. Pass the CA
	// of an emulator that was stopped to start another one that clients
	// trusting the first still trust (an outage test). Default: a CA
	// generated at start.
	CA *tls.Certificate
	// Latency delays every produce response, pipelined requests included.
	// Change it at run time with SetLatency.
	Latency time.Duration
	// MaxBatchBytes is the largest record batch a partition accepts; a
	// larger one is answered with MESSAGE_TOO_LARGE. Default 1048588, the
	// Kafka broker default (message.max.bytes).
	MaxBatchBytes int
	// MaxDecompressedBytes bounds what the record batches of one produce
	// request may decompress to, all partitions together. A batch that
	// would decompress past the bound, or past what is left of it, is
	// answered with MESSAGE_TOO_LARGE and decompression stops there, so a
	// small compressed bomb costs no more than the bound. Default 32 MiB:
	// Kafka clients close a batch at about 1 MiB before compression.
	MaxDecompressedBytes int
	// MaxRecords bounds the records one produce request may store, all
	// batches together. A batch that declares more records than are left
	// is answered with MESSAGE_TOO_LARGE before it is decompressed.
	// Default 100,000.
	MaxRecords int
	// MaxRequestBytes is the largest request frame read; a client that sends
	// a larger one is disconnected, as a Kafka broker does
	// (socket.request.max.bytes). Default 100 MiB. Before a client has
	// authenticated, frames are capped at 512 KiB as well, as Kafka's
	// sasl.server.max.receive.size caps them.
	MaxRequestBytes int
	// MaxPendingRequestBytes bounds the bytes that request frames being
	// read hold, all connections together. A frame's buffer grows with
	// the bytes that arrive, not with the size its header declares, so a
	// client that declares a large frame and sends little costs little; a
	// connection whose next bytes would take the total past the bound is
	// closed. Default 256 MiB; raised to MaxRequestBytes if below it.
	MaxPendingRequestBytes int
	// MaxConnections bounds the connections open at once; a connection
	// accepted beyond it is closed at once. Default 1024.
	MaxConnections int
	// IdleTimeout closes an authenticated connection that sends no
	// request, or does not read a response, for this long. Default 10
	// min, Kafka's connections.max.idle.ms. Connections that have not
	// authenticated get 10 s from the moment they connect.
	IdleTimeout time.Duration
	// MaxStoredBytes bounds what each logstore keeps, approximately (the
	// fields of its logs, twice: as Logs returns them and as consumers
	// read them, plus about 200 bytes a log), so that an emulator that runs
	// for long does not grow without end. Past it the oldest logs are
	// dropped: they leave Logs (and WaitLogs counts what is kept), and a
	// consumer reading them gets OFFSET_OUT_OF_RANGE. SLS keeps logs for
	// the logstore's retention period instead; the emulator bounds
	// memory, not time. Default 1 GiB.
	MaxStoredBytes int
	// JumpingOffsets makes a shard's offsets jump, as SLS documents its
	// consumers' offsets do ("offsets jump: do not derive counts from
	// them"): every batch a shard stores (one partition of one produce
	// request) starts at the next multiple of 1000, so offsets are
	// consecutive within a batch only. Consumers read across the gaps;
	// a fetch from an offset in a gap starts at the next log. How far
	// SLS's offsets jump is not documented. Default: consecutive
	// offsets, as Kafka assigns them.
	JumpingOffsets bool
	// Discard makes the emulator validate and acknowledge record batches
	// (framing, CRC, sizes) without decompressing or storing them: Logs
	// stays empty, OnLog is not called and consumers find nothing to
	// read, while Stats and offsets still count records. It keeps the
	// emulator's own cost out of benchmarks.
	Discard bool
	// OnLog, if set, is called for every stored log, from the goroutine
	// serving the connection. Calls are made one at a time, in offset
	// order within each shard, and a log is visible to Logs before its
	// call. Fields is the callee's own copy. OnLog must not block: no
	// other log is stored while it runs.
	OnLog func(logstore string, l Log)
	// Logger receives the emulator's own diagnostics (connections,
	// authentication failures, faults). Default: discarded.
	Logger *slog.Logger
	// Now is the clock used for STS expiry. Default time.Now.
	Now func() time.Time
}

// Format prints c as fmt would print the struct, with AccessKeySecret
// replaced by "[redacted]", so a test that prints its Config in a failure
// message does not show the secret. (CA is a pointer: fmt prints its
// address, never the private key.)
func (c Config) Format(f fmt.State, verb rune) {
	type plain Config // no Format method: fmt prints its fields
	p := plain(c)
	if p.AccessKeySecret != "" {
		p.AccessKeySecret = "[redacted]"
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), p)
}

// AuthFailure says where the emulator refuses a credential it does not
// accept (unknown AccessKey, wrong secret, revoked or expired key). A
// valid key with another project is not refused: it finds no logstore.
type AuthFailure int

const (
	// AtProduce lets SASL succeed and answers the connection's Metadata,
	// Produce, Fetch and ListOffsets requests with
	// TOPIC_AUTHORIZATION_FAILED (and its group requests with
	// GROUP_AUTHORIZATION_FAILED), which is how SLS documents a wrong
	// AccessKey or one without write permission. The reason is logged,
	// not sent: Kafka 2.1 responses carry no message.
	AtProduce AuthFailure = iota
	// AtSASL fails SaslAuthenticate with SASL_AUTHENTICATION_FAILED and a
	// message saying which rule failed, then closes the connection, as a
	// Kafka broker does. That SLS may answer so is not documented.
	AtSASL
)

// String returns the name of the mode.
func (a AuthFailure) String() string {
	switch a {
	case AtProduce:
		return "AtProduce"
	case AtSASL:
		return "AtSASL"
	}
	return "AuthFailure(" + strconv.Itoa(int(a)) + ")"
}

// CodecRefusal is how the emulator answers a record batch compressed with
// a codec it refuses (Config.RefuseCodecs).
type CodecRefusal int

const (
	// UnsupportedCompression answers UNSUPPORTED_COMPRESSION_TYPE, as a
	// Kafka broker answers a codec it does not support.
	UnsupportedCompression CodecRefusal = iota
	// CorruptMessage answers CORRUPT_MESSAGE, as a server that cannot
	// decompress the batch would.
	CorruptMessage
)

// String returns the Kafka error name the refusal is served as.
func (r CodecRefusal) String() string {
	switch r {
	case UnsupportedCompression:
		return "UNSUPPORTED_COMPRESSION_TYPE"
	case CorruptMessage:
		return "CORRUPT_MESSAGE"
	}
	return "CodecRefusal(" + strconv.Itoa(int(r)) + ")"
}

// Defaults of the Config bounds.
const (
	defaultMaxBatchBytes        = 1048588
	defaultMaxDecompressedBytes = 32 << 20
	defaultMaxRecords           = 100_000
	defaultMaxRequestBytes      = 100 << 20
	defaultMaxPendingRequests   = 256 << 20
	defaultMaxConnections       = 1024
	defaultMaxStoredBytes       = 1 << 30
	defaultIdleTimeout          = 10 * time.Minute
)

// inMemoryHost and inMemoryPort form the endpoint of an in-memory emulator:
// the .invalid TLD never resolves, so no client reaches a real network
// through it by mistake; 10012 is SLS's public Kafka port.
const (
	inMemoryHost = "slstest.invalid"
	inMemoryPort = 10012
)

// withDefaults returns cfg with every zero field set to its default, or an
// error for a setting that cannot work.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Project == "" {
		cfg.Project = "demo"
	}
	logstores := make(map[string]int, len(cfg.Logstores))
	for name, n := range cfg.Logstores {
		if name == "" {
			return cfg, errors.New("slstest: empty logstore name in Config.Logstores")
		}
		logstores[name] = max(n, 1)
	}
	if len(logstores) == 0 {
		logstores["app"] = 2
	}
	cfg.Logstores = logstores
	if cfg.AuthFailure != AtProduce && cfg.AuthFailure != AtSASL {
		return cfg, errors.New("slstest: Config.AuthFailure must be AtProduce or AtSASL, got " + cfg.AuthFailure.String())
	}
	if cfg.CodecRefusal != UnsupportedCompression && cfg.CodecRefusal != CorruptMessage {
		return cfg, errors.New("slstest: Config.CodecRefusal must be UnsupportedCompression or CorruptMessage, got " + cfg.CodecRefusal.String())
	}
	for _, c := range cfg.RefuseCodecs {
		if c < kgo.CodecNone || c > kgo.CodecZstd {
			return cfg, fmt.Errorf("slstest: Config.RefuseCodecs: unknown codec %d (want kgo.CodecNone, CodecGzip, CodecSnappy, CodecLz4 or CodecZstd)", c)
		}
	}
	// A copy, so that the caller changing its slice races with nothing.
	cfg.RefuseCodecs = slices.Clone(cfg.RefuseCodecs)
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID = "LTAI" + rand.Text()[:16]
	}
	if cfg.AccessKeySecret == "" {
		cfg.AccessKeySecret = rand.Text()[:26]
	}
	setDefault(&cfg.MaxBatchBytes, defaultMaxBatchBytes)
	setDefault(&cfg.MaxDecompressedBytes, defaultMaxDecompressedBytes)
	setDefault(&cfg.MaxRecords, defaultMaxRecords)
	setDefault(&cfg.MaxRequestBytes, defaultMaxRequestBytes)
	setDefault(&cfg.MaxPendingRequestBytes, defaultMaxPendingRequests)
	cfg.MaxPendingRequestBytes = max(cfg.MaxPendingRequestBytes, cfg.MaxRequestBytes)
	setDefault(&cfg.MaxConnections, defaultMaxConnections)
	setDefault(&cfg.MaxStoredBytes, defaultMaxStoredBytes)
	setDefault(&cfg.IdleTimeout, defaultIdleTimeout)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// setDefault replaces a zero or negative bound with its default.
func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
