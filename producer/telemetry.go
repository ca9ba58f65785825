package producer

import (
	"context"
	"errors"
	"sync"
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
//	slskafka.producer.records.failed         counter              {record}   sls.project, sls.logstore, error.type, slskafka.unconfirmed
//	slskafka.producer.records.dropped        counter              {record}   sls.project, sls.logstore, slskafka.drop.reason, slskafka.level (shed)
//	slskafka.producer.buffer.usage           updowncounter        By         sls.project
//	slskafka.producer.buffer.records         updowncounter        {record}   sls.project
//	slskafka.producer.delivery.duration      histogram            s          sls.project, sls.logstore
//	slskafka.producer.credential.rotations   counter              {rotation} sls.project
//	slskafka.producer.credential.errors      counter              {error}    sls.project
//	slskafka.producer.auth.failures          counter              {failure}  sls.project
//	slskafka.producer.connections.retired    counter              {connection} sls.project
//	slskafka.producer.partition.retries      counter              {retry}    sls.project
//	slskafka.producer.spool.records          updowncounter        {record}   sls.project
//	slskafka.producer.spool.usage            updowncounter        By         sls.project
//	slskafka.producer.spool.degraded         gauge                1          sls.project
//	slskafka.producer.spool.lost             counter              {record}   sls.project
//
// error.type is one of auth, logstore_not_found, record_too_large, closed,
// delivery_timeout, tls, unreachable, rejected. slskafka.unconfirmed is true
// for records sent and never acknowledged, which SLS may have stored
// (Stats.Unconfirmed), false for records known not to be stored
// (Stats.Failed). slskafka.drop.reason is buffer_full, record_too_large
// or shed (Stats.Shed: refused for its level, Config.ShedLevel); shed
// records also carry slskafka.level, the range of slog levels the record
// was in: debug (below INFO), info, warn or error (ERROR and above). The Kafka client's own metrics (connections, bytes,
// batches) come from franz-go's kotel plugin under messaging.kafka.*, when
// its hooks are added (Config.Hooks).
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
	MetricSpoolRecords        = "slskafka.producer.spool.records"
	MetricSpoolUsage          = "slskafka.producer.spool.usage"
	MetricSpoolDegraded       = "slskafka.producer.spool.degraded"
	MetricSpoolLost           = "slskafka.producer.spool.lost"
)

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
	case errors.Is(kind, ErrUnreachable):
		return "unreachable"
	case errors.Is(kind, ErrRejected):
		return "rejected"
	case errors.Is(kind, ErrInvalid):
		return "invalid"
	}
	return "other"
}

