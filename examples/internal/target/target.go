package target

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// Target is where an example ships: a producer configuration, the logstore to
// write to, and the emulator behind them when there is one.
type Target struct {
	// Config is ready for producer.New; callers may set more fields first.
	Config producer.Config
	// Logstore is the logstore the example writes to.
	Logstore string
	// Emulator is the embedded emulator, nil when the target is real SLS.
	Emulator *slstest.Server
}

// Setup returns real SLS when SLS_PROJECT is set: the Config of
// producer.ConfigFromEnv and the logstore named by SLS_LOGSTORE, both
// required. Otherwise it starts an emulator with emu and writes a line to w
// saying so, followed by a blank line; the logstore is then the first of
// emu.Logstores in name order ("app", the emulator's default, when it names
// none). Close the Target when done.
func Setup(w io.Writer, emu slstest.Config) (*Target, error) {
	if os.Getenv(producer.EnvProject) != "" {
		return fromEnv()
	}
	s, err := slstest.Start(emu)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "no %s in the environment: shipping to the embedded SLS emulator at %s\n\n", producer.EnvProject, s.Endpoint())
	return &Target{
		Config: producer.Config{
			Project:     s.Project(),
			Endpoint:    s.Endpoint(),
			Credentials: s.Credentials(),
			TLS:         s.TLSConfig(), // trust the emulator's own CA
		},
		Logstore: firstLogstore(emu.Logstores),
		Emulator: s,
	}, nil
}

// fromEnv reports every missing variable at once, SLS_LOGSTORE among them,
// so that one run tells the user all there is to set.
func fromEnv() (*Target, error) {
	cfg, err := producer.ConfigFromEnv()
	logstore := strings.TrimSpace(os.Getenv(producer.EnvLogstore))
	if logstore == "" {
		err = errors.Join(err, fmt.Errorf("target: %s is not set: name the logstore to write to, or unset %s to ship to the embedded emulator", producer.EnvLogstore, producer.EnvProject))
	}
	if err != nil {
		return nil, err
	}
	return &Target{Config: cfg, Logstore: logstore}, nil
}

func firstLogstore(logstores map[string]int) string {
	if len(logstores) == 0 {
		return "app"
	}
	return slices.Min(slices.Collect(maps.Keys(logstores)))
}

// Close stops the emulator, if there is one.
func (t *Target) Close() {
	if t.Emulator != nil {
		t.Emulator.Close()
	}
}
