package conformance

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// tg is the run's target: the emulator, or the project SLS_CONFORMANCE=1
// names.
var tg *target

// TestMain picks the target before any test runs, so that a run against a
// real project with a setting missing fails at once rather than test by
// test (and never passes), and prints the table when the tests are done.
func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	switch v := os.Getenv(envConformance); v {
	case "", "0":
		tg, err = startEmulator(nil)
	case "1":
		tg, err = realTarget(os.Getenv)
	default:
		err = fmt.Errorf("%s=%q: set it to 1 to check a real SLS project, or leave it unset for the emulator", envConformance, v)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		fmt.Println("FAIL")
		os.Exit(1)
	}

	code := m.Run()
	tg.close()
	if (testing.Verbose() || tg.real) && len(rows.rows) > 0 {
		rows.print(os.Stdout, tg.name)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "conformance: goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}
