#!/usr/bin/env bash
# Feeds vmsched absurd and malformed inputs, one per row, and prints a Markdown table:
# input tried → exit status → what vmsched said (the first line of its error) or did.
# Every case runs under `timeout` and an address-space limit, so a case that would run
# for hours or exhaust memory shows up as such instead of taking the machine down.
#
#   scripts/hardening.sh [VMSCHED] > table.md     (default: target/release/vmsched)
#
# The cases are the rows of tests/data/hardening-cases.tsv, which tests/hardening.rs runs
# too (without the limits); docs/src/hardening.md holds the table this printed. Cases run in a
# temporary folder holding tests/data, so the file names in the messages are the short
# ones of the table. A case whose exit status is not the table's is marked.
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
export VMSCHED=$BIN

echo "| # | parser | input tried | command | exit | what vmsched did |"
echo "|---|---|---|---|---|---|"
N=0
while IFS=$'\t' read -r parser what setup args expected _; do
    case "$parser" in '#'* | parser | '') continue ;; esac
    N=$((N + 1))
    [ "$setup" = - ] && setup=:
    rm -f rss.txt cmd.txt
    # The setup, then the command with the limits, in a subshell (a setup may `cd`).
    ( source "$W/hardening-setup.sh"
      eval "$setup"
      eval "set -- $args"
      echo "vmsched $*" > "$W/cmd.txt"
      ulimit -v "$MEM_KB"
      exec /usr/bin/time -f '%M %e' -o "$W/rss.txt" timeout -s KILL "$SECS" "$BIN" "$@" ) \
        > "$W/out.txt" 2> "$W/err.txt" < /dev/null
    rc=$?
    read -r rss secs < <(tail -n 1 "$W/rss.txt" 2>/dev/null)
    if [ "$rc" = 137 ] || [ "$rc" = 124 ]; then
        msg="**killed after ${SECS} s** (still running)"
    elif [ "$rc" = 0 ]; then
        msg="ran to the end in $(printf '%.1f' "$secs") s, peak RSS $((rss / 1024)) MiB"
    else
        msg=$( (grep -m1 '^error' "$W/err.txt" || grep -v '^\s*$' "$W/err.txt" | grep -v '^Command terminated' | head -n 1) | cut -c1-400)
        [ ${#msg} -gt 200 ] && msg="${msg:0:180} […]"
        case "$msg" in *panicked*) msg="**PANIC** $msg" ;; esac
        if grep -q 'memory allocation of' "$W/err.txt"; then msg="**OUT OF MEMORY** $msg"; fi
    fi
    [ "$rc" = "$expected" ] || msg="**exit $rc, the table expects $expected** $msg"
    cmd=$(cat "$W/cmd.txt" 2>/dev/null)
    [ ${#cmd} -gt 160 ] && cmd="${cmd:0:150} …"
    # Markdown: escape the pipe characters of messages and commands.
    msg=${msg//|/\\|}
    cmd=${cmd//|/\\|}
    echo "| $N | $parser | $what | \`$cmd\` | $rc | $msg |"
done < "$DATA/hardening-cases.tsv"
