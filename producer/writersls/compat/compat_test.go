package compat

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/sirupsen/logrus"
	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/writersls"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stored flushes p and returns the n logs s stored in "app", as
// "key=value" lines with sorted keys, leaving out the keys in skip.
func stored(t *testing.T, s *slstest.Server, p *producer.Producer, n int, skip ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	logs, err := s.WaitLogs(ctx, "app", n)
	if err != nil || len(logs) != n {
		t.Fatalf("stored %d logs, want %d (%v)", len(logs), n, err)
	}
	var out []string
	for _, l := range logs {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
			if !slices.Contains(skip, k) {
				kv = append(kv, k+"="+l.Fields[k])
			}
		}
		out = append(out, strings.Join(kv, " "))
	}
	return out
}

func equal(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("stored\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
}

func TestZerolog(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := testproducer.New(t, s)
	w := writersls.New(p, "app", nil)

	zerolog.TimeFieldFormat = time.RFC3339Nano
	log := zerolog.New(w).With().Timestamp().Str("service", "shop").Logger()
	log.Info().Str("method", "GET").Int("status", 200).Msg("served")
	log.Warn().Dict("req", zerolog.Dict().Str("path", "/a?b=1&c=2").Int("ms", 84)).Msg("slow \"request\"")
	log.Error().Err(errors.New("lock wait timeout")).Ints("ids", []int{1, 2}).Send()
	log.Debug().Msg("debug")
	log.Trace().Msg("trace")
	log.Log().Msg("no level")

	got := stored(t, s, p, 6, "time")
	equal(t, got,
		"level=info message=served method=GET service=shop status=200",
		`level=warn message=slow "request" req.ms=84 req.path=/a?b=1&c=2 service=shop`,
		"error=lock wait timeout ids=[1,2] level=error service=shop",
		"level=debug message=debug service=shop",
		"level=trace message=trace service=shop",
		"message=no level service=shop",
	)
	// zerolog's time is a field like any other.
	for _, l := range s.Logs("app") {
		if _, err := time.Parse(time.RFC3339Nano, l.Fields["time"]); err != nil {
			t.Errorf("time field %q: %v", l.Fields["time"], err)
		}
	}
	if w.Refused() != 0 {
		t.Errorf("Refused = %d", w.Refused())
	}
}

// zerolog reports a Write error to its ErrorHandler; writersls returns one
// only once the producer is closed.
func TestZerologAfterClose(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := testproducer.New(t, s)
	w := writersls.New(p, "app", nil)
	var reported error
	old := zerolog.ErrorHandler
	zerolog.ErrorHandler = func(err error) { reported = err }
	defer func() { zerolog.ErrorHandler = old }()
	log := zerolog.New(w)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("late")
	if !errors.Is(reported, producer.ErrClosed) || w.Refused() != 1 {
		t.Errorf("ErrorHandler got %v, Refused = %d", reported, w.Refused())
	}
}

func TestLogrus(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := testproducer.New(t, s)
	w := writersls.New(p, "app", nil)

	// JSON: fields stay fields.
	log := logrus.New()
	log.SetOutput(w)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.TraceLevel)
	log.WithFields(logrus.Fields{"user": "ann", "url": "/a?b=1&c=<2>"}).Warn("slow")
	log.WithError(errors.New("boom")).Error("failed")
	log.Trace("trace")
	// The default text formatter: the line is the content.
	text := logrus.New()
	text.SetOutput(w)
	text.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	text.Info("plain")

	got := stored(t, s, p, 4, "time")
	equal(t, got,
		"level=warning msg=slow url=/a?b=1&c=<2> user=ann",
		"error=boom level=error msg=failed",
		"level=trace msg=trace",
		"content=level=info msg=plain",
	)
}

// The benchmarks compare zerolog writing to io.Discard with zerolog writing
// to writersls: on a nil producer, which refuses at once (what the Writer
// itself costs: splitting, validating and flattening the line), and on a
// producer that ships to the in-process emulator (the emulator's work is
// in the figure too). Run them together and compare the ratios:
//
//	go test -run '^$' -bench 'Zerolog' -benchtime 20000x -count 3
func BenchmarkZerolog(b *testing.B) {
	old := zerolog.ErrorHandler
	zerolog.ErrorHandler = func(error) {} // the nil producer's refusals
	defer func() { zerolog.ErrorHandler = old }()
	s := slstest.New(b, slstest.Config{Logstores: map[string]int{"app": 1}})
	p := testproducer.New(b, s)
	for _, c := range []struct {
		name string
		w    io.Writer
	}{
		{"discard", io.Discard},
		{"writersls-render", writersls.New(nil, "app", nil)},
		{"writersls-emulator", writersls.New(p, "app", nil)},
	} {
		b.Run(c.name, func(b *testing.B) {
			log := zerolog.New(c.w).With().Str("service", "shop").Logger()
			b.ReportAllocs()
			for b.Loop() {
				log.Info().Str("method", "GET").Str("path", "/api/orders").Int("status", 200).
					Dict("req", zerolog.Dict().Int("ms", 84)).Msg("served")
			}
		})
	}
	if err := p.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}
