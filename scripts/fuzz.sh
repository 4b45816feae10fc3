#!/usr/bin/env bash
# Runs every fuzz target under fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each, one after
# another, and prints per target the executions, executions per second and crashes.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 600 s, every target)
#
# Inputs that crash, panic, take more than 1 s (-timeout=1) or more than 2 GiB of memory
# (-rss_limit_mb=2048) are crashes; their files are kept under fuzz/artifacts/TARGET/ and
# the script exits with status 1. New interesting inputs accumulate in fuzz/corpus/TARGET/
# (not committed); the committed seeds are in fuzz/corpus-seeds/TARGET/, and
# fuzz/dicts/TARGET.dict, when there, gives libFuzzer the parser's keywords.
#
# Uses a nightly toolchain when one is installed, else the stable one with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz needs unstable compiler flags); installs cargo-fuzz if it
# is missing. Targets are built with debug assertions (integer overflow panics).
set -uo pipefail
cd "$(dirname "$0")/.."

secs="${1:-600}"
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install --locked cargo-fuzz || { echo "cannot install cargo-fuzz" >&2; exit 2; }
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
    toolchain=nightly
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    toolchain="stable with RUSTC_BOOTSTRAP=1"
fi
echo "toolchain: $toolchain ($("${fuzz[0]}" "${fuzz[@]:1:1}" --version 2>/dev/null | head -n 1))"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <("${fuzz[@]}" list)
fi

# One build of every target (debug assertions on, optimised); the runs below use these
# binaries, so a source edit during a long run does not rebuild anything.
"${fuzz[@]}" build -O -a || { echo "the fuzz targets do not build" >&2; exit 2; }
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="fuzz/target/$triple/release"

failed=0
summary=()
for t in "${targets[@]}"; do
    corpus="fuzz/corpus/$t"
    seeds="fuzz/corpus-seeds/$t"
    artifacts="fuzz/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    before="$(mktemp)"
    log="$(mktemp)"
    ls "$artifacts" | sort >"$before"
    dirs=("$corpus")
    [ -d "$seeds" ] && dirs+=("$seeds")
    # Keys, column names and odd numbers the parser knows, for libFuzzer to splice in.
    dict=()
    [ -f "fuzz/dicts/$t.dict" ] && dict=(-dict="fuzz/dicts/$t.dict")
    echo "=== $t: ${secs} s"
    "$bin_dir/$t" "${dirs[@]}" "${dict[@]}" \
        -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1
    status=$?
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)"
    rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)"
    new="$(ls "$artifacts" | sort | comm -13 "$before" - | sed "s|^|$artifacts/|" | tr '\n' ' ')"
    if [ "$status" -ne 0 ] || [ -n "$new" ]; then
        failed=1
        tail -n 40 "$log"
        line="$t: executions ${execs:-?}, ${rate:-?} exec/s, crashes: ${new:-exit status $status (see above)}"
    else
        line="$t: executions ${execs:-?}, ${rate:-?} exec/s, crashes: 0"
    fi
    echo "$line"
    summary+=("$line")
    rm -f "$before" "$log"
done

echo
echo "fuzzing summary (${secs} s per target, $toolchain):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
