// Package slskafka is the Go SDK that ships an application's logs to Alibaba
// Cloud Simple Log Service (SLS) through SLS's Kafka-compatible endpoint.
//
// The happy path, with credentials from the Alibaba Cloud default chain
// (environment, RRSA/OIDC, CLI profile, ECS RAM role):
//
//	creds, err := auth.Default()
//	if err != nil { log.Fatal(err) }
//	ep, err := endpoint.FromSLS("my-project", "cn-hangzhou.log.aliyuncs.com")
//	if err != nil { log.Fatal(err) }
//	p, err := producer.New(producer.Config{Project: "my-project", Endpoint: ep, Credentials: creds})
//	if err != nil { log.Fatal(err) }
//	defer func() { // deliver what is buffered, within the shutdown's grace period
//		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//		defer cancel()
//		p.Close(ctx)
//	}()
//
//	logger := slog.New(slogsls.New(p, "app-logs", nil))
//	logger.Info("order placed", "order_id", 1234, "amount", 99.5)
//
// producer.ConfigFromEnv builds the same Config from SLS_PROJECT,
// SLS_ENDPOINT (or SLS_REGION) and the ALIBABA_CLOUD_* variables.
//
// Packages:
//
//   - [github.com/slskafka/slskafka/endpoint]: the Kafka endpoint of a
//     project (public or intranet), from a region or an SLS endpoint;
//     project and logstore name rules.
//   - [github.com/slskafka/slskafka/auth]: AccessKey and STS credentials,
//     the Alibaba Cloud credential chain, caching that refreshes before
//     expiry, redaction everywhere.
//   - [github.com/slskafka/slskafka/producer]: the batched, asynchronous
//     producer: typed errors, retries SLS asks for, credential rotation
//     without losing records, OpenTelemetry metrics, an optional disk
//     spool (Config.SpoolDir) that outlives crashes and long outages.
//   - [github.com/slskafka/slskafka/producer/slogsls]: a log/slog handler
//     that ships to SLS.
//   - [github.com/slskafka/slskafka/producer/zapsls]: a zapcore.Core that
//     ships to SLS.
//   - [github.com/slskafka/slskafka/producer/writersls]: an io.Writer that
//     ships each line, for zerolog, logrus and the standard library's log;
//     JSON lines become fields.
//   - github.com/slskafka/slskafka/producer/otelsls (a module of its own): an
//     OpenTelemetry Logs SDK exporter, for the OpenTelemetry log bridges.
//   - [github.com/slskafka/slskafka/slstest]: an in-process SLS Kafka
//     endpoint emulator for tests; cmd/sls-emulator runs it as a process.
//
// Runnable templates live in examples/: quickstart, slog, zap, zerolog
// (zerolog and logrus), sts, otel, http, otellog, spool (the disk spool
// through an outage and a restart). Each runs against the embedded emulator
// when SLS_PROJECT is unset.
package slskafka
