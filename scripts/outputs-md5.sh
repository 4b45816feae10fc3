#!/usr/bin/env bash
# Fingerprints of what users see, for refactors that must not change behaviour: runs every
# example scenario, `compare` on the built-in default scenario, `textbook` on every case and a
# small `sweep`, then prints the md5 of every CSV and text output (one line per file, sorted),
# leaving out the files that record the command line, the revision or the wall time.
#
#   scripts/outputs-md5.sh target/release/vmsched > before.md5
#   (change the code, rebuild)
#   scripts/outputs-md5.sh target/release/vmsched > after.md5 && diff before.md5 after.md5
#
# Run from the repository root. The Gaia example needs ../shared/traces and is left out when
# the trace is not there (a line says so).
set -euo pipefail
bin="$(realpath "${1:?usage: scripts/outputs-md5.sh PATH/TO/vmsched}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for sc in workloads/examples/*.toml; do
    name="$(basename "$sc" .toml)"
    if ! "$bin" compare "$sc" --no-plots --out "$work/example-$name" \
        >"$work/example-$name.txt" 2>"$work/err"; then
        if grep -q 'traces/' "$sc" && grep -q 'cannot read' "$work/err"; then
            echo "# left out: $name (its trace is not there)"
            rm -rf "$work/example-$name" "$work/example-$name.txt"
        else
            cat "$work/err" >&2
            exit 1
        fi
    fi
done
rm -f "$work/err"
"$bin" compare --vms 4000 --replications 2 --no-plots --out "$work/default" >"$work/default.txt" 2>/dev/null
"$bin" textbook >"$work/textbook-list.txt"
for case in $("$bin" textbook | awk 'NR > 1 && $1 ~ /^[a-z0-9-]+$/ { print $1 }'); do
    "$bin" textbook "$case" >"$work/textbook-$case.txt"
    "$bin" textbook "$case" --format csv >"$work/textbook-$case.csv"
done
"$bin" sweep workloads/examples/default.toml --set hosts.count=2,3 --replications 2 \
    --vms 2000 --out "$work/sweep" >"$work/sweep.txt" 2>/dev/null

cd "$work"
find . -type f \( -name '*.csv' -o -name '*.txt' \) ! -name 'sweep.toml' | LC_ALL=C sort |
    xargs md5sum
