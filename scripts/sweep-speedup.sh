#!/usr/bin/env bash
# Parallel speed-up of `vmsched sweep`: a 64-run sweep (4 × 2 cells × 2 policies × 4
# replications of the built-in default scenario) timed with --threads 1 and --threads 2,
# alternately, ROUNDS times each (default 5), each time into a fresh folder (a sweep into a
# used folder would skip its finished runs). Prints every time, the medians and the speed-up
# of the medians, and checks that both thread counts wrote the same sweep.csv.
#
# Usage: scripts/sweep-speedup.sh [ROUNDS] [VMS_PER_RUN]   (defaults 5 and 100000; set
#        VMSCHED to time a given binary instead of building target/release/vmsched)
# A benchmark, not a test: on a shared or busy machine the figure is noisy; quote the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
vms="${2:-100000}"
if [[ -n "${VMSCHED:-}" ]]; then
    bin="$VMSCHED"
else
    cargo build --release --quiet
    bin="$(pwd)/target/release/vmsched"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
args=(--set hosts.count=1,2,3,4 --set workload.load_scale=1,2 --policies fcfs,sjf
    --replications 4 --vms "$vms")

t1=()
t2=()
TIMEFORMAT='%R %U %S'
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
for ((r = 0; r < rounds; r++)); do
    for th in 1 2; do
        out="$tmp/r$r-t$th"
        # real, user and system seconds of the sweep, from bash's `time`.
        read -r real user sys < <({ time "$bin" sweep "${args[@]}" --threads "$th" --out "$out" \
            >/dev/null 2>&1; } 2>&1)
        if [[ $th == 1 ]]; then t1+=("$real"); else t2+=("$real"); fi
        printf 'round %d, --threads %d: %6.2f s wall, %6.2f s CPU (load average now %s)\n' \
            "$r" "$th" "$real" "$(echo "$user + $sys" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
        cmp "$tmp/r0-t1/sweep.csv" "$out/sweep.csv"
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m1=$(median "${t1[@]}")
m2=$(median "${t2[@]}")
printf 'runs: 64 of %s VMs; median --threads 1: %.2f s, --threads 2: %.2f s, speed-up %.2f×\n' \
    "$vms" "$m1" "$m2" "$(echo "$m1 / $m2" | bc -l)"
printf 'per-round speed-ups:'
for ((r = 0; r < rounds; r++)); do printf ' %.2f' "$(echo "${t1[$r]} / ${t2[$r]}" | bc -l)"; done
printf '\n(sweep.csv identical for 1 and 2 threads in every round)\n'
