#!/usr/bin/env bash
# The slog and zap adapters against the standard JSON handler / zap JSON
# core writing to io.Discard, for the same record. Each round runs the
# sub-benchmarks one after the other in one process, so machine noise hits
# both sides alike; the ratios are of medians of per-round numbers.
# Target: each adapter <= 1.10x its baseline.
#
# cpu-ns/op is the process's CPU time per record (every goroutine: the
# producer's delivery and the emulator's acknowledging too), which other
# processes on a shared machine do not inflate; its ratio is printed too.
#
# Each adapter's time is also split: its own work (slogsls render, zapsls
# encode: the record written into JSON by the fast path, no producer) and producer.Log
# given the same fields, each as a share of the baseline; for zap also
# zap.Logger's own work, which both sides pay. What the split
# leaves over is the cost of the two together (caches, the delivery
# goroutines competing for the CPUs).
#
#   bench/adapters.sh [rounds] [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
benchtime=${2:-1s}
# One run per round with every sub-benchmark once: -count would repeat each
# sub-benchmark N times in a row, and a noisy minute would hit one side only.
out=$(for _ in $(seq "$rounds"); do
	go test -run '^$' -bench '^(BenchmarkHandle|BenchmarkCore)$' -benchtime "$benchtime" -count 1 ./producer/slogsls ./producer/zapsls
done)
echo "$out" | grep -E '^Benchmark(Handle|Core)/'
echo "$out" | awk '
function metric(name,   i) { for (i = 1; i <= NF; i++) if ($i == name) return $(i - 1); return 0 }
/^BenchmarkHandle\/slogsls/          { a[++na] = $3; ca[++nca] = metric("cpu-ns/op") }
/^BenchmarkHandle\/json/             { b[++nb] = $3; cb[++ncb] = metric("cpu-ns/op") }
/^BenchmarkHandle\/render/           { r[++nr] = $3 }
/^BenchmarkHandle\/producer.Log/     { l[++nl] = $3 }
/^BenchmarkCore\/zapsls/             { c[++nc] = $3; cc[++ncc] = metric("cpu-ns/op") }
/^BenchmarkCore\/zap-json-discard/   { d[++nd] = $3; cd[++ncd] = metric("cpu-ns/op") }
/^BenchmarkCore\/encode/             { e[++ne] = $3 }
/^BenchmarkCore\/zap.Logger/         { g[++ng] = $3 }
/^BenchmarkCore\/producer.Log/       { m[++nm] = $3 }
function median(x, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
	return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
}
END {
	sa = median(a, na); sb = median(b, nb); sr = median(r, nr); sl = median(l, nl)
	sc = median(c, nc); sd = median(d, nd); se = median(e, ne); sm = median(m, nm); sg = median(g, ng)
	printf "median ns/op: slogsls %.0f, slog JSON handler %.0f, ratio %.2f (target <= 1.10)\n", sa, sb, sa / sb
	x = median(ca, nca); y = median(cb, ncb)
	printf "  cpu-ns/op: slogsls %.0f, slog JSON handler %.0f, ratio %.2f\n", x, y, x / y
	printf "  render %.0f (%.2fx the handler), producer.Log %.0f (%.2fx), rest %.0f (%.2fx)\n", sr, sr / sb, sl, sl / sb, sa - sr - sl, (sa - sr - sl) / sb
	printf "median ns/op: zapsls %.0f, zap JSON core %.0f, ratio %.2f (target <= 1.10)\n", sc, sd, sc / sd
	x = median(cc, ncc); y = median(cd, ncd)
	printf "  cpu-ns/op: zapsls %.0f, zap JSON core %.0f, ratio %.2f\n", x, y, x / y
	printf "  zap.Logger %.0f (%.2fx the core; both pay it), encode %.0f (%.2fx), producer.Log %.0f (%.2fx), rest %.0f (%.2fx)\n", sg, sg / sd, se, se / sd, sm, sm / sd, sc - sg - se - sm, (sc - sg - se - sm) / sd
}'
