// Package producer ships log records to Alibaba Cloud Simple Log Service
// (SLS) through its Kafka-compatible endpoint.
//
// A Producer batches records per shard, compresses them, and delivers them
// at least once over one shared franz-go client:
//
//	ep, err := endpoint.For("my-project", "cn-hangzhou", endpoint.Public)
//	if err != nil {
//		return err
//	}
//	creds, err := auth.Default() // the Alibaba Cloud credential chain
//	if err != nil {
//		return err
//	}
//	p, err := producer.New(producer.Config{Project: "my-project", Endpoint: ep, Credentials: creds})
//	if err != nil {
//		return err
//	}
//	defer func() {
//		// Deliver what is buffered within what the shutdown allows.
//		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//		defer cancel()
//		p.Close(ctx)
//	}()
//	err = p.Log(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "msg", Value: "hello"}}})
//
// [ConfigFromEnv] builds the same Config from SLS_PROJECT, SLS_ENDPOINT (or
// SLS_REGION) and the ALIBABA_CLOUD_* variables; [ConfigFromEnvContext]
// bounds its wait for the credential chain.
//
// Each record becomes one flat JSON object. By default it is sent to the
// topic "<logstore>.json", so SLS stores every key as its own field
// (Expanded); with Format: Content the object is stored as text in the field
// "content". The record's Time is the log time (__time__), which SLS keeps
// in whole seconds; the field "time" (Config.TimeField) keeps it to the
// nanosecond.
//
// # Delivery
//
// Log returns as soon as the record is encoded and queued; it fails only if
// the record is not accepted. One goroutine per Producer hands queued records
// to franz-go in the order they were accepted, so a logging goroutine waits
// neither for franz-go's partitioning nor for other loggers on its lock.
// Delivery failures are reported to Config.OnError as a [Failure] (the
// error, the logstore, and in Records how many records failed together) and
// counted in Stats. A record that was sent and never acknowledged may be
// stored: it is reported as Unconfirmed, apart from records known not to be
// stored (Stats.Unconfirmed, Stats.Failed). LogSync waits for the
// acknowledgement. Flush waits for everything accepted before it; Close
// flushes, bounded by its context, and then closes: give it a deadline that
// fits the process's shutdown (a context without one waits until every
// record is delivered or failed, which DeliveryTimeout bounds).
//
// MaxBufferedBytes bounds the memory records hold, bookkeeping included.
// Each record has its own deadline, DeliveryTimeout after Log, and fails
// with the last cause seen. Errors SLS documents as transient
// (NetworkException, KafkaStorageException) are retried RetryBackoff (1 s)
// apart until then. A refused AccessKey (ErrAuth) or a missing logstore
// (ErrLogstoreNotFound) fails fast. Every error wraps exactly one of the
// sentinel errors (ErrInvalid for invalid arguments); match with errors.Is.
//
// Under pressure the application comes first: under Block, Log waits for
// space at most MaxBlock (1 s), whatever its context, and once the buffer
// is 80% full records below WARN are refused at once (Stats.Shed) so that
// WARN and ERROR keep the rest (ShedLevel, ShedAt).
//
// # Credentials
//
// Every new connection authenticates with the provider's current credential.
// SLS speaks Kafka 2.1, which cannot re-authenticate a connection, so a
// connection is retired shortly before its credential expires (RotateBefore):
// requests in flight complete, the next one goes out on a new connection with
// the new credential. STS credentials rotate without losing or failing a
// record.
package producer
