#!/usr/bin/env bash
# The producer with the disk spool (Config.SpoolDir) on and off while SLS is
# healthy: CPU per record (the process's, delivery included; the emulator
# runs in another process) and the latency of Log (p50, p99), each round
# running both sides in one process (BenchmarkSpool), ratios of medians.
# Targets: spool on <= 1.5x the CPU of spool off, Log p99 <= 50 us.
#
#   bench/spool-producer.sh [rounds] [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
benchtime=${2:-2s}
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./producer
out=$(for _ in $(seq "$rounds"); do
	"$bin" -test.run '^$' -test.bench '^BenchmarkSpool$' -test.benchtime "$benchtime" -test.count 1
done)
echo "$out" | grep '^BenchmarkSpool'
echo "$out" | awk '
function metric(name,   i) { for (i = 1; i <= NF; i++) if ($i == name) return $(i - 1); return 0 }
/^BenchmarkSpool\/off-/ { c0[++n0] = metric("cpu-ns/op"); a0[n0] = metric("p50-ns"); b0[n0] = metric("p99-ns") }
/^BenchmarkSpool\/on-/  { c1[++n1] = metric("cpu-ns/op"); a1[n1] = metric("p50-ns"); b1[n1] = metric("p99-ns") }
function median(a, n,   i, k, t) {
	for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (a[k] < a[i]) { t = a[i]; a[i] = a[k]; a[k] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	printf "spool off: %.0f ns CPU/record, Log p50 %.2f us, p99 %.2f us\n", median(c0, n0), median(a0, n0) / 1000, median(b0, n0) / 1000
	printf "spool on:  %.0f ns CPU/record, Log p50 %.2f us, p99 %.2f us\n", median(c1, n1), median(a1, n1) / 1000, median(b1, n1) / 1000
	printf "spool on vs off: CPU per record %.2fx (target <= 1.5), Log p99 %.2f us (target <= 50)\n", median(c1, n1) / median(c0, n0), median(b1, n1) / 1000
}'
