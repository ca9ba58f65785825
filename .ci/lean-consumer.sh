#!/usr/bin/env bash
# Builds a consumer of the SDK as a new user would write one, in a fresh
# module outside the repository (the SDK replaced by this checkout): a
# program that imports producer and producer/slogsls, with a test that
# imports slstest. After `go mod tidy`, its go.sum must hold no full-source
# line (a download, not only a go.mod hash) for the modules that only our
# compatibility tests, examples and exporters need: sarama, kafka-go,
# jcmturner/*, testify, otelhttp and the other contrib modules,
# stdoutmetric, otel/sdk and its sdk/log and sdk/metric, otel/log, kotel.
#
# One exception, reported but not failed: a module that the tests of a
# third-party dependency need anyway (go mod tidy records sums for the
# tests of every package in the build). The OpenTelemetry API
# (go.opentelemetry.io/otel) tests with testify, so testify is in every
# OpenTelemetry user's go.sum whatever this repository does. Run from the
# repository root.
set -euo pipefail

root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOWORK=off
cd "$work"

cat >main.go <<'GO'
package main

import (
	"context"
	"log"
	"log/slog"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/producer/slogsls"
)

func main() {
	cfg, err := producer.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	p, err := producer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	slog.New(slogsls.New(p, "app", nil)).Info("order placed", "order_id", 1042)
}
GO
cat >main_test.go <<'GO'
package main

import (
	"testing"

	"github.com/slskafka/slskafka/slstest"
)

func TestEmulator(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	if s.Endpoint().Port == 0 {
		t.Fatal("no port")
	}
}
GO
go mod init example.com/consumer >/dev/null 2>&1
go mod edit -require=github.com/slskafka/slskafka@v0.0.0-00010101000000-000000000000 -replace=github.com/slskafka/slskafka="$root"
go mod tidy 2>tidy.log || { cat tidy.log >&2; exit 1; }
go build ./...
go vet ./...

forbidden='^(github\.com/IBM/sarama|github\.com/segmentio/kafka-go|github\.com/jcmturner/.*|github\.com/stretchr/testify|go\.opentelemetry\.io/contrib/instrumentation/net/http/otelhttp|go\.opentelemetry\.io/otel/exporters/stdout/stdoutmetric|go\.opentelemetry\.io/otel/sdk(/.*)?|go\.opentelemetry\.io/otel/log|go\.opentelemetry\.io/contrib/.*|github\.com/twmb/franz-go/plugin/kotel)$'
full=$(grep -v '/go.mod ' go.sum | awk '{print $1}' | sort -u)
echo "consumer: $(go list -m all | wc -l) modules, $(wc -l <go.sum) go.sum lines, $(echo "$full" | wc -l) of them full-source"

# Modules that the tests of third-party packages in the build need.
third=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./... |
	grep -v '^github\.com/slskafka/slskafka' | grep -v '^example\.com/consumer' || true)
# shellcheck disable=SC2086 # one argument per package
thirdmods=$(go list -e -deps -test -f '{{with .Module}}{{.Path}}{{end}}' $third | sort -u)

status=0
for m in $(echo "$full" | grep -E "$forbidden" || true); do
	why=$(go mod why -m "$m" | tail -n +2 | paste -sd '>' | sed 's/>/ > /g')
	if echo "$thirdmods" | grep -qx "$m"; then
		echo "note: $m is in go.sum only because a dependency's own tests need it: $why"
	else
		echo "FAIL: $m has a full-source go.sum line: $why" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "no module of our tests, examples or exporters in a consumer's go.sum"
exit $status
