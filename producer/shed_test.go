package producer_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/slskafka/slskafka/internal/testproducer"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// With the endpoint down and a 4 MiB buffer, 9 INFO records to 1 ERROR are
// offered until twice the buffer has been: INFO records are shed once the
// buffer is 80% full, and every ERROR record offered is stored when the
// endpoint returns. In a synctest bubble: the outage and the return take
// no real time.
func TestShedKeepsErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const buffer = 4 << 20
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 2}})
		down := testproducer.NewOutage(s)
		p := newProducer(t, s, func(c *producer.Config) {
			c.DialContext = down.DialContext
			c.MaxBufferedBytes = buffer
		})
		msg := strings.Repeat("m", 2000)
		var offered, offeredBytes, errorsOffered, shed int
		for offeredBytes < 2*buffer {
			r := rec("id", strconv.Itoa(offered), "msg", msg)
			if offered%10 == 9 {
				r.Level = slog.LevelError
				errorsOffered++
			}
			err := p.Log(context.Background(), "app", r)
			switch {
			case err == nil:
			case producer.IsShed(err) && errors.Is(err, producer.ErrBufferFull) && r.Level < slog.LevelWarn:
				shed++
			default:
				t.Fatalf("record %d (level %v): %v", offered, r.Level, err)
			}
			offered++
			offeredBytes += len(msg)
		}
		st := p.Stats()
		if shed == 0 || st.Shed != int64(shed) || st.Accepted+st.Shed+st.Dropped != int64(offered) || st.Dropped != 0 {
			t.Fatalf("offered %d, shed %d: stats %+v", offered, shed, st)
		}
		// Shedding starts at 80% of the buffer, not before.
		if accepted := st.Accepted - int64(errorsOffered); accepted*2000 < buffer/2 {
			t.Errorf("only %d INFO records accepted before shedding", accepted)
		}

		down.Up()
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		stored := map[string]bool{}
		for _, l := range s.Logs("app") {
			stored[l.Fields["id"]] = true
		}
		for i := 9; i < offered; i += 10 {
			if !stored[strconv.Itoa(i)] {
				t.Fatalf("ERROR record %d of %d not stored", i, offered)
			}
		}
		st = p.Stats()
		if int64(len(stored)) != st.Accepted || st.Delivered != st.Accepted {
			t.Errorf("stored %d unique records, stats %+v", len(stored), st)
		}
		t.Logf("offered %d (%d ERROR), accepted %d, shed %d, stored %d", offered, errorsOffered, st.Accepted, st.Shed, len(stored))
	})
}

// ShedAt below zero switches shedding off, ShedLevel moves the line, and
// shedding starts at ShedAt: records at or above ShedLevel still fit.
func TestShedConfig(t *testing.T) {
	const buffer = 1 << 20
	for _, tc := range []struct {
		name  string
		at    float64
		level slog.Leveler
		probe slog.Level // shed once the buffer is ShedAt full
	}{
		{"default", 0, nil, slog.LevelInfo},
		{"error and up from half", 0.5, slog.LevelError, slog.LevelWarn},
		{"off", -1, nil, slog.LevelDebug},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := slstest.New(t, slstest.Config{InMemory: true})
				down := testproducer.NewOutage(s)
				p := newProducer(t, s, func(c *producer.Config) {
					c.DialContext = down.DialContext
					c.MaxBufferedBytes = buffer
					c.OnBufferFull = producer.Drop
					c.ShedAt, c.ShedLevel = tc.at, tc.level
				})
				log := func(level slog.Level, size int) error {
					r := rec("msg", strings.Repeat("x", size))
					r.Level = level
					return p.Log(context.Background(), "app", r)
				}
				// ERROR records fill the buffer until a probe is shed.
				var err error
				for err == nil {
					if err = log(slog.LevelError, 1000); err == nil {
						err = log(tc.probe, 10)
					}
				}
				st := p.Stats()
				if tc.at < 0 {
					if !errors.Is(err, producer.ErrBufferFull) || producer.IsShed(err) || st.Shed != 0 {
						t.Fatalf("shedding off: %v, stats %+v", err, st)
					}
					down.Up()
					return
				}
				at := tc.at
				if at == 0 {
					at = producer.DefaultShedAt
				}
				if !producer.IsShed(err) || st.Shed != 1 || st.Dropped != 0 {
					t.Fatalf("probe: %v, stats %+v", err, st)
				}
				// The buffer is charged for what a record holds besides
				// its bytes (about 300 bytes): the encoded bytes of these
				// records, half of them 20 bytes long, are about 60% of
				// their charge.
				if full := float64(st.BufferedBytes) / buffer; full < at*0.4 || full > at*0.75 {
					t.Errorf("shedding began with %.2f of the buffer in encoded bytes, ShedAt %.2f", full, at)
				}
				if err := log(slog.LevelError, 1000); err != nil {
					t.Errorf("ERROR past the line: %v", err)
				}
				if err := log(tc.probe-1, 10); !producer.IsShed(err) {
					t.Errorf("below the probe: %v", err)
				}
				down.Up()
			})
		})
	}
	s := slstest.New(t, slstest.Config{})
	if _, err := producer.New(producer.Config{Project: "demo", Endpoint: s.Endpoint(), Credentials: s.Credentials(), ShedAt: 1.5}); err == nil || !strings.Contains(err.Error(), "ShedAt") {
		t.Errorf("ShedAt 1.5: %v", err)
	}
}

// With a spool, what fills is the spool: records below WARN are shed once
// it is 80% full, not when memory is, and WARN and above still go to disk.
func TestShedWithSpool(t *testing.T) {
	const maxSpool = 4 << 20
	s := slstest.New(t, slstest.Config{InMemory: true})
	down := testproducer.NewOutage(s)
	p := newProducer(t, s, func(c *producer.Config) {
		c.DialContext = down.DialContext
		c.MaxBufferedBytes = 64 << 10
		c.SpoolDir = t.TempDir()
		c.MaxSpoolBytes = maxSpool
		c.OnBufferFull = producer.Drop
	})
	defer down.Up() // before the cleanup's Close, which delivers
	msg := strings.Repeat("s", 1000)
	var err error
	for i := 0; err == nil; i++ {
		if i == 10*maxSpool/len(msg) {
			t.Fatalf("%d records offered, none shed", i)
		}
		err = p.Log(context.Background(), "app", rec("msg", msg))
	}
	st := p.Stats()
	if !producer.IsShed(err) || st.SpooledBytes < maxSpool*7/10 || st.SpooledBytes > maxSpool*8/10+64<<10 {
		t.Fatalf("%v with %d bytes spooled of %d: stats %+v", err, st.SpooledBytes, maxSpool, st)
	}
	r := rec("msg", msg)
	r.Level = slog.LevelWarn
	if err := p.Log(context.Background(), "app", r); err != nil {
		t.Errorf("WARN with the spool 80%% full: %v", err)
	}
}
