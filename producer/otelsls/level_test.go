package otelsls_test

import (
	"context"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// The exporter maps OpenTelemetry severities onto slog's levels for the
// producer (level = severity - 9, as the slog bridge maps them the other
// way; none is INFO): with shedding on from the first byte buffered,
// records below ShedLevel are shed, the others accepted, and a shed record
// does not stop the batch.
func TestLevelReachesProducer(t *testing.T) {
	sevs := []otellog.Severity{otellog.SeverityTrace1, otellog.SeverityDebug4, 0, otellog.SeverityInfo, otellog.SeverityWarn, otellog.SeverityError, otellog.SeverityFatal}
	for _, tc := range []struct {
		shedLevel slog.Level
		shed      int64
	}{{slog.LevelWarn, 4}, {slog.LevelInfo, 2}, {slog.LevelError + 4, 6}, {slog.LevelDebug - 4, 0}} {
		t.Run(tc.shedLevel.String(), func(t *testing.T) {
			_, p := newProducer(t, slstest.Config{}, func(c *producer.Config) { c.ShedAt = 1e-9; c.ShedLevel = tc.shedLevel })
			exp := newExporter(t, p, nil)
			batch := make([]sdklog.Record, 1, 1+len(sevs))
			batch[0].SetSeverity(otellog.SeverityFatal4) // charges the buffer: shedding starts
			for _, sev := range sevs {
				var r sdklog.Record
				r.SetSeverity(sev)
				r.SetBody(attribute.StringValue("m"))
				batch = append(batch, r)
			}
			for i := range batch {
				if err := exp.Export(context.Background(), batch[i:i+1]); (err != nil) != (i > 0 && i <= int(tc.shed)) {
					t.Errorf("record %d (severity %v): %v", i, batch[i].Severity(), err)
				}
			}
			if err := exp.Export(context.Background(), batch[1:]); tc.shed > 0 && err == nil {
				t.Error("a batch with records to shed: no error")
			}
			if st := p.Stats(); st.Shed != 2*tc.shed || st.Accepted != int64(1+2*(len(sevs)-int(tc.shed))) {
				t.Errorf("ShedLevel %v: stats %+v, want %d shed", tc.shedLevel, st, 2*tc.shed)
			}
		})
	}
}
