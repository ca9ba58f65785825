package zapsls_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/producer/slogsls"
	"github.com/slskafka/slskafka/producer/zapsls"
)

// A logstore fed by both adapters stores the same thing for the same call:
// the same level spelling, and the same text for values both render alike,
// a named string type among them.
func TestAgreesWithSlogsls(t *testing.T) {
	s, p := setup(t)
	zl := zap.New(zapsls.NewCore(p, "app", zap.DebugLevel))
	sl := slog.New(slogsls.New(p, "app", &slogsls.Options{Level: slog.LevelDebug}))
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	errBusy := errors.New("busy")
	for _, l := range []struct {
		zap  zapcore.Level
		slog slog.Level
	}{{zap.DebugLevel, slog.LevelDebug}, {zap.InfoLevel, slog.LevelInfo}, {zap.WarnLevel, slog.LevelWarn}, {zap.ErrorLevel, slog.LevelError}} {
		zl.Log(l.zap, "zap "+l.zap.String(),
			zap.String("s", "text"), zap.Int("n", 42), zap.Bool("ok", true), zap.Duration("d", 1500*time.Millisecond),
			zap.Time("t", when), zap.NamedError("err", errBusy), zap.Any("color", color("red")), zap.Any("quoted", color(`a "b"\`)))
		sl.Log(context.Background(), l.slog, "slog "+l.zap.String(),
			"s", "text", "n", 42, "ok", true, "d", 1500*time.Millisecond,
			"t", when, "err", errBusy, "color", color("red"), "quoted", color(`a "b"\`))
	}
	logs := byMsg(t, synced(t, s, zl))
	for _, level := range []string{"debug", "info", "warn", "error"} {
		z, sg := logs["zap "+level], logs["slog "+level]
		if z == nil || sg == nil {
			t.Fatalf("%s: stored zap %v, slog %v", level, z, sg)
		}
		delete(z, "msg")
		delete(sg, "msg")
		equalFields(t, level, z, sg)
	}
	if got := logs["zap warn"]["level"]; got != "WARN" {
		t.Errorf("level stored as %q, want WARN", got)
	}
	if got := logs["zap info"]["quoted"]; got != `a "b"\` {
		t.Errorf("named string type stored as %q, want it without JSON quotes", got)
	}
}
