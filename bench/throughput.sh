#!/usr/bin/env bash
# Throughput of the SDK against a raw franz-go client with the same settings
# (TLS, SASL PLAIN, LZ4, Kafka 2.1 caps, round-robin over 4 shards) sending
# the same bytes already encoded, both into the emulator in Discard mode.
# They run one after the other in one process per round (BenchmarkThroughput's
# sub-benchmarks), so machine noise hits all; the ratios are of medians.
# "raw" shares one value slice across records (as specified: the same
# pre-encoded bytes); "raw with copy" gives each record its own copy, which
# is the memory traffic any producer of distinct log lines pays; "raw with
# encoding/json" encodes each record's fields itself, as code that uses
# franz-go directly does.
#
# The last line is the same with many goroutines logging at once
# (BenchmarkThroughputParallel), as a server's request handlers do.
#
#   bench/throughput.sh [rounds] [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
benchtime=${2:-2s}
# One run per round with every sub-benchmark once: -count would repeat each
# sub-benchmark N times in a row, and a noisy minute would hit one side only.
out=$(for _ in $(seq "$rounds"); do
	go test -run '^$' -bench '^BenchmarkThroughput(Parallel)?$' -benchtime "$benchtime" -count 1 ./producer/
done)
echo "$out" | grep '^BenchmarkThroughput'
echo "$out" | awk '
/^BenchmarkThroughput\/sdk/      { sdk[++ns] = $3 }
/^BenchmarkThroughput\/franz-go-copy/ { cp[++nc] = $3; next }
/^BenchmarkThroughput\/franz-go-json/ { js[++nj] = $3; next }
/^BenchmarkThroughputParallel\/sdk/ { psdk[++nps] = $3; next }
/^BenchmarkThroughputParallel\/franz-go-copy/ { pcp[++npc] = $3; next }
/^BenchmarkThroughput\/franz-go/ { raw[++nr] = $3 }
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	s = median(sdk, ns); r = median(raw, nr); c = median(cp, nc); j = median(js, nj)
	printf "median ns/record: sdk %.0f, raw franz-go %.0f, raw with a fresh copy per record %.0f, raw with encoding/json %.0f\n", s, r, c, j
	printf "throughput ratio sdk/raw: %.2f (target >= 0.90); sdk/raw-with-copy: %.2f; sdk/raw-with-encoding/json: %.2f\n", r / s, c / s, j / s
	ps = median(psdk, nps); pc = median(pcp, npc)
	printf "4 goroutines per CPU: sdk %.0f, raw with a fresh copy per record %.0f ns/record, ratio %.2f\n", ps, pc, pc / ps
}'
