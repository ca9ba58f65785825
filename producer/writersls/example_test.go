package writersls_test

import (
	"context"
	"fmt"
	"log"
	"maps"
	"slices"
	"strings"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/writersls"
	"github.com/slskafka/slskafka/slstest"
)

// The standard library's log writes text lines, stored in "content"; a JSON
// line (zerolog.New(w), or logrus with its JSONFormatter) becomes fields.
func Example() {
	// An SLS emulator stands in for the real endpoint; with real SLS, build
	// the config with producer.ConfigFromEnv or by hand.
	sls, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 1}})
	if err != nil {
		panic(err)
	}
	defer sls.Close()
	p, err := producer.New(producer.Config{
		Project:     sls.Project(),
		Endpoint:    sls.Endpoint(),
		Credentials: sls.Credentials(),
		TLS:         sls.TLSConfig(),
	})
	if err != nil {
		panic(err)
	}

	w := writersls.New(p, "app", nil)
	logger := log.New(w, "checkout: ", log.Lmsgprefix)
	logger.Printf("order %d placed", 1042)
	// What zerolog.New(w).Warn().Str("table", "orders").Dict("db", ...).Msg("slow query") writes:
	fmt.Fprintln(w, `{"level":"warn","table":"orders","db":{"ms":840},"message":"slow query"}`)

	// Close delivers what is buffered. log.Fatal and os.Exit skip deferred
	// calls: close the producer before them.
	if err := p.Close(context.Background()); err != nil {
		panic(err)
	}
	for _, l := range sls.Logs("app") {
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
			v := l.Fields[k]
			if k == "time" { // the log time to the nanosecond (producer.Config.TimeField)
				v = "<RFC 3339 ns>"
			}
			fields = append(fields, k+"="+v)
		}
		fmt.Println(strings.Join(fields, "  "))
	}
	// Output:
	// content=checkout: order 1042 placed  time=<RFC 3339 ns>
	// db.ms=840  level=warn  message=slow query  table=orders  time=<RFC 3339 ns>
}
