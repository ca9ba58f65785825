package producer

import (
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/slskafka/slskafka/internal/spool"
)

// shedder decides when records give way to more important ones
// (Config.ShedLevel, Config.ShedAt): once the buffer records wait in (the
// memory budget, or the spool when there is one) is ShedAt full, records
// below ShedLevel are refused at once, and what is left is kept for those
// at or above it, as Logback's AsyncAppender keeps WARN and ERROR once its
// queue is 80% full.
type shedder struct {
	level slog.Leveler // nil: shedding is off
	at    float64
	b     *budget
	memAt int64 // b.used from which records are shed, without a spool

	sp      *spool.Spool // nil without a spool
	spoolAt int64        // spooled bytes from which records are shed
}

func newShedder(cfg Config, b *budget) shedder {
	if cfg.ShedAt < 0 {
		return shedder{}
	}
	return shedder{
		level:   cfg.ShedLevel,
		at:      cfg.ShedAt,
		b:       b,
		memAt:   int64(math.Ceil(cfg.ShedAt * float64(b.max))),
		spoolAt: int64(math.Ceil(cfg.ShedAt * float64(cfg.MaxSpoolBytes))),
	}
}

// sheds reports whether a record of level is refused now. It costs an
// atomic load while the buffer is below ShedAt.
func (s *shedder) sheds(level slog.Level) bool {
	if s.level == nil {
		return false
	}
	if s.sp == nil || s.sp.Degraded() {
		// With the disk full, records wait in memory only (spool.go):
		// memory's fill is what counts.
		return s.b.used.Load() >= s.memAt && level < s.level.Level()
	}
	// Without records waiting on disk, the spool holds what memory
	// does, in fewer bytes than memory is charged for them: it cannot be
	// ShedAt full unless memory is.
	if s.sp.Waiting() == 0 && s.b.used.Load() < s.spoolAt {
		return false
	}
	return level < s.level.Level() && s.sp.Stats().Bytes >= s.spoolAt
}

// shed refuses a record of level: counted in Stats.Shed, by level in the
// dropped-records metric, and said once per diagnostic interval.
func (p *Producer) shed(ls *logstoreState, level slog.Level) error {
	ls.shed[levelBucket(level)].Add(1)
	where := "the buffer"
	if p.spool != nil && !p.spool.degraded() {
		where = "the spool"
	}
	e := p.newError(ErrBufferFull, ls.name, &shedError{level: level, below: p.shedder.level.Level(), at: p.shedder.at, where: where}, false)
	p.diag.warn("shed", "shedding records below "+p.shedder.level.Level().String()+": "+where+" is nearly full", "logstore", ls.name, "err", e)
	return e
}

// shedError is the cause of a record shed for its level.
type shedError struct {
	level, below slog.Level
	at           float64
	where        string
}

func (e *shedError) Error() string {
	return fmt.Sprintf("shed: %s is at least %.0f%% full (ShedAt) and the record's level %s is below %s (ShedLevel), which keep the rest",
		e.where, e.at*100, e.level, e.below)
}

// IsShed reports whether err refused a record by level-aware shedding
// (Config.ShedLevel): the record wraps ErrBufferFull, and there was still
// room for records at or above ShedLevel.
func IsShed(err error) bool {
	var se *shedError
	return errors.As(err, &se)
}

// levelBuckets name the ranges of levels that shed records are counted in
// (the slskafka.level attribute): below Info, below Warn, below Error, and
// the rest.
var levelBuckets = [...]string{"debug", "info", "warn", "error"}

func levelBucket(l slog.Level) int {
	switch {
	case l < slog.LevelInfo:
		return 0
	case l < slog.LevelWarn:
		return 1
	case l < slog.LevelError:
		return 2
	}
	return 3
}
