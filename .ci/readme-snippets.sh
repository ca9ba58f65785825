#!/usr/bin/env bash
# Compiles and vets every ```go block of README.md, so that a snippet copied
# into a program builds as it is. A block that declares functions is put in
# a file as it is; any other block becomes the body of a function. Imports
# are added for the packages a block names. Run from the repository root.
set -euo pipefail

root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOWORK=off

# package name -> import path, for the packages README snippets use.
declare -A imports=(
	[context]=context [errors]=errors [fmt]=fmt [log]=log [slog]=log/slog
	[os]=os [testing]=testing [time]=time
	[zap]=go.uber.org/zap [zapcore]=go.uber.org/zap/zapcore
	[auth]=github.com/slskafka/slskafka/auth
	[endpoint]=github.com/slskafka/slskafka/endpoint
	[producer]=github.com/slskafka/slskafka/producer
	[slogsls]=github.com/slskafka/slskafka/producer/slogsls
	[zapsls]=github.com/slskafka/slskafka/producer/zapsls
	[slstest]=github.com/slskafka/slskafka/slstest
)

# Split the blocks into block-N.txt files.
awk -v dir="$work" '
	/^```go[[:space:]]*$/ { n++; inblock = 1; next }
	/^```/ && inblock { inblock = 0; next }
	inblock { print > (dir "/block-" n ".txt") }
' README.md

n=0
for block in "$work"/block-*.txt; do
	[ -e "$block" ] || continue
	n=$((n + 1))
	i=$(basename "$block" .txt)
	i=${i#block-}
	{
		echo "package snippets"
		echo
		echo "import ("
		for name in "${!imports[@]}"; do
			if grep -qE "(^|[^A-Za-z0-9_.])$name\." "$block"; then
				echo "	\"${imports[$name]}\""
			fi
		done
		echo ")"
		echo
		if grep -q '^func ' "$block"; then
			cat "$block"
		else
			echo "func snippet$i() {"
			cat "$block"
			echo "}"
		fi
	} >"$work/snippet${i}_test.go"
done
if [ "$n" -eq 0 ]; then
	echo "no go blocks in README.md" >&2
	exit 1
fi

cd "$work"
go mod init example.com/snippets >/dev/null 2>&1
go mod edit -require=github.com/slskafka/slskafka@v0.0.0-00010101000000-000000000000 -replace=github.com/slskafka/slskafka="$root"
go mod tidy 2>tidy.log || { cat tidy.log >&2; exit 1; }
gofmt -w ./*_test.go # the README may write one-line ifs
if ! go vet . 2>vet.log; then
	echo "README.md snippets do not compile:" >&2
	cat vet.log >&2
	for f in ./*_test.go; do echo "--- $f" >&2; cat -n "$f" >&2; done
	exit 1
fi
echo "$n README snippets compile"
