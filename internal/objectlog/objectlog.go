// Package objectlog is how this module's adapters hand package producer a
// record they encoded as they read it (a record.Object), a way in that the
// public API does not offer: it would tie the API to the encoding.
//
// Package producer sets Log when it is initialised, so any package that
// imports producer can call it.
package objectlog

import (
	"context"
	"log/slog"
	"time"

	"github.com/slskafka/slskafka/internal/record"
)

// Log logs obj's fields through p, a *producer.Producer, as
// producer.Producer.Log logs a Record with Time t, Level level and the
// same fields: the same checks, counts and errors. It does not keep obj.
var Log func(p any, ctx context.Context, logstore string, t time.Time, level slog.Level, obj *record.Object) error
