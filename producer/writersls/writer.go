package writersls

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/slskafka/slskafka/producer"
)

// Default keys.
const (
	// DefaultLevelKey is the key whose value is read as the line's level;
	// zerolog and logrus both write "level".
	DefaultLevelKey = "level"
	// ContentKey is the field that holds a line that is not a JSON object.
	ContentKey = "content"
)

// Options configure a Writer. The zero value (or nil) reads the level from
// "level" and holds an unterminated line up to producer.DefaultMaxRecordBytes.
type Options struct {
	// LevelKey is the top-level key whose string value sets the record's
	// Level (producer.Record.Level); see the package documentation for the
	// names understood. The field itself is stored too. Default
	// DefaultLevelKey.
	LevelKey string

	// MaxLineBytes bounds the unterminated line a Writer holds between
	// Write calls: once it grows past this, what is held is shipped as a
	// record of its own, and the rest of the line as another. Default
	// producer.DefaultMaxRecordBytes, the largest record a producer accepts
	// by default.
	MaxLineBytes int

	// OnError is called with every error the producer returns from Log
	// (ErrClosed, ErrBufferFull, ErrRecordTooLarge, ...): lines that were
	// not accepted and are lost. It is called on the goroutine that wrote,
	// after the line was refused; it must not write to this Writer.
	// Whether OnError is set or not, refusals are counted (Refused).
	OnError func(error)
}

// Writer is an io.Writer that ships every line written to it as one record
// to an SLS logstore through a producer. It is safe for concurrent use, and
// a Write of whole lines (all that zerolog, logrus and log write) takes no
// lock. An unterminated line is joined with whatever Write comes next, so a
// line written in pieces must be written by one goroutine at a time, as
// with any shared io.Writer.
type Writer struct {
	p        *producer.Producer
	logstore string
	opts     Options
	refused  atomic.Int64

	// held says whether partial holds an unterminated line, so that a
	// Write of whole lines need not lock mu to find out. A logger that
	// writes a line in pieces does so from one goroutine, which sees its
	// own Store.
	held    atomic.Bool
	mu      sync.Mutex
	partial []byte // the unterminated line, guarded by mu
}

// New returns a writer that ships lines to logstore through p. opts may be
// nil. Closing p is the caller's job, and it is what delivers the records
// still buffered.
func New(p *producer.Producer, logstore string, opts *Options) *Writer {
	w := &Writer{p: p, logstore: logstore}
	if opts != nil {
		w.opts = *opts
	}
	if w.opts.LevelKey == "" {
		w.opts.LevelKey = DefaultLevelKey
	}
	if w.opts.MaxLineBytes <= 0 {
		w.opts.MaxLineBytes = producer.DefaultMaxRecordBytes
	}
	return w
}

// Refused returns how many lines the producer refused.
func (w *Writer) Refused() int64 { return w.refused.Load() }

// Write ships every complete line of b, and holds an unterminated last
// line until a later Write completes it (or Flush ships it). A line the
// producer refuses is counted (Refused) and passed to Options.OnError, and
// Write still reports it written: a logger's output must not fail the
// program that logs. Once a line is refused for want of space (the
// producer waited its Config.MaxBlock), the rest of the Write's lines are
// refused with the same error, so one Write waits at most MaxBlock. Write returns an error only when the producer can
// accept nothing any more: it is closed (the error wraps
// producer.ErrClosed) or nil. n is then the length of b before the first
// line refused for that reason.
func (w *Writer) Write(b []byte) (n int, err error) {
	if len(b) > 0 && b[len(b)-1] == '\n' && !w.held.Load() {
		var wr write
		return w.lines(b, 0, &wr)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n = len(b)
	off := 0
	var wr write
	if len(w.partial) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return w.hold(b, 0, &wr)
		}
		w.partial = append(w.partial, b[:i]...)
		err = w.ship(w.partial, &wr)
		if err != nil {
			n = 0
		}
		w.release()
		off = i + 1
	}
	last := bytes.LastIndexByte(b[off:], '\n') + off + 1 // off when there is none
	if m, lerr := w.lines(b[off:last], off, &wr); lerr != nil && err == nil {
		n, err = m, lerr
	}
	if last < len(b) {
		if m, herr := w.hold(b[last:], last, &wr); herr != nil && err == nil {
			n, err = m, herr
		}
	}
	return n, err
}

// Flush ships the unterminated line held since the last newline, if any.
// It does not wait for delivery: producer.Producer.Flush does. It returns
// an error only as Write does.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) == 0 {
		return nil
	}
	var wr write
	err := w.ship(w.partial, &wr)
	w.release()
	return err
}

// hold appends b, the start of a line, to partial (mu held), shipping what
// is held once it is longer than MaxLineBytes. off is b's offset in what
// was written, for Write's n.
func (w *Writer) hold(b []byte, off int, wr *write) (int, error) {
	w.partial = append(w.partial, b...)
	w.held.Store(true)
	if len(w.partial) <= w.opts.MaxLineBytes {
		return off + len(b), nil
	}
	err := w.ship(w.partial, wr)
	w.release()
	if err != nil {
		return off, err
	}
	return off + len(b), nil
}

// release empties partial (mu held), keeping its array unless it grew
// larger than lines usually are.
func (w *Writer) release() {
	if cap(w.partial) > 64<<10 {
		w.partial = nil
	} else {
		w.partial = w.partial[:0]
	}
	w.held.Store(false)
}

// lines ships every line of b, which is empty or ends with a newline. off
// is b's offset in what was written, for Write's n.
func (w *Writer) lines(b []byte, off int, wr *write) (n int, err error) {
	n = off + len(b)
	for start := 0; start < len(b); {
		end := bytes.IndexByte(b[start:], '\n') + start
		if serr := w.ship(b[start:end], wr); serr != nil && err == nil {
			n, err = off+start, serr
		}
		start = end + 1
	}
	return n, err
}

// write is what one Write learned: once the producer refused a line for
// want of space (after waiting its MaxBlock), the rest of the Write's
// lines are offered without waiting (producer.NoWait), so that a Write of
// many lines waits at most MaxBlock and the producer counts every line it
// cannot take in Stats.Dropped.
type write struct{ full bool }

// noWait is the context of the lines of a Write after one was refused for
// want of space.
var noWait = producer.NoWait(context.Background())

// ship renders one line (without its newline) and hands it to the
// producer. It returns the producer's error only if the producer accepts
// nothing any more (it is closed, or nil).
func (w *Writer) ship(line []byte, wr *write) error {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil // a blank line carries no field to store
	}
	// Its context is not the caller's: io.Writer has none.
	ctx := context.Background()
	if wr.full {
		ctx = noWait
	}
	s := getState()
	level := s.render(line, w.opts.LevelKey)
	// Log encodes the fields before it returns and keeps none of them, so
	// they may point into line and the state until putState.
	err := w.p.Log(ctx, w.logstore, producer.Record{Level: level, Fields: s.Fields})
	putState(s)
	if err == nil {
		return nil
	}
	if errors.Is(err, producer.ErrBufferFull) && !producer.IsShed(err) {
		wr.full = true
	}
	w.refused.Add(1)
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
	if w.p == nil || errors.Is(err, producer.ErrClosed) {
		return err
	}
	return nil
}

// str returns b as a string that aliases it.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
