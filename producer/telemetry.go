package producer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName is the OpenTelemetry scope of the SDK's metrics and
// spans.
const instrumentationName = "github.com/slskafka/slskafka/producer"

// Metric names, following OpenTelemetry semantic-convention style. Counters
// and gauges are observed from the producer's own counters when the reader
// collects, so they cost nothing per record; the delivery histogram is
// recorded once per delivered record.
//
//	name                                     instrument           unit       attributes
//	slskafka.producer.records.accepted       counter              {record}   sls.project, sls.logstore
//	slskafka.producer.records.delivered      counter              {record}   sls.project, sls.logstore
//	slskafka.producer.records.failed         counter              {record}   sls.project, sls.logstore, error.type
//	slskafka.producer.records.dropped        counter              {record}   sls.project, sls.logstore, slskafka.drop.reason
//	slskafka.producer.buffer.usage           updowncounter        By         sls.project
//	slskafka.producer.buffer.records         updowncounter        {record}   sls.project
//	slskafka.producer.delivery.duration      histogram            s          sls.project, sls.logstore
//	slskafka.producer.credential.rotations   counter              {rotation} sls.project
//	slskafka.producer.credential.errors      counter              {error}    sls.project
//	slskafka.producer.auth.failures          counter              {failure}  sls.project
//	slskafka.producer.connections.retired    counter              {connection} sls.project
//	slskafka.producer.partition.retries      counter              {retry}    sls.project
//
// error.type is one of auth, logstore_not_found, record_too_large, closed,
// delivery_timeout, tls, other. slskafka.drop.reason is buffer_full or
// record_too_large. The Kafka client's own metrics (connections, bytes,
// batches) come from franz-go's kotel plugin under messaging.kafka.*.
const (
	MetricRecordsAccepted     = "slskafka.producer.records.accepted"
	MetricRecordsDelivered    = "slskafka.producer.records.delivered"
	MetricRecordsFailed       = "slskafka.producer.records.failed"
	MetricRecordsDropped      = "slskafka.producer.records.dropped"
	MetricBufferUsage         = "slskafka.producer.buffer.usage"
	MetricBufferRecords       = "slskafka.producer.buffer.records"
	MetricDeliveryDuration    = "slskafka.producer.delivery.duration"
	MetricCredentialRotations = "slskafka.producer.credential.rotations"
	MetricCredentialErrors    = "slskafka.producer.credential.errors"
	MetricAuthFailures        = "slskafka.producer.auth.failures"
	MetricConnectionsRetired  = "slskafka.producer.connections.retired"
	MetricPartitionRetries    = "slskafka.producer.partition.retries"
)

// logstoreState is what the producer keeps per logstore it has seen.
type logstoreState struct {
	name  string
	topic string
	attrs attribute.Set
	rec   []metric.RecordOption // attrs, prebuilt for the histogram

	// attribute sets of the dropped counter, built once
	dropBufferFull, dropTooLarge metric.ObserveOption

	// The counters sit on cache lines of their own: the promise reads the
	// fields above on every delivery, and callers' and promise's writes
	// on one line made every record move it between cores twice.
	_ [64]byte
	// Counted by Log's callers.
	accepted, acceptedBytes, bufferFull, tooLarge atomic.Int64
	_                                             [64]byte
	// Counted by the promise; finished is delivered plus failed.
	delivered, finished, finishedBytes atomic.Int64
}

// failureCounts counts failed records by logstore and kind.
type failureCounts struct {
	mu sync.Mutex
	n  map[failureKey]int64
}

func (f *failureCounts) add(logstore string, kind error) {
	f.mu.Lock()
	if f.n == nil {
		f.n = make(map[failureKey]int64)
	}
	f.n[failureKey{logstore, kind}]++
	f.mu.Unlock()
}

// errorType names a sentinel for the error.type attribute.
func errorType(kind error) string {
	switch {
	case errors.Is(kind, ErrAuth):
		return "auth"
	case errors.Is(kind, ErrLogstoreNotFound):
		return "logstore_not_found"
	case errors.Is(kind, ErrRecordTooLarge):
		return "record_too_large"
	case errors.Is(kind, ErrClosed):
		return "closed"
	case errors.Is(kind, ErrDeliveryTimeout):
		return "delivery_timeout"
	case errors.Is(kind, ErrTLS):
		return "tls"
	}
	return "other"
}

// telemetry holds the producer's OpenTelemetry instruments.
type telemetry struct {
	tracer   trace.Tracer
	project  attribute.KeyValue
	duration metric.Float64Histogram
	reg      metric.Registration
}

