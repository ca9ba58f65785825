package producer

import "context"

// noWaitKey is the context key NoWait sets.
type noWaitKey struct{}

// NoWait returns a context with which Log and LogSync do not wait for
// buffer or spool space: a record that finds none is refused at once with
// an error wrapping ErrBufferFull and counted in Stats.Dropped, as under
// the Drop policy, whatever Config.OnBufferFull says. Adapters use it for
// the rest of a batch once one record was refused after waiting
// MaxBlock, so that every record they give up on is offered, and counted,
// without the batch waiting MaxBlock per record.
func NoWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, noWaitKey{}, true)
}

// noWait reports whether ctx came from NoWait.
func noWait(ctx context.Context) bool {
	v, _ := ctx.Value(noWaitKey{}).(bool)
	return v
}
