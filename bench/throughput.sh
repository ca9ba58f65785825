#!/usr/bin/env bash
# Throughput and CPU cost of the SDK against a raw franz-go client with the
# same settings (TLS, SASL PLAIN, the codec, Kafka 2.1 caps, round-robin over 4
# shards, DefaultMaxInflight produce requests in flight, the same linger) sending the same
# record, into the emulator in Discard mode running in another process, so
# that the process's CPU time per record (cpu-ns/op) is the client's alone.
# Every sub-benchmark runs once per round, one after the other, in one
# process (BenchmarkThroughput), so machine noise hits all sides; the
# ratios are of medians over the rounds.
#
#   raw franz-go        one pre-encoded slice shared by every record (the
#                       issue's baseline: it never encodes)
#   raw with copy       a fresh copy of it per record, the memory traffic
#                       any producer of distinct log lines pays
#   raw + encoding/json each record's fields encoded by encoding/json, as
#                       code that uses franz-go directly does
#   raw + append        each record's fields encoded by a hand-written
#                       append encoder into a reused buffer, then copied
#                       (franz-go keeps the slice): what a skilled user
#                       feeding franz-go would write, and the SDK's target
#
# Every side sends the same bytes: the record's own fields, as one flat JSON
# object. The SDK runs with TimeField off (NoTimeField), since its default
# adds a "time" field, 40 more bytes per record, that the raw clients do
# not write; BenchmarkLogTimeField measures that field's cost.
#
# records/s = 1e9 / ns per record, delivery included. The last line is the
# same with many goroutines logging at once (BenchmarkThroughputParallel),
# as a server's request handlers do.
#
# codec is the SDK's Compression and the raw client's codec alike: auto
# (the default: LZ4 where SLS takes it, as the emulator does), lz4, gzip,
# none, snappy or zstd. Compare codecs by their CPU per record against the
# raw client's (same machine, same run), or run BenchmarkCompress for the
# codecs side by side.
#
#   bench/throughput.sh [rounds] [benchtime] [codec]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
benchtime=${2:-2s}
case ${3:-auto} in
auto | lz4 | gzip | none | snappy | zstd) export SLSKAFKA_BENCH_CODEC=${3:-auto} ;;
*) echo "codec: want auto, lz4, gzip, none, snappy or zstd, got $3" >&2; exit 2 ;;
esac
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./producer
# One run per round with every sub-benchmark once: -count would repeat each
# sub-benchmark N times in a row, and a noisy minute would hit one side only.
out=$(for _ in $(seq "$rounds"); do
	"$bin" -test.run '^$' -test.bench '^BenchmarkThroughput(Parallel)?$' -test.benchtime "$benchtime" -test.count 1
done)
echo "$out" | grep '^BenchmarkThroughput'
echo "$out" | awk -v codec="$SLSKAFKA_BENCH_CODEC" '
function metric(name,   i) { for (i = 1; i <= NF; i++) if ($i == name) return $(i - 1); return 0 }
/^BenchmarkThroughput\/sdk-/           { s[++ns] = $3; sc[++nsc] = metric("cpu-ns/op") }
/^BenchmarkThroughput\/franz-go-[0-9]/ { r[++nr] = $3; rc[++nrc] = metric("cpu-ns/op") }
/^BenchmarkThroughput\/franz-go-copy-/ { c[++nc] = $3; cc[++ncc] = metric("cpu-ns/op") }
/^BenchmarkThroughput\/franz-go-json-/ { j[++nj] = $3; jc[++njc] = metric("cpu-ns/op") }
/^BenchmarkThroughput\/franz-go-append-/ { a[++na] = $3; ac[++nac] = metric("cpu-ns/op") }
/^BenchmarkThroughputParallel\/sdk-/           { ps[++nps] = $3; psc[++npsc] = metric("cpu-ns/op") }
/^BenchmarkThroughputParallel\/franz-go-copy-/ { pc[++npc] = $3; pcc[++npcc] = metric("cpu-ns/op") }
function median(a, n,   i, k, t) {
	for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (a[k] < a[i]) { t = a[i]; a[i] = a[k]; a[k] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function line(name, ns, cpu) { printf "  %-22s %8.0f records/s  %6.0f ns CPU/record\n", name, 1e9 / ns, cpu }
END {
	S = median(s, ns); SC = median(sc, nsc); R = median(r, nr); RC = median(rc, nrc)
	C = median(c, nc); CC = median(cc, ncc); J = median(j, nj); JC = median(jc, njc)
	A = median(a, na); AC = median(ac, nac)
	print "medians (codec " codec "):"
	line("sdk", S, SC); line("raw franz-go", R, RC); line("raw with copy", C, CC); line("raw + encoding/json", J, JC); line("raw + append", A, AC)
	printf "sdk vs raw + append:     records/s %.2fx (target >= 1.00), CPU per record %.2fx (target <= 0.85)\n", A / S, SC / AC
	printf "sdk vs raw franz-go:     records/s %.2fx (target >= 0.95), CPU per record %.2fx (target <= 1.20)\n", R / S, SC / RC
	printf "sdk vs raw with copy:    records/s %.2fx, CPU per record %.2fx\n", C / S, SC / CC
	printf "sdk vs raw + encoding/json: records/s %.2fx, CPU per record %.2fx\n", J / S, SC / JC
	PS = median(ps, nps); PSC = median(psc, npsc); PC = median(pc, npc); PCC = median(pcc, npcc)
	printf "4 goroutines per CPU, sdk vs raw with copy: records/s %.2fx, CPU per record %.2fx\n", PC / PS, PSC / PCC
}'
