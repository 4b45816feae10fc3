#!/usr/bin/env bash
# Speed of backfilling against plain FCFS on a queue-heavy synthetic run: 16 hosts of 32
# pCPUs and 256 GiB, Poisson arrivals at an offered load of 0.98 (2.7876 per second),
# 1, 2, 4, 8 or 16 vCPUs (weights 8:4:2:1:1, mean 3), 4 GiB, exponential service of mean
# 60 s, estimates with noise cv 0.5, VMS VMs (default 1,000,000). Times `vmsched compare`
# with --policies fcfs+none, fcfs+easy and (with CONSERVATIVE=1) fcfs+conservative,
# alternately, ROUNDS times each (default 3), and prints every time (wall and CPU), the
# medians and the ratios of the medians to `none`. On a busy machine the CPU time (user +
# system) is the steadier figure.
#
# Usage: scripts/backfill-bench.sh [ROUNDS] [VMS]   (set VMSCHED to time a given binary
#        instead of building target/release/vmsched; LOAD to change the offered load)
# A benchmark, not a test: on a shared or busy machine the figure is noisy; quote medians.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
vms="${2:-1000000}"
load="${LOAD:-0.98}"
if [[ -n "${VMSCHED:-}" ]]; then
    bin="$VMSCHED"
else
    cargo build --release --quiet
    bin="$(pwd)/target/release/vmsched"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# λ = load · 512 pCPUs / (3 vCPUs · 60 s)
rate="$(echo "$load * 512 / 180" | bc -l)"
cat >"$tmp/queue-heavy.toml" <<TOML
[run]
seed = 1
vms = $vms
warmup_vms = 0
replications = 1

[[hosts]]
count = 16
pcpus = 32
memory_gib = 256

[admission]
policy = "fcfs"

[workload]
arrival = { process = "poisson", rate_per_s = $rate }
vcpus = { values = [1, 2, 4, 8, 16], weights = [8, 4, 2, 1, 1] }
memory_gib = 4
service = { dist = "exponential", mean_s = 60 }
estimate = { noise_cv = 0.5 }
TOML
policies=(fcfs+none fcfs+easy)
# (Conservative backfilling replans the whole queue at nearly every departure: over ten
# minutes at 1,000,000 VMs; time it on 100,000.)
if [[ "${CONSERVATIVE:-0}" != 0 ]]; then policies+=(fcfs+conservative); fi
declare -A wall cpu
TIMEFORMAT='%R %U %S'
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
for ((r = 0; r < rounds; r++)); do
    for p in "${policies[@]}"; do
        # real, user and system seconds of the run, from bash's `time`.
        read -r real user sys < <({ time "$bin" compare "$tmp/queue-heavy.toml" --policies "$p" \
            --no-plots --no-vms --out "$tmp/out-$p" >/dev/null 2>&1; } 2>&1)
        c=$(echo "$user + $sys" | bc -l)
        wall[$p]+="$real "
        cpu[$p]+="$c "
        printf 'round %d, %-18s %6.2f s wall, %6.2f s CPU (load average now %s)\n' "$r" "$p:" \
            "$real" "$c" "$(cut -d' ' -f1 /proc/loadavg)"
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# shellcheck disable=SC2086
base_w=$(median ${wall[fcfs+none]})
# shellcheck disable=SC2086
base_c=$(median ${cpu[fcfs+none]})
for p in "${policies[@]}"; do
    # shellcheck disable=SC2086
    w=$(median ${wall[$p]})
    # shellcheck disable=SC2086
    c=$(median ${cpu[$p]})
    printf 'median %-18s %6.2f s wall (%.2f× none), %6.2f s CPU (%.2f× none)\n' "$p:" \
        "$w" "$(echo "$w / $base_w" | bc -l)" "$c" "$(echo "$c / $base_c" | bc -l)"
done
