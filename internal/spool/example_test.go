//go:build unix

package spool_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/slskafka/slskafka/internal/spool"
)

// A producer appends each record before Log returns, acknowledges it when
// SLS did, and after a restart replays what was not acknowledged.
func Example() {
	dir, err := os.MkdirTemp("", "spool-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := spool.Open(spool.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	delivered, _ := s.Append(spool.Record{Topic: "app.json", Time: t, Value: []byte(`{"msg":"delivered"}`)})
	s.Append(spool.Record{Topic: "app.json", Time: t, Value: []byte(`{"msg":"in flight"}`)})
	s.Spill(spool.Record{Topic: "app.json", Time: t, Value: []byte(`{"msg":"beyond memory"}`)})
	s.Ack(delivered)
	s.Close() // or the process dies

	s, err = spool.Open(spool.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println("recovered:", s.Stats().Recovered)
	for {
		e, ok, err := s.Next(nil)
		if err != nil || !ok {
			break
		}
		fmt.Println(e.Topic, e.Time.UTC().Format(time.RFC3339), string(e.Value))
		s.Ack(e.ID) // once SLS acknowledged it
	}
	// Output:
	// recovered: 2
	// app.json 2026-01-02T03:04:05Z {"msg":"in flight"}
	// app.json 2026-01-02T03:04:05Z {"msg":"beyond memory"}
}
