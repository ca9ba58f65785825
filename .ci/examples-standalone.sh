#!/usr/bin/env bash
# Proves that every examples/*/main.go is a template: copied alone into a
# fresh module that requires this SDK (through a replace directive to this
# checkout), it tidies, builds, and runs to completion against the embedded
# emulator (SLS_PROJECT unset). Run from the repository root; needs the
# module proxy (or a module cache holding the examples' dependencies).
set -euo pipefail

root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fresh module outside the repository: no go.work applies to it.
export GOWORK=off

# Every module of this repository, so that an example importing a nested one
# (producer/otelsls) resolves it from the checkout too.
replaces=()
while IFS= read -r gomod; do
	dir=$(dirname "$gomod")
	mod=$(cd "$dir" && go list -m -f '{{.Path}}')
	replaces+=("-replace=$mod=$root/${dir#./}")
done < <(find . -name go.mod -not -path './.git/*' -not -path '*/testdata/*' | sort)

failed=0
for main in examples/*/main.go; do
	name=$(basename "$(dirname "$main")")
	dir="$work/$name"
	mkdir -p "$dir"
	cp "$main" "$dir/main.go"
	echo "--- $name"
	(
		set -e # a subshell on the left of || runs without it otherwise
		cd "$dir"
		go mod init "example.com/$name" >/dev/null 2>&1
		go mod edit "${replaces[@]}"
		go mod tidy 2>tidy.log || { cat tidy.log >&2; exit 1; }
		# An import of one of the SDK's internal packages fails here: the
		# module is not the SDK's.
		go build -o "$name" .
		# Every example terminates on its own; the timeout only bounds a hang.
		env -u SLS_PROJECT timeout 300 "./$name" >output.txt 2>&1 || {
			echo "$name failed:" >&2
			cat output.txt >&2
			exit 1
		}
		tail -n 1 output.txt
	) || failed=1
done
exit $failed
