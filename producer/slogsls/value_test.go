package slogsls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"testing"
	"time"
)

type color string

type secret string

func (secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

type point struct{ X, Y int }

func (p point) LogValue() slog.Value { return slog.GroupValue(slog.Int("x", p.X), slog.Int("y", p.Y)) }

type plain struct{ X, Y int }

type valueErr struct{ msg string }

func (e valueErr) Error() string { return e.msg } // panics through a nil *valueErr

// nilSafeErr is an error whose method handles a nil receiver.
type nilSafeErr struct{}

func (e *nilSafeErr) Error() string {
	if e == nil {
		return "no error details"
	}
	return "details"
}

type panicErr struct{}

func (*panicErr) Error() string { panic("boom") }

type badJSON struct{ N int }

func (badJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("no JSON") }

// hidden fails to marshal and has fields JSON never shows.
type hidden struct {
	DSN      string
	Password string `json:"-"`
	password string
	Dial     func()
}

// jsonError is what a value encoding/json refuses is stored as.
func jsonError(v any) string {
	_, err := json.Marshal(v)
	return "!ERROR:" + err.Error()
}

type badText struct{ N int }

func (badText) MarshalText() ([]byte, error) { return nil, errors.New("no text") }

func TestValues(t *testing.T) {
	e := newSLS(t, nil)
	when := time.Date(2024, 5, 1, 12, 0, 0, 5, time.UTC)
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"string", "a \"quoted\"\nline", "a \"quoted\"\nline"},
		{"empty-string", "", ""},
		{"int", -42, "-42"},
		{"uint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"float", 1.5, "1.5"},
		{"float-large", 1e21, "1e+21"},
		{"bool", true, "true"},
		{"duration", 1500 * time.Millisecond, "1.5s"},
		{"duration-zero", time.Duration(0), "0s"},
		{"time", when, "2024-05-01T12:00:00.000000005Z"},
		{"error", fmt.Errorf("open config: %w", errors.New("permission denied")), "open config: permission denied"},
		{"nil", nil, "null"},
		{"typed-nil-error", (*nilSafeErr)(nil), "no error details"}, // not null: a non-nil error
		{"nil-pointer-error", (*valueErr)(nil), "null"},
		{"panicking-error", &panicErr{}, "!PANIC: boom"},
		{"bytes", []byte("raw text"), "raw text"},
		{"bytes-invalid-utf8", []byte{'a', 0xff, 'b'}, "a\ufffdb"},
		{"LogValuer", secret("hunter2"), "REDACTED"},
		{"level", slog.LevelWarn, "WARN"},
		{"TextMarshaler", netip.MustParseAddr("10.0.0.1"), "10.0.0.1"},
		{"TextMarshaler-error", badText{N: 3}, jsonError(badText{N: 3})}, // encoding/json calls MarshalText too
		{"struct", struct {
			A int
			B string `json:"b"`
		}{1, "<x&y>"}, `{"A":1,"b":"<x&y>"}`},
		{"map", map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		{"slice", []int{1, 2}, `[1,2]`},
		{"string-type", color("red"), "red"},
		{"string-type-unescaped", color("héllo <wörld> & 日本"), "héllo <wörld> & 日本"},
		{"string-type-escaped", color("say \"hi\"\\\n\x01\u2028"), "say \"hi\"\\\n\x01\u2028"},
		{"string-type-invalid-utf8", color("a\xffb"), "a\ufffdb"},
		{"pointer", &plain{1, 2}, `{"X":1,"Y":2}`},
		{"json-error", badJSON{N: 7}, jsonError(badJSON{N: 7})},
		// JSON fails on the func field; what JSON leaves out stays out.
		{"json-error-hidden-fields", hidden{DSN: "db:5432", Password: "pAsSwOrD", password: "pAsSwOrD"}, jsonError(hidden{})},
	}
	var attrs []slog.Attr
	want := map[string]string{"level": "INFO", "msg": "values"}
	for _, c := range cases {
		attrs = append(attrs, slog.Any(c.name, c.v))
		want[c.name] = c.want
	}
	// A LogValuer that resolves to a group is flattened like a group.
	attrs = append(attrs, slog.Any("point", point{3, 4}))
	want["point.x"], want["point.y"] = "3", "4"

	slog.New(New(e.p, "app", nil)).LogAttrs(context.Background(), slog.LevelInfo, "values", attrs...)
	got := e.one(t).Fields
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: stored %q (present %v), want %q", k, g, ok, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s=%q", k, got[k])
		}
	}
}
