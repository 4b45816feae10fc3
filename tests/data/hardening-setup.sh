# Sourced (not run) before each case of hardening-cases.tsv, in the case's folder, which
# holds a copy of tests/data. Writes base.toml, the small valid scenario every scenario
# case starts from (one line changed per case), and defines the helpers the cases' setup
# column uses. Read by tests/hardening.rs and scripts/hardening.sh; $VMSCHED is the binary.

cat > base.toml <<'TOML'
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
TOML

# variant NAME 'sed expression': base.toml with one change, as NAME.
variant() { sed "$2" base.toml > "$1"; }

# base.toml followed by the lines given, as NAME: with_lines NAME 'line' 'line' …
with_lines() {
    local name=$1
    shift
    { cat base.toml; echo; printf '%s\n' "$@"; } > "$name"
}

# base.toml with its synthetic workload replaced by a trace: trace_scenario NAME 'TRACE TABLE'
trace_scenario() {
    { sed -e '/^arrival/d' -e '/^service/d' -e '/^vcpus/d' -e '/^memory_gib = 1$/d' base.toml
      echo "trace = $2"; } > "$1"
}

# N bytes of the character C, no newline: bytes N C
bytes() { head -c "$1" /dev/zero | tr '\0' "$2"; }

# One SWF job line: swf SUBMIT RUNTIME REQUESTED_TIME
swf() { printf '1 %s 0 %s 1 -1 -1 1 %s -1 1 1 1 1 1 -1 -1 -1\n' "$1" "$2" "$3"; }

# The header of the Alibaba pod list.
ALIBABA=name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time

# A fresh folder az/ holding the valid Azure excerpt of tests/data under the names the
# reader looks for beside az.txt.
azure_dir() {
    rm -rf az && mkdir az
    cp azure-v1.mini.txt az/az.txt
    cp azure-v1.mini.c1500.txt az/az.c1500.txt
    cp azure-flav_map.txt az/flav_map.txt
    cp azure-v1.interval_map.txt az/v1.interval_map.txt
}

# A complete calibration profile (every figure 1.0), as good-profile.toml.
good_profile() {
    local t stat='median = 1.0\np10 = 1.0\np90 = 1.0\np99 = 1.0\nmean = 1.0\nmin = 1.0\nmax = 1.0\nn = 1\n'
    { printf 'device_nominal_us = 500.0\n\n[host]\nhostname = "h"\ncpu_model = "c"\nkernel = "k"\ncore = 0\nboost = false\nmeasured_at = 0\nversion = "0"\n'
      for t in native_loop_rate guest_loop_rate cpu_speed exit_round_trip_us first_touch_us \
          first_touch_prefaulted_us vcpu_switch_us kick_latency_us vm_create_us vm_destroy_us \
          device_sleep_us device_file_us; do printf '\n[%s]\n' "$t"; printf "$stat"; done; } > good-profile.toml
}

# good-profile.toml with the FIELD of TABLE set to VALUE, as NAME: profile_with NAME TABLE FIELD VALUE
profile_with() {
    good_profile
    awk -v t="[$2]" -v f="$3" -v v="$4" '$0 == t {s=1} s && $1 == f {sub(/1\.0/, v); s=0} {print}' \
        good-profile.toml > "$1"
}

# A process table of N processes P0, P1, …: process_table N (all arriving at 0, burst 1),
# or process_table N priority (arriving at 0, 1, …, with a priority column).
process_table() {
    if [ "${2:-}" = priority ]; then
        echo 'name,arrival,burst,priority'; seq 0 $(($1 - 1)) | sed 's/.*/P&,&,1,0/'
    else
        echo 'name,arrival,burst'; seq 0 $(($1 - 1)) | sed 's/.*/P&,0,1/'
    fi
}

# base.toml with the line starting KEY replaced by a 20 MB list, as NAME:
# huge_list NAME service (an empirical distribution of 3·10^6 quantiles) or
# huge_list NAME vcpus (a weighted choice of 2·10^6 values).
huge_list() {
    sed -e "/^$2/d" base.toml > "$1"
    if [ "$2" = service ]; then
        python3 -c "print('service = { dist = \"empirical\", quantiles_s = [' + ', '.join(str(i) for i in range(3_000_000)) + '] }')"
    else
        python3 -c "print('vcpus = { values = [' + ', '.join('1' for i in range(2_000_000)) + '], weights = [' + ', '.join('1' for i in range(2_000_000)) + '] }')"
    fi >> "$1"
}

# A finished two-run sweep of base.toml into the folder DIR.
sweep_into() { "$VMSCHED" sweep base.toml --set hosts.pcpus=2,4 --out "$1" > /dev/null 2>&1; }
