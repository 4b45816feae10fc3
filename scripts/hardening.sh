#!/usr/bin/env bash
# Feeds vmsched absurd and malformed inputs, one per row, and prints a Markdown table:
# input tried → exit status → what vmsched said (the first line of its error) or did.
# Every case runs under `timeout` and an address-space limit, so a case that would run
# for hours or exhaust memory shows up as such instead of taking the machine down.
#
#   scripts/hardening.sh [VMSCHED] > table.md     (default: target/release/vmsched)
#
# docs/hardening.md holds the table this printed. Cases run in a temporary folder so the
# file names in the messages are the short ones written below.
set -u
BIN=${1:-target/release/vmsched}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
SECS=${HARDEN_TIMEOUT:-20}        # wall-clock limit per case
MEM_KB=${HARDEN_MEM_KB:-4194304}  # address-space limit per case (4 GiB)
DATA=$(cd "$(dirname "$0")/../tests/data" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
cp "$DATA"/* .

# A small valid scenario every scenario case starts from (one line changed per case).
cat > base.toml <<'EOF'
[run]
seed = 1
vms = 200
replications = 1

[[hosts]]
count = 1
pcpus = 4
memory_gib = 64

[cpu]
policy = "fcfs"
quantum_ms = 100

[workload]
arrival = { process = "poisson", rate_per_s = 2.0 }
service = { dist = "exponential", mean_s = 1.0 }
vcpus = 1
memory_gib = 1
EOF

# variant NAME 'sed expression' : base.toml with one change, as NAME
variant() { sed "$2" base.toml > "$1"; }

echo "| # | parser | input tried | command | exit | what vmsched did |"
echo "|---|---|---|---|---|---|"
N=0
# probe PARSER 'what' CMD… : runs CMD with the limits and prints one row.
probe() {
    local parser=$1 what=$2
    shift 2
    N=$((N + 1))
    local start end rc msg rss
    start=$(date +%s.%N)
    ( ulimit -v "$MEM_KB"; exec /usr/bin/time -f '%M' -o rss.txt timeout -s KILL "$SECS" "$BIN" "$@" ) \
        > out.txt 2> err.txt
    rc=$?
    end=$(date +%s.%N)
    rss=$(tail -n 1 rss.txt 2>/dev/null)
    if [ "$rc" = 137 ] || [ "$rc" = 124 ]; then
        msg="**killed after ${SECS} s** (still running)"
    elif [ "$rc" = 0 ]; then
        msg="ran to the end in $(printf '%.1f' "$(echo "$end - $start" | bc)") s, peak RSS $((rss / 1024)) MiB"
    else
        msg=$( (grep -m1 '^error' err.txt || grep -v '^\s*$' err.txt | grep -v '^Command terminated' | head -n 1) | cut -c1-400)
        [ ${#msg} -gt 200 ] && msg="${msg:0:180} […]"
        case "$msg" in *panicked*) msg="**PANIC** $msg" ;; esac
        if grep -q 'memory allocation of' err.txt; then msg="**OUT OF MEMORY** $msg"; fi
    fi
    local cmd="vmsched $*"
    [ ${#cmd} -gt 160 ] && cmd="${cmd:0:150} …"
    # Markdown: escape the pipe characters of messages and commands.
    msg=${msg//|/\\|}
    cmd=${cmd//|/\\|}
    echo "| $N | $parser | $what | \`$cmd\` | $rc | $msg |"
}

# ---------------------------------------------------------------- scenario TOML
variant nan-rate.toml 's/rate_per_s = 2.0/rate_per_s = nan/'
probe scenario 'arrival rate `nan`' run nan-rate.toml --out o
variant inf-rate.toml 's/rate_per_s = 2.0/rate_per_s = inf/'
probe scenario 'arrival rate `inf`' run inf-rate.toml --out o
variant inf-service.toml 's/mean_s = 1.0/mean_s = inf/'
probe scenario 'service mean `inf`' run inf-service.toml --out o
variant nan-mem.toml 's/memory_gib = 64/memory_gib = nan/'
probe scenario 'host memory `nan`' run nan-mem.toml --out o
variant neginf-mem.toml 's/^memory_gib = 1$/memory_gib = -inf/'
probe scenario 'VM memory `-inf`' run neginf-mem.toml --out o
variant nan-quantum.toml 's/quantum_ms = 100/quantum_ms = nan/'
probe scenario 'quantum `nan`' run nan-quantum.toml --out o
variant nan-weights.toml 's/^vcpus = 1$/vcpus = { values = [1, 2], weights = [nan, 1.0] }/'
probe scenario 'choice weight `nan`' run nan-weights.toml --out o
variant vcpus-float.toml 's/^vcpus = 1$/vcpus = 1e12/'
probe scenario '`vcpus = 1e12` (a float)' run vcpus-float.toml --out o
variant vcpus-huge.toml 's/^vcpus = 1$/vcpus = 4000000000/'
probe scenario '`vcpus = 4000000000` per VM' run vcpus-huge.toml --out o
variant vcpus-big.toml 's/^vcpus = 1$/vcpus = 1000000000000/'
probe scenario '`vcpus = 1000000000000` (10^12)' run vcpus-big.toml --out o
variant pcpus-huge.toml 's/pcpus = 4/pcpus = 4000000000/'
probe scenario '`pcpus = 4000000000` on one host' run pcpus-huge.toml --out o
variant pcpus-big.toml 's/pcpus = 4/pcpus = 1000000000000/'
probe scenario '`pcpus = 10^12`' run pcpus-big.toml --out o
variant hosts-big.toml 's/count = 1/count = 1000000000000/'
probe scenario '`count = 10^12` hosts' run hosts-big.toml --out o
variant hosts-many.toml 's/count = 1/count = 4000000/'
probe scenario '`count = 4000000` hosts' run hosts-many.toml --out o
variant vms-big.toml 's/vms = 200/vms = 1000000000000/'
probe scenario '`vms = 10^12`' run vms-big.toml --out o --no-vms
variant reps-big.toml 's/replications = 1/replications = 1000000000/'
probe scenario '`replications = 10^9`' run reps-big.toml --out o --no-vms
variant horizon.toml 's/mean_s = 1.0/mean_s = 1e15/'
probe scenario 'service mean 10^15 s' run horizon.toml --out o
variant horizon2.toml 's/process = "poisson", rate_per_s = 2.0/process = "deterministic", interval_s = 1e15/'
probe scenario 'arrivals every 10^15 s (run ends past u64 ns)' run horizon2.toml --out o
{ cat base.toml; printf '\n[[events]]\nat_s = 1e15\nvm = 0\naction = "stop"\n'; } > event-far.toml
probe scenario 'lifecycle event at 10^15 s' run event-far.toml --out o
{ cat base.toml; printf '\n[[events]]\nat_s = nan\nvm = 0\naction = "stop"\n'; } > event-nan.toml
probe scenario 'lifecycle event at `nan` s' run event-nan.toml --out o
sed -e 's/policy = "fcfs"/policy = "rr"/' -e 's/quantum_ms = 100/quantum_ms = 0.000001/' \
    -e 's/process = "poisson", rate_per_s = 2.0/process = "deterministic", interval_s = 1.0/' \
    -e 's/dist = "exponential", mean_s = 1.0/dist = "deterministic", mean_s = 1e6/' \
    -e 's/vms = 200/vms = 2/' base.toml > explode.toml
probe scenario 'round robin, 1 ns quantum, 10^6 s service (10^15 slices)' run explode.toml --out o --no-vms
variant tl.toml 's/^replications = 1$/replications = 1\ntimeline_s = 0.000000001/'
probe scenario '`timeline_s` = 1 ns (a sample per ns)' run tl.toml --out o
python3 -c "print('service = { dist = \"empirical\", quantiles_s = [' + ', '.join(str(i) for i in range(3_000_000)) + '] }')" > q.txt
sed -e '/^service/d' base.toml > emp.toml
cat q.txt >> emp.toml
probe scenario 'empirical distribution of 3·10^6 quantiles (20 MB file)' run emp.toml --out o
python3 -c "print('vcpus = { values = [' + ', '.join('1' for i in range(2_000_000)) + '], weights = [' + ', '.join('1' for i in range(2_000_000)) + '] }')" > wc.txt
sed -e '/^vcpus/d' base.toml > wchoice.toml
cat wc.txt >> wchoice.toml
probe scenario 'weighted choice of 2·10^6 values' run wchoice.toml --out o
{ cat base.toml; printf '# '; head -c 10000000 /dev/zero | tr '\0' 'x'; echo; } > longline.toml
probe scenario 'a 10 MB comment line' run longline.toml --out o
{ cat base.toml; printf '\n[[hosts.devices]]\nkind = "disk"\nbandwidth_mbps = 100\nlatency_us = 100\nchannels = 4000000000\n'; } > channels.toml
probe scenario 'a disk with 4·10^9 channels' run channels.toml --out o
{ sed 's/^memory_gib = 1$/memory_gib = 4/' base.toml; printf 'memory = { working_set_gib = 3, touches_per_ms = 1e300 }\n'; } > touches.toml
probe scenario 'memory touches 10^300 per ms' run touches.toml --out o
variant numa.toml 's/memory_gib = 64/memory_gib = 64\nnuma_nodes = 4000000000/'
probe scenario '`numa_nodes = 4·10^9`' run numa.toml --out o

# ---------------------------------------------------------------- textbook tables
printf 'name,arrival,burst,priority\nP1,0,nan,1\n' > tb-nan.csv
probe textbook 'burst `nan`' textbook tb-nan.csv
printf 'name,arrival,burst,priority\nP1,inf,3,1\n' > tb-inf.csv
probe textbook 'arrival `inf`' textbook tb-inf.csv
printf 'name,arrival,burst,priority\nP1,0,1e300,1\n' > tb-big.csv
probe textbook 'burst 10^300' textbook tb-big.csv
printf 'name,arrival,burst,priority\nP1,1e15,3,1\nP2,0,3,1\n' > tb-far.csv
probe textbook 'arrival 10^15' textbook tb-far.csv
printf 'name,arrival,burst,priority\nP1,0,1000000,1\nP2,0,1000000,1\n' > tb-rr.csv
probe textbook 'round robin, quantum 10^-9, bursts 10^6 (2·10^15 slices)' textbook tb-rr.csv --policy rr --quantum 0.000000001
{ echo 'name,arrival,burst,priority'; python3 -c "
for i in range(1_000_000): print(f'P{i},{i},1,0')"; } > tb-many.csv
probe textbook '10^6 processes' textbook tb-many.csv --format csv
{ echo 'name,arrival,burst,priority'; printf 'P'; head -c 10000000 /dev/zero | tr '\0' 'x'; echo ',0,1,0'; } > tb-long.csv
probe textbook 'a 10 MB process name' textbook tb-long.csv --format csv
probe cli '`--quantum nan`' textbook rr --quantum nan
probe cli '`--context-switch inf`' textbook rr --context-switch inf

# ---------------------------------------------------------------- SWF
swf() { printf '1 %s 0 %s 1 -1 -1 1 %s -1 1 1 1 1 1 -1 -1 -1\n' "$1" "$2" "$3"; }
swf 0 nan 10 > nan.swf
probe swf 'run time `nan`' trace stats nan.swf --format swf
swf inf 10 10 > inf.swf
probe swf 'submit time `inf`' trace stats inf.swf --format swf
swf 1e15 10 10 > far.swf
probe swf 'submit time 10^15 s' trace stats far.swf --format swf
swf 0 1e300 10 > big.swf
probe swf 'run time 10^300 s' trace stats big.swf --format swf
printf '1 0 0 10 1 -1 -1 1000000000000 10 -1 1 1 1 1 1 -1 -1 -1\n' > procs.swf
probe swf '10^12 processors' trace stats procs.swf --format swf
{ printf '1 0 0 10 1 -1 -1 1 10 -1 1 1 1 1 1 -1 -1 -1 '; head -c 10000000 /dev/zero | tr '\0' '7'; echo; } > long.swf
probe swf 'a 10 MB line' trace stats long.swf --format swf
{ printf '; '; head -c 10000000 /dev/zero | tr '\0' 'x'; echo; swf 0 10 10; } > longhdr.swf
probe swf 'a 10 MB header comment' trace stats longhdr.swf --format swf

# ---------------------------------------------------------------- Alibaba
ali=name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
printf '%s\np,1000,nan,0,0,,LS,Running,0,100,0\n' "$ali" > ali-nan.csv
probe alibaba 'memory `nan`' trace stats ali-nan.csv --format alibaba
printf '%s\np,1000,10,0,0,,LS,Running,0,inf,0\n' "$ali" > ali-inf.csv
probe alibaba 'deletion time `inf`' trace stats ali-inf.csv --format alibaba
printf '%s\np,1000000000000000,10,0,0,,LS,Running,0,100,0\n' "$ali" > ali-cpu.csv
probe alibaba 'cpu_milli 10^15' trace stats ali-cpu.csv --format alibaba
printf '%s\np,1000,10,0,0,,LS,Running,0,1e15,0\n' "$ali" > ali-far.csv
probe alibaba 'deletion time 10^15 s' trace stats ali-far.csv --format alibaba
{ echo "$ali"; printf 'p'; head -c 10000000 /dev/zero | tr '\0' 'x'; echo ',1000,10,0,0,,LS,Running,0,100,0'; } > ali-long.csv
probe alibaba 'a 10 MB pod name' trace stats ali-long.csv --format alibaba
printf 'sn,cpu_milli,memory_mib,gpu,model\nn,nan,1024,0,\n' > nodes-nan.csv
{ cat base.toml; printf '\n[cluster]\nnode_list = "nodes-nan.csv"\n'; } > nodes-nan.toml
probe alibaba 'node list: cpu_milli `nan`' run nodes-nan.toml --out o
printf 'sn,cpu_milli,memory_mib,gpu,model\nn,1000000000000000,1024,0,\n' > nodes-big.csv
{ cat base.toml; printf '\n[cluster]\nnode_list = "nodes-big.csv"\n'; } > nodes-big.toml
probe alibaba 'node list: cpu_milli 10^15 (10^12 pCPUs)' run nodes-big.toml --out o

# ---------------------------------------------------------------- Azure binned
mkdir az && cd az || exit 1
cp ../azure-v1.mini.txt az.txt
cp ../azure-v1.mini.c1500.txt az.c1500.txt
cp ../azure-flav_map.txt flav_map.txt
cp ../azure-v1.interval_map.txt v1.interval_map.txt
probe azure 'the valid excerpt (control)' trace stats az.txt --format azure
printf '1,nan a\n2,3.5 g\n4,7 k\n' > flav_map.txt
probe azure 'flavour memory `nan`' trace stats az.txt --format azure
printf '1,0.75 a\n2,3.5 g\n1000000000000,7 k\n' > flav_map.txt
probe azure 'flavour with 10^12 vCPUs' trace stats az.txt --format azure
cp ../azure-flav_map.txt flav_map.txt
printf '0 0\n300 1\n600 2\ninf 2\n1200 3\n' > v1.interval_map.txt
probe azure 'duration bin `inf`' trace stats az.txt --format azure
cp ../azure-v1.interval_map.txt v1.interval_map.txt
printf '600 g,|,a,a,|\n1e15 k,|\n' > az2.txt
printf '600 U0,|,U2,C3,|\n1e15 U1,|\n' > az2.c1500.txt
probe azure 'bin start 10^15' trace stats az2.txt --format azure
{ printf '600 '; head -c 10000000 /dev/zero | tr '\0' 'g' ; echo ',|'; } > az3.txt
cp az.c1500.txt az3.c1500.txt
probe azure 'a 10 MB line' trace stats az3.txt --format azure
cd .. || exit 1

# ---------------------------------------------------------------- plain CSV trace
printf 'arrival_s,runtime_s\nnan,10\n' > c-nan.csv
probe csv 'arrival `nan`' trace stats c-nan.csv --format csv
printf 'arrival_s,runtime_s\n0,inf\n' > c-inf.csv
probe csv 'runtime `inf`' trace stats c-inf.csv --format csv
printf 'arrival_s,runtime_s\n1e300,10\n' > c-far.csv
probe csv 'arrival 10^300 s' trace stats c-far.csv --format csv
printf 'arrival_s,runtime_s,vcpus\n0,10,1000000000000\n' > c-vcpus.csv
probe csv '10^12 vCPUs' trace stats c-vcpus.csv --format csv
printf 'arrival_s,runtime_s,vcpus,memory_mib\n0,10,1,1e300\n' > c-mem.csv
probe csv 'memory 10^300 MiB' trace stats c-mem.csv --format csv
{ printf 'arrival_s,runtime_s,tenant\n0,10,'; head -c 10000000 /dev/zero | tr '\0' 'x'; echo; } > c-long.csv
probe csv 'a 10 MB tenant cell' trace stats c-long.csv --format csv
printf 'arrival_s,runtime_s\n0,10\n' > c-ok.csv
probe cli '`trace stats --time-scale nan`' trace stats c-ok.csv --format csv --time-scale nan
probe cli '`trace fit --points 10^9` (a scenario with 10^9 quantiles)' trace fit c-ok.csv --format csv --points 1000000000 --out fit.toml
probe cli '`trace stats --reorder-window 10^12`' trace stats c-ok.csv --format csv --reorder-window 1000000000000
{ cat base.toml | sed -e '/^arrival/d' -e '/^service/d' -e '/^vcpus/d' -e '/^memory_gib = 1$/d';
  printf 'trace = { format = "csv", path = "c-ok.csv", reorder_window = 1000000000000 }\n'; } > tr-window.toml
probe scenario 'trace `reorder_window = 10^12`' run tr-window.toml --out o
{ cat base.toml | sed -e '/^arrival/d' -e '/^service/d' -e '/^vcpus/d' -e '/^memory_gib = 1$/d';
  printf 'trace = { format = "csv", path = "c-ok.csv", time_scale = inf }\n'; } > tr-scale.toml
probe scenario 'trace `time_scale = inf`' run tr-scale.toml --out o

# ---------------------------------------------------------------- calibration profile
"$BIN" scenario > /dev/null
cat > prof.toml <<'EOF'
[profile]
version = 1
EOF
probe profile 'a profile missing its fields' validate --profile prof.toml --out o
# A complete profile (every figure 1.0) with one figure changed per case.
stat='median = 1.0\np10 = 1.0\np90 = 1.0\np99 = 1.0\nmean = 1.0\nmin = 1.0\nmax = 1.0\nn = 1\n'
{ printf 'device_nominal_us = 500.0\n\n[host]\nhostname = "h"\ncpu_model = "c"\nkernel = "k"\ncore = 0\nboost = false\nmeasured_at = 0\nversion = "0"\n'
  for t in native_loop_rate guest_loop_rate cpu_speed exit_round_trip_us first_touch_us \
      first_touch_prefaulted_us vcpu_switch_us kick_latency_us vm_create_us vm_destroy_us \
      device_sleep_us device_file_us; do printf '\n[%s]\n' "$t"; printf "$stat"; done; } > good-profile.toml
awk '/^\[cpu_speed\]/{f=1} f && /^median/{sub(/1.0/,"nan"); f=0} {print}' good-profile.toml > nan-profile.toml
probe profile '`cpu_speed.median = nan`' validate --profile nan-profile.toml --out o
awk '/^\[vcpu_switch_us\]/{f=1} f && /^mean/{sub(/1.0/,"inf"); f=0} {print}' good-profile.toml > inf-profile.toml
probe profile '`vcpu_switch_us.mean = inf`' validate --profile inf-profile.toml --out o
{ cat good-profile.toml; printf '# '; head -c 10000000 /dev/zero | tr '\0' 'x'; echo; } > big-profile.toml
probe profile 'a 10 MB profile' validate --profile big-profile.toml --out o
# ---------------------------------------------------------------- CLI flags
probe cli '`--vms 1e12`' run base.toml --vms 1e12 --out o
probe cli '`--vms 10^12`' run base.toml --vms 1000000000000 --out o --no-vms
probe cli '`--replications 10^9`' run base.toml --replications 1000000000 --out o --no-vms
probe cli '`--threads 100000`' run base.toml --threads 100000 --out o
probe cli '`--seed -1`' run base.toml --seed -1 --out o
probe cli '`bench --vms 10^12`' bench --vms 1000000000000
probe cli '`exercise --processes 10^9`' exercise --policy fcfs --processes 1000000000 --seed 1
probe cli '`capacity --max 10^12`' capacity base.toml --slo 'p95_wait_s<=30' --max 1000000000000 --out o
probe cli '`capacity --load-scale nan`' capacity base.toml --slo 'p95_wait_s<=30' --max 4 --load-scale nan --out o
probe cli '`capacity --slo "p95_wait_s<=nan"`' capacity base.toml --slo 'p95_wait_s<=nan' --max 4 --out o
probe cli '`capacity --replications 2^63` (4 × it overflows u64)' capacity base.toml --slo 'p95_wait_s<=30' --max 4 --replications 9223372036854775807 --out o
probe cli '`capacity --replications 10^6`' capacity base.toml --slo 'p95_wait_s<=30' --max 4 --replications 1000000 --out o

# ---------------------------------------------------------------- sweeps
probe sweep '`--set workload.arrival.rate_per_s=nan`' sweep base.toml --set workload.arrival.rate_per_s=nan --out s1
probe sweep '`--set run.vms=1000000000000`' sweep base.toml --set run.vms=1000000000000 --out s2
VALS=$(python3 -c "print(','.join(str(i) for i in range(1, 2001)))")
probe sweep 'grid of 2000 × 2000 × 2000 cells (`--set K=1,2,…,2000` three times)' sweep base.toml --set hosts.pcpus="$VALS" --set run.seed="$VALS" --set hosts.count="$VALS" --out s3
probe sweep '`--replications 10^9`' sweep base.toml --replications 1000000000 --out s4
probe sweep '`--shard 3/0`' sweep base.toml --shard 3/0 --out s5
"$BIN" sweep base.toml --set hosts.pcpus=2,4 --out s6 > /dev/null 2>&1
sed -i 's/replications = 1/replications = nan/' s6/sweep.toml
probe sweep 'sweep.toml with `replications = nan`' merge s6 --out s7
"$BIN" sweep base.toml --set hosts.pcpus=2,4 --out s8 > /dev/null 2>&1
for f in s8/runs/*; do head -c 10000000 /dev/zero | tr '\0' '9' > "$f"; break; done
probe sweep 'a run file replaced by 10 MB of digits' merge s8 --out s9
