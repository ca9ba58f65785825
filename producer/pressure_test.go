package producer_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// With NoWait, Log under Block does not wait for space: a record that
// finds none is refused at once and counted in Dropped. In a synctest
// bubble, so "at once" is exact.
func TestNoWaitRefusesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true})
		down := testproducer.NewOutage(s)
		p := testproducer.New(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.MaxBufferedBytes = 64 << 10
			c.ShedAt = -1
		})
		pad := strings.Repeat("x", 500)
		ctx := producer.NoWait(context.Background())
		var refused int
		for i := 0; refused < 3; i++ {
			if i == 10_000 {
				t.Fatalf("%d records in a 64 KiB buffer, none refused", i)
			}
			start := time.Now()
			err := p.Log(ctx, "app", producer.Record{Fields: []producer.Field{{Key: "pad", Value: pad}}})
			if took := time.Since(start); took != 0 {
				t.Fatalf("Log %d with NoWait waited %v", i, took)
			}
			if err != nil {
				if !errors.Is(err, producer.ErrBufferFull) {
					t.Fatalf("Log %d: %v, want ErrBufferFull", i, err)
				}
				refused++
			}
		}
		if st := p.Stats(); st.Dropped != int64(refused) {
			t.Errorf("%d refused, stats %+v", refused, st)
		}
		down.Up()
	})
}

// Close with a spool during an outage, given all the time it wants, keeps
// what its DeliveryTimeout passed for on disk and says so: nil would read
// as "delivered". In a synctest bubble, so the outage costs no time.
func TestCloseSaysWhatTheSpoolKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true})
		down := testproducer.NewOutage(s)
		dir := t.TempDir()
		p := testproducer.New(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.SpoolDir = dir
			c.DeliveryTimeout = 5 * time.Second
		})
		for i := range 10 {
			if err := p.Log(context.Background(), "app", producer.Record{Fields: []producer.Field{{Key: "i", Value: strconv.Itoa(i)}}}); err != nil {
				t.Fatal(err)
			}
		}
		err := p.Close(context.Background())
		if !errors.Is(err, producer.ErrClosed) || !strings.Contains(err.Error(), "10 records not delivered are kept in the spool") {
			t.Errorf("Close = %v, want ErrClosed saying the spool keeps 10 records", err)
		}
		if st := p.Stats(); st.Delivered != 0 || st.BufferedRecords != 10 {
			t.Errorf("after Close: %+v", st)
		}
		down.Up()
	})
}
