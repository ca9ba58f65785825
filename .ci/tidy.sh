#!/usr/bin/env bash
# Fails when any module of the repository is not tidy: go.mod or go.sum
# would change under `go mod tidy`. Run from the repository root.
set -euo pipefail
export GOWORK=off # each module on its own, as its users see it
status=0
while IFS= read -r gomod; do
	dir=$(dirname "$gomod")
	if ! (cd "$dir" && go mod tidy -diff); then
		echo "go mod tidy needed in $dir" >&2
		status=1
	fi
done < <(find . -name go.mod -not -path './.git/*' -not -path '*/testdata/*' | sort)
exit $status
