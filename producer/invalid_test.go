package producer_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/slogsls"
	"github.com/slskafka/slskafka/producer/writersls"
	"github.com/slskafka/slskafka/producer/zapsls"
	"github.com/slskafka/slskafka/slstest"
)

// An adapter built with an invalid logstore name loses every record, and
// its callers see no error (slog, zap and io.Writer callers ignore it): the
// first refusal is one line in Config.Logger naming the logstore and the
// rule, and Stats and OnError count every one.
func TestAdapterRefusalsAreLoud(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	for _, tc := range []struct {
		name string
		log  func(p *producer.Producer, logstore string)
	}{
		{"slogsls", func(p *producer.Producer, logstore string) {
			slog.New(slogsls.New(p, logstore, nil)).Info("lost")
		}},
		{"zapsls", func(p *producer.Producer, logstore string) {
			zap.New(zapsls.NewCore(p, logstore, zapcore.InfoLevel), zap.ErrorOutput(zapcore.AddSync(discard{}))).Info("lost")
		}},
		{"writersls", func(p *producer.Producer, logstore string) {
			writersls.New(p, logstore, nil).Write([]byte(`{"level":"info","msg":"lost"}` + "\n"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			fl := newFailures()
			p := newProducer(t, s, func(c *producer.Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				c.OnError = fl.on
			})
			for range 3 {
				tc.log(p, "App-Logs")
			}
			if err := p.Flush(timeout(t, 10*time.Second)); err != nil {
				t.Fatal(err) // nothing was accepted, nothing failed
			}
			if n := strings.Count(logs.String(), "records refused: invalid logstore"); n != 1 {
				t.Errorf("%d lines about the refusal, want 1:\n%s", n, logs.String())
			}
			if !strings.Contains(logs.String(), `logstore=App-Logs`) || !strings.Contains(logs.String(), "lower-case") {
				t.Errorf("the line does not name the logstore and the rule:\n%s", logs.String())
			}
			if st := p.Stats(); st.Invalid != 3 || st.Accepted != 0 || st.Failed != 0 {
				t.Errorf("stats %+v, want 3 invalid", st)
			}
			var refused int
			for _, f := range fl.all() {
				if !errors.Is(f.Err, producer.ErrInvalid) || f.Logstore != "App-Logs" {
					t.Errorf("failure %+v", f)
				}
				refused += f.Records
			}
			if refused != 3 {
				t.Errorf("OnError told of %d refused records, want 3", refused)
			}
		})
	}
}

// Invalid UTF-8 is stored as U+FFFD, as Field documents.
func TestInvalidUTF8BecomesReplacementCharacter(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	p := newProducer(t, s, nil)
	if err := p.LogSync(timeout(t, 10*time.Second), "app", rec("k\xff", "a\xffb\xfe")); err != nil {
		t.Fatal(err)
	}
	if got := s.Logs("app")[0].Fields; got["k\uFFFD"] != "a\uFFFDb\uFFFD" {
		t.Errorf("stored %q", got)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
