package producer

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/endpoint"
)

// Ping checks that the endpoint is reachable, the credential is accepted and
// the logstore exists. It returns an *Error wrapping ErrUnreachable,
// ErrAuth, ErrTLS or ErrLogstoreNotFound with a hint; ErrInvalid for an
// invalid logstore name or a context done before the call. A connection failure
// that retrying will not mend (an unresolvable host, a refused connection, a
// refused credential) ends it at once, not when ctx ends.
func (p *Producer) Ping(ctx context.Context, logstore string) error {
	if p == nil {
		return errNilProducer
	}
	if ctx == nil {
		return errNilContext
	}
	if err := ctx.Err(); err != nil {
		// Not the endpoint's fault: Ping never began.
		return p.newError(ErrInvalid, logstore, &doneError{err}, false)
	}
	if p.life.closed.Load() {
		return p.newError(ErrClosed, logstore, nil, false)
	}
	if err := endpoint.ValidateLogstore(logstore); err != nil {
		return p.newError(ErrInvalid, logstore, err, false)
	}
	ctx, span := p.tel.span(ctx, "slskafka.ping")
	defer span.End()
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := p.conn.watch(func(kind, err error) {
		switch kind {
		case ErrUnreachable, ErrAuth, ErrTLS:
			cancel(err)
		}
	})
	defer stop()

	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(logstore)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(pctx, p.cl)
	if err != nil {
		if ctx.Err() == nil {
			if cause := context.Cause(pctx); cause != nil {
				err = cause // what ended the ping early
			}
		}
		kind := classify(err)
		if ctx.Err() != nil {
			// No verdict before ctx ended: say what the last attempt
			// met, if anything.
			last := p.conn.lastError()
			kind = ErrUnreachable
			if k := classify(last); last != nil && (k == ErrAuth || k == ErrTLS) {
				kind = k
			}
			err = &pingTimeout{ctx: ctx.Err(), endpoint: p.cfg.Endpoint.String(), last: last}
		}
		return p.newError(kind, logstore, err, false)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			kind := classify(err)
			if kind == ErrAuth {
				p.authRefused(err)
			}
			return p.newError(kind, logstore, err, false)
		}
	}
	return nil
}

// pingTimeout is the cause of a Ping whose context ended without an answer.
type pingTimeout struct {
	ctx      error
	endpoint string
	last     error
}

func (e *pingTimeout) Error() string {
	msg := "no answer from " + e.endpoint + " before the context ended (" + e.ctx.Error() + ")"
	if e.last != nil {
		msg += "; last error: " + e.last.Error()
	}
	return msg
}

func (e *pingTimeout) Unwrap() []error {
	if e.last != nil {
		return []error{e.ctx, e.last}
	}
	return []error{e.ctx}
}
