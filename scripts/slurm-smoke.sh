#!/usr/bin/env bash
# Proves the Slurm path of `vmsched sweep` for real: installs Debian's Slurm and munge if
# needed, starts munged, slurmctld and slurmd for a one-node cluster on this machine (private
# config, sockets and ports in a temporary folder), submits deploy/slurm/sweep.sbatch for a
# small sweep in 4 shards plus the dependent merge job, waits, and checks that the merged
# sweep.csv is byte for byte the one an unsharded sweep writes. The daemons it started are
# stopped by their process ids when it exits, whatever the outcome.
#
# Needs root (packages, daemons running as root). Without root it prints SKIPPED and exits 0.
# Usage: scripts/slurm-smoke.sh   (from anywhere; builds target/release/vmsched, or uses the
#        binary named by $VMSCHED when set)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

if [[ "$(id -u)" != 0 ]]; then
    echo "slurm-smoke: SKIPPED: needs root to install Slurm and run its daemons" >&2
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm-smoke: installing slurm-wlm and munge" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if [[ -n "${VMSCHED:-}" ]]; then
    bin="$(cd "$(dirname "$VMSCHED")" && pwd)/$(basename "$VMSCHED")"
else
    cargo build --release --quiet
    bin="$repo/target/release/vmsched"
fi

tmp="$(mktemp -d)"
chmod 755 "$tmp"
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ $status != 0 ]]; then
        echo "slurm-smoke: FAILED; logs:" >&2
        tail -n 30 "$tmp"/*.log "$tmp"/out/slurm/*.out 2>/dev/null >&2 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# munge, on a private socket with a fresh key.
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge.key"
munged --foreground --force --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" \
    --log-file="$tmp/munged.log" --pid-file="$tmp/munged.pid" --seed-file="$tmp/munged.seed" \
    >>"$tmp/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -S "$tmp/munge.sock" ]] && break; sleep 0.1; done

# A one-node cluster: this machine, all its CPUs, no cgroups, no accounting.
node="$(hostname -s)"
# Ports picked at random so that two smoke tests on one machine (two CI clones) do not clash.
ctld_port=$((20000 + RANDOM % 20000))
slurmd_port=$((ctld_port + 1))
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF="$tmp/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=vmsched-smoke
SlurmctldHost=$node
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MailProg=/bin/true
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=smoke Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -f "$SLURM_CONF" >>"$tmp/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$tmp/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -qx idle && break
    sleep 1
done
sinfo -h -o %T | grep -qx idle || { echo "slurm-smoke: the node never became idle" >&2; exit 1; }

# The sweep: 2 × 2 cells × 2 policies × 2 replications = 16 runs of 2000 VMs.
"$bin" scenario >"$tmp/scenario.toml"
sweep_args=(--set hosts.count=1,2 --set workload.load_scale=1,1.5 --policies fcfs,sjf
    --replications 2 --vms 2000)
"$bin" sweep "$tmp/scenario.toml" "${sweep_args[@]}" --out "$tmp/reference" >/dev/null 2>&1

cd "$tmp"
mkdir -p out
ids="$(VMSCHED="$bin" SBATCH_EXTRA="--cpus-per-task=1" \
    "$repo/deploy/slurm/sweep.sbatch" submit 4 "$tmp/out/slurm" "$tmp/scenario.toml" "${sweep_args[@]}")"
read -r array_id merge_id <<<"$ids"
echo "slurm-smoke: submitted array job $array_id and merge job $merge_id" >&2

state=""
for _ in $(seq 180); do
    info="$(scontrol show job "$merge_id" 2>/dev/null || true)"
    state="$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2 || true)"
    case "$state" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;;
    esac
    if grep -q 'Reason=DependencyNeverSatisfied' <<<"$info"; then
        echo "slurm-smoke: a shard failed, so the merge job can never start" >&2
        exit 1
    fi
    sleep 1
done
if [[ "$state" != COMPLETED ]]; then
    echo "slurm-smoke: the merge job ended as '${state:-unknown}'" >&2
    exit 1
fi
cmp "$tmp/reference/sweep.csv" "$tmp/out/slurm/sweep.csv"
echo "slurm-smoke: OK: 4 Slurm shards merged = the unsharded sweep.csv, byte for byte" \
    "($(($(wc -l <"$tmp/reference/sweep.csv") - 1)) rows)" >&2