func (p *Producer) initTelemetry() error {
	mp, tp := p.cfg.MeterProvider, p.cfg.TracerProvider
	t := &p.tel
	t.tracer = tp.Tracer(instrumentationName)
	t.project = attribute.String("sls.project", p.cfg.Project)
	m := mp.Meter(instrumentationName)

	var errs []error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	updown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	accepted := counter(MetricRecordsAccepted, "{record}", "Records accepted by Log and LogSync.")
	delivered := counter(MetricRecordsDelivered, "{record}", "Records acknowledged by SLS.")
	failed := counter(MetricRecordsFailed, "{record}", "Accepted records that will not be delivered.")
	dropped := counter(MetricRecordsDropped, "{record}", "Records refused by Log: buffer full (Drop policy) or over MaxRecordBytes.")
	usage := updown(MetricBufferUsage, "By", "Encoded bytes accepted and not yet acknowledged or failed.")
	buffered := updown(MetricBufferRecords, "{record}", "Records accepted and not yet acknowledged or failed.")
	rotations := counter(MetricCredentialRotations, "{rotation}", "Connections that authenticated with a different credential than the previous connection.")
	credErrs := counter(MetricCredentialErrors, "{error}", "Failed credential fetches.")
	authFails := counter(MetricAuthFailures, "{failure}", "Connections whose credential SLS refused.")
	retired := counter(MetricConnectionsRetired, "{connection}", "Connections retired before their credential expired.")
	partRetries := counter(MetricPartitionRetries, "{retry}", "Retriable partition errors (NetworkException, KafkaStorageException) retried after RetryBackoff.")
	var err error
	t.duration, err = m.Float64Histogram(MetricDeliveryDuration, metric.WithUnit("s"),
		metric.WithDescription("Time from Log to acknowledgement by SLS."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}

	projectOnly := metric.WithAttributeSet(attribute.NewSet(t.project))
	t.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		p.topics.Range(func(_, v any) bool {
			ls := v.(*logstoreState)
			set := metric.WithAttributeSet(ls.attrs)
			o.ObserveInt64(accepted, ls.accepted.Load(), set)
			o.ObserveInt64(delivered, ls.delivered.Load(), set)
			o.ObserveInt64(dropped, ls.bufferFull.Load(), ls.dropBufferFull)
			o.ObserveInt64(dropped, ls.tooLarge.Load(), ls.dropTooLarge)
			return true
		})
		p.failed.mu.Lock()
		for k, n := range p.failed.n {
			o.ObserveInt64(failed, n, metric.WithAttributes(t.project, attribute.String("sls.logstore", k.logstore), attribute.String("error.type", errorType(k.kind))))
		}
		p.failed.mu.Unlock()
		s := &p.stats
		st := p.Stats()
		o.ObserveInt64(usage, st.BufferedBytes, projectOnly)
		o.ObserveInt64(buffered, st.BufferedRecords, projectOnly)
		o.ObserveInt64(rotations, s.rotations.Load(), projectOnly)
		o.ObserveInt64(credErrs, s.credentialFailures.Load(), projectOnly)
		o.ObserveInt64(authFails, s.authFailures.Load(), projectOnly)
		o.ObserveInt64(retired, s.retired.Load(), projectOnly)
		o.ObserveInt64(partRetries, s.partitionRetries.Load(), projectOnly)
		return nil
	}, accepted, delivered, failed, dropped, usage, buffered, rotations, credErrs, authFails, retired, partRetries)
	return err
}

// newLogstoreState prepares the per-logstore counters and attributes.
func (p *Producer) newLogstoreState(logstore, topic string) *logstoreState {
	ls := &logstoreState{name: logstore, topic: topic}
	ls.attrs = attribute.NewSet(p.tel.project, attribute.String("sls.logstore", logstore))
	ls.rec = []metric.RecordOption{metric.WithAttributeSet(ls.attrs)}
	drop := func(reason string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(p.tel.project, attribute.String("sls.logstore", logstore), attribute.String("slskafka.drop.reason", reason)))
	}
	ls.dropBufferFull, ls.dropTooLarge = drop("buffer_full"), drop("record_too_large")
	return ls
}

func (t *telemetry) observeDelivery(ls *logstoreState, d time.Duration) {
	t.duration.Record(context.Background(), d.Seconds(), ls.rec...)
}

// span starts a span for a producer operation (Flush, Close, Ping): they are
// rare and slow enough to be worth tracing; single records are not.
func (t *telemetry) span(ctx context.Context, name string) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithAttributes(t.project))
}
