#!/usr/bin/env bash
# The disk spool's candidates in one run (bench/spool, a module of its
# own so that tidwall/wal and bbolt stay out of the SDK's go.mod): the
# mmap'd segments of internal/spool, github.com/tidwall/wal and
# go.etcd.io/bbolt, each asked to keep ~300-byte records until they are
# acknowledged. Rounds interleave the candidates so machine noise hits
# each alike; ratios are of medians against the first candidate. Reported:
# CPU per record (getrusage, so syscalls and background goroutines count)
# and Append latency flat out and at a steady 20k records/s, time in Ack
# (with front truncation), reopen-and-replay of 1 GiB, what a SIGKILL and
# a torn last write do, and the SDK's Log with and without a spool append
# and acknowledgement per record (the emulator runs in a child process,
# so the CPU is the SDK's).
#
#   bench/spool.sh [flags]    e.g. -rounds 3 -replay 0 -only mmap
set -euo pipefail
cd "$(dirname "$0")/spool"
go build -o "${TMPDIR:-/tmp}/spoolbench" .
exec "${TMPDIR:-/tmp}/spoolbench" "$@"