// telemetry holds the producer's OpenTelemetry instruments.
type telemetry struct {
	tracer   trace.Tracer
	project  attribute.KeyValue
	duration metric.Float64Histogram
	reg      metric.Registration
	// unregister runs once, from the first collection after Close: that
	// collection reports the final counts, later ones nothing, so a closed
	// producer is neither kept alive by the provider nor reported next to
	// the one that replaced it.
	unregister sync.Once
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
	dropped := counter(MetricRecordsDropped, "{record}", "Records refused by Log: no buffer space, shed for their level, or over MaxRecordBytes.")
	usage := updown(MetricBufferUsage, "By", "Encoded bytes accepted and not yet acknowledged or failed.")
	buffered := updown(MetricBufferRecords, "{record}", "Records accepted and not yet acknowledged or failed.")
	rotations := counter(MetricCredentialRotations, "{rotation}", "Connections that authenticated with a different credential than the previous connection.")
	credErrs := counter(MetricCredentialErrors, "{error}", "Failed credential fetches.")
	authFails := counter(MetricAuthFailures, "{failure}", "Connections whose credential SLS refused.")
	retired := counter(MetricConnectionsRetired, "{connection}", "Connections retired before their credential expired.")
	partRetries := counter(MetricPartitionRetries, "{retry}", "Retriable partition errors (NetworkException, KafkaStorageException) retried after RetryBackoff.")
	spoolRecords := updown(MetricSpoolRecords, "{record}", "Records in the disk spool not yet acknowledged (with Config.SpoolDir).")
	spoolUsage := updown(MetricSpoolUsage, "By", "Bytes the records in the disk spool take (with Config.SpoolDir).")
	spoolDegraded, err := m.Int64ObservableGauge(MetricSpoolDegraded, metric.WithUnit("1"),
		metric.WithDescription("1 while the disk spool's disk has no room and records are kept in memory only, else 0 (with Config.SpoolDir)."))
	errs = append(errs, err)
	spoolLost := counter(MetricSpoolLost, "{record}", "Records New found lost to damage in the disk spool (with Config.SpoolDir).")
	t.duration, err = m.Float64Histogram(MetricDeliveryDuration, metric.WithUnit("s"),
		metric.WithDescription("Time from Log to acknowledgement by SLS."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}

	projectOnly := metric.WithAttributeSet(attribute.NewSet(t.project))
	t.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		a := &p.acct
		a.each(func(ls *logstoreState) {
			set := metric.WithAttributeSet(ls.attrs)
			o.ObserveInt64(accepted, ls.accepted.Load(), set)
			o.ObserveInt64(delivered, ls.delivered.Load(), set)
			o.ObserveInt64(dropped, ls.bufferFull.Load(), ls.observe(dropReason, "buffer_full"))
			o.ObserveInt64(dropped, ls.tooLarge.Load(), ls.observe(dropReason, "record_too_large"))
			for i, level := range levelBuckets {
				if n := ls.shed[i].Load(); n > 0 {
					o.ObserveInt64(dropped, n, ls.observe(dropReason, "shed", levelAttr, level))
				}
			}
			for k, kind := range kinds {
				for u, unconfirmed := range []bool{false, true} {
					if n := ls.failures[k][u].Load(); n > 0 {
						o.ObserveInt64(failed, n, metric.WithAttributes(t.project,
							attribute.String("sls.logstore", ls.name),
							attribute.String("error.type", errorType(kind)),
							attribute.Bool("slskafka.unconfirmed", unconfirmed)))
					}
				}
			}
		})
		st := p.Stats()
		o.ObserveInt64(usage, st.BufferedBytes, projectOnly)
		o.ObserveInt64(buffered, st.BufferedRecords, projectOnly)
		o.ObserveInt64(rotations, a.rotations.Load(), projectOnly)
		o.ObserveInt64(credErrs, a.credentialFailures.Load(), projectOnly)
		o.ObserveInt64(authFails, a.authFailures.Load(), projectOnly)
		o.ObserveInt64(retired, a.retired.Load(), projectOnly)
		o.ObserveInt64(partRetries, a.partitionRetries.Load(), projectOnly)
		if p.spool != nil {
			o.ObserveInt64(spoolRecords, st.SpooledRecords, projectOnly)
			o.ObserveInt64(spoolUsage, st.SpooledBytes, projectOnly)
			var degraded int64
			if st.SpoolDegraded {
				degraded = 1
			}
			o.ObserveInt64(spoolDegraded, degraded, projectOnly)
			o.ObserveInt64(spoolLost, st.SpoolLost, projectOnly)
		}
		select {
		case <-p.life.done:
			// Not here: the SDK holds the lock Unregister takes while it
			// runs callbacks.
			t.unregister.Do(func() { go t.reg.Unregister() })
		default:
		}
		return nil
	}, accepted, delivered, failed, dropped, usage, buffered, rotations, credErrs, authFails, retired, partRetries, spoolRecords, spoolUsage, spoolDegraded, spoolLost)
	return err
}

const (
	dropReason = "slskafka.drop.reason"
	levelAttr  = "slskafka.level"
)

// observe returns the attributes of one of the logstore's counters with
// more attributes, given as key, value pairs.
func (ls *logstoreState) observe(kv ...string) metric.ObserveOption {
	kvs := ls.attrs.ToSlice()
	for i := 0; i+1 < len(kv); i += 2 {
		kvs = append(kvs, attribute.String(kv[i], kv[i+1]))
	}
	return metric.WithAttributes(kvs...)
}

func (t *telemetry) observeDelivery(ls *logstoreState, d time.Duration) {
	t.duration.Record(context.Background(), d.Seconds(), ls.rec...)
}

// span starts a span for a producer operation (Flush, Close, Ping): they are
// rare and slow enough to be worth tracing; single records are not.
func (t *telemetry) span(ctx context.Context, name string) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithAttributes(t.project))
}
