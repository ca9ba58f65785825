package producer

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// diagInterval is how many RetryBackoffs apart the same diagnostic is
// logged at most (10 s by default): one problem, one line, then a line with
// a count while it lasts.
const diagInterval = 10

// diag is the SDK's diagnostics logger (Config.Logger). It never ships to
// SLS through the producer that owns it (Config.Logger documents that), so a
// failing endpoint cannot feed itself more logs. Warnings about one cause
// are logged once per interval, the next with how often they repeated.
type diag struct {
	l     *slog.Logger
	every time.Duration

	mu   sync.Mutex
	seen map[string]*diagSeen
}

// diagSeen is what diag keeps of one diagnostic key: when it was last
// logged, and how often it was suppressed since.
type diagSeen struct {
	last       time.Time
	suppressed int
}

func newDiag(l *slog.Logger, every time.Duration) *diag {
	return &diag{l: l, every: every, seen: make(map[string]*diagSeen)}
}

// warn logs msg unless the same cause (key) was logged less than an
// interval ago.
func (d *diag) warn(key, msg string, args ...any) {
	if n, ok := d.allow(key); ok {
		if n > 0 {
			args = append(args, "repeated", n)
		}
		d.l.Log(context.Background(), slog.LevelWarn, "slskafka: "+msg, args...)
	}
}

// error logs msg; callers coalesce (see reporter).
func (d *diag) error(msg string, args ...any) {
	d.l.Log(context.Background(), slog.LevelError, "slskafka: "+msg, args...)
}

// allow reports whether key may be logged now, and how many times it was
// suppressed since it last was.
func (d *diag) allow(key string) (int, bool) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.seen[key]
	if s == nil {
		d.seen[key] = &diagSeen{last: now}
		return 0, true
	}
	if now.Sub(s.last) < d.every {
		s.suppressed++
		return 0, false
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return n, true
}

// kgoLogger passes franz-go's diagnostics to Config.Logger. franz-go's
// warnings, and its errors about connecting, are about causes the SDK
// reports itself, once (connect.go), so they go out at Debug; its other
// errors are rate-limited like the SDK's own, and dropped while the
// producer closes (records failing with "client closed" are reported once,
// through OnError).
type kgoLogger struct {
	kgo.Logger
	closing *atomic.Bool
	diag    *diag
}

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch {
	case level == kgo.LogLevelWarn, connectMessages[msg]:
		level = kgo.LogLevelDebug
	case level == kgo.LogLevelError:
		if l.closing.Load() {
			return
		}
		n, ok := l.diag.allow("kafka: " + msg)
		if !ok {
			return
		}
		if n > 0 {
			keyvals = append(keyvals, "repeated", strconv.Itoa(n))
		}
	}
	l.Logger.Log(level, msg, keyvals...)
}

// connectMessages are franz-go's errors about a connection attempt, which
// kgo.HookBrokerConnect reports to the SDK too.
var connectMessages = map[string]bool{
	"unable to initialize sasl":      true,
	"unable to request api versions": true,
}
