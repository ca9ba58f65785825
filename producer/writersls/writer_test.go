package writersls

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sls is an emulator with one single-shard logstore "app" (so stored order
// is written order) and a producer connected to it.
type sls struct {
	s      *slstest.Server
	p      *producer.Producer
	stored int
}

func newSLS(t testing.TB, mutate func(*producer.Config)) *sls {
	t.Helper()
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	return &sls{s: s, p: testproducer.New(t, s, mutate)}
}

// next flushes the producer and returns the n logs stored since the last
// call, as "key=value" lines with sorted keys; it fails the test if there
// are more or fewer.
func (e *sls) next(t testing.TB, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	logs, err := e.s.WaitLogs(ctx, "app", e.stored+n)
	if err != nil || len(logs) != e.stored+n {
		t.Fatalf("stored %d logs, want %d (%v)", len(logs)-e.stored, n, err)
	}
	var out []string
	for _, l := range logs[e.stored:] {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
			kv = append(kv, k+"="+l.Fields[k])
		}
		out = append(out, strings.Join(kv, " "))
	}
	e.stored += n
	return out
}

func equal(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("stored\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
}

func TestLines(t *testing.T) {
	e := newSLS(t, nil)
	w := New(e.p, "app", nil)
	write := func(s string) {
		t.Helper()
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}

	// Several lines in one Write, a JSON object and text, CRLF, blank lines.
	write("{\"level\":\"error\",\"req\":{\"id\":7},\"message\":\"boom\"}\nplain text\r\n\n  \n")
	equal(t, e.next(t, 2), "level=error message=boom req.id=7", "content=plain text")

	// A line in pieces is joined, in any split; text after the last
	// newline waits.
	write(`{"a":`)
	write(`1,"b":`)
	write("\"x\"}\nsecond ")
	write("line\nthird")
	equal(t, e.next(t, 2), "a=1 b=x", "content=second line")
	write(" line\n")
	equal(t, e.next(t, 1), "content=third line")

	// Flush ships the unterminated line.
	write("no newline")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	equal(t, e.next(t, 1), "content=no newline")
	if err := w.Flush(); err != nil { // nothing held
		t.Fatal(err)
	}
	e.next(t, 0)
}

// The standard library's log writes one Write per line, with the line's
// newline.
func TestStdlibLog(t *testing.T) {
	e := newSLS(t, nil)
	l := log.New(New(e.p, "app", nil), "shop: ", log.Lmsgprefix)
	l.Printf("served %d requests", 3)
	l.Print("multi\nline")
	equal(t, e.next(t, 3), "content=shop: served 3 requests", "content=shop: multi", "content=line")
}

// An unterminated line longer than MaxLineBytes is shipped in pieces
// rather than held without bound.
func TestLongLine(t *testing.T) {
	e := newSLS(t, nil)
	w := New(e.p, "app", &Options{MaxLineBytes: 10})
	w.Write([]byte("0123456"))
	w.Write([]byte("789abc"))                    // 13 bytes held: shipped
	w.Write([]byte("defghijklmnopqrstuvwxyz\n")) // the rest ends the line
	equal(t, e.next(t, 2), "content=0123456789abc", "content=defghijklmnopqrstuvwxyz")
}

func TestRefused(t *testing.T) {
	e := newSLS(t, func(c *producer.Config) { c.MaxRecordBytes = 200 })
	var reported []error
	w := New(e.p, "app", &Options{OnError: func(err error) { reported = append(reported, err) }})

	// A refusal is counted and reported, and Write still succeeds.
	big := `{"msg":"` + strings.Repeat("x", 300) + "\"}\n"
	if n, err := w.Write([]byte(big + "small\n")); n != len(big)+len("small\n") || err != nil {
		t.Fatalf("Write = %d, %v, want all written", n, err)
	}
	if w.Refused() != 1 || len(reported) != 1 || !errors.Is(reported[0], producer.ErrRecordTooLarge) {
		t.Fatalf("Refused = %d, reported %v", w.Refused(), reported)
	}
	equal(t, e.next(t, 1), "content=small")

	// Once the producer is closed, Write fails with ErrClosed, and n says
	// which lines were written before.
	w.Write([]byte("held"))
	if err := e.p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := w.Write([]byte(" line\nlate\n"))
	if n != 0 || !errors.Is(err, producer.ErrClosed) {
		t.Errorf("Write after Close = %d, %v, want 0, ErrClosed", n, err)
	}
	n, err = w.Write([]byte("late\n"))
	if n != 0 || !errors.Is(err, producer.ErrClosed) {
		t.Errorf("Write after Close = %d, %v, want 0, ErrClosed", n, err)
	}
	w.Write([]byte("unterminated"))
	if err := w.Flush(); !errors.Is(err, producer.ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	if w.Refused() != 5 || len(reported) != 5 {
		t.Errorf("Refused = %d, reported %d, want 5", w.Refused(), len(reported))
	}
}

func TestNilProducer(t *testing.T) {
	w := New(nil, "app", nil)
	if n, err := w.Write([]byte("a\n")); n != 0 || err == nil {
		t.Errorf("Write with a nil producer = %d, %v, want an error", n, err)
	}
	if w.Refused() != 1 {
		t.Errorf("Refused = %d", w.Refused())
	}
}

// Writers on many goroutines (zerolog does not lock its writer) each ship
// their own lines whole.
func TestConcurrentWrites(t *testing.T) {
	e := newSLS(t, nil)
	w := New(e.p, "app", nil)
	const goroutines, lines = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, `{"g":%d,"i":%d}`+"\n", g, i)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, l := range e.next(t, goroutines*lines) {
		seen[l] = true
	}
	for g := range goroutines {
		for i := range lines {
			if l := fmt.Sprintf("g=%d i=%d", g, i); !seen[l] {
				t.Fatalf("%s not stored", l)
			}
		}
	}
}

// Wherever Write calls split the text, the same lines are shipped.
func TestEverySplit(t *testing.T) {
	e := newSLS(t, nil)
	w := New(e.p, "app", nil)
	const text = "{\"a\":{\"b\":1}}\r\nplain\n\n{\"level\":\"warn\",\"m\":\"x\\ny\"}\n"
	for i := range len(text) + 1 {
		for j := i; j <= len(text); j += 7 {
			for _, piece := range []string{text[:i], text[i:j], text[j:]} {
				if n, err := w.Write([]byte(piece)); n != len(piece) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", piece, n, err)
				}
			}
		}
	}
	got := e.next(t, 3*countSplits(len(text)))
	for k := 0; k < len(got); k += 3 {
		equal(t, got[k:k+3], "a.b=1", "content=plain", "level=warn m=x\ny")
		if t.Failed() {
			break
		}
	}
}

func countSplits(n int) int {
	c := 0
	for i := range n + 1 {
		for j := i; j <= n; j += 7 {
			c++
		}
	}
	return c
}
