#!/usr/bin/env bash
# Issue #21 part 1 on the CPU: the demo grid without and with pre-start, paired and interleaved
# (off on off on …, PAIRS pairs), each into its own ledger under OUT; prints the load beside each
# run and bench/grid_time.ts's table of each. Results: bench/results/grid-time-cpu.md.
#   bash bench/grid-time-cpu.sh [OUT=/tmp/grid-time] [PAIRS=2]
set -u
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/grid-time}
PAIRS=${2:-2}
export PATH=$PWD/node_modules/.bin:$PATH
mkdir -p "$OUT"
for i in $(seq 1 "$PAIRS"); do
  for mode in off on; do
    dir="$OUT/$i-$mode"
    rm -rf "$dir" && mkdir -p "$dir"
    flag=()
    [ "$mode" = on ] && flag=(--prestart)
    echo "== pair $i, prestart $mode; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    t0=$(date +%s.%N)
    node src/cli.ts run experiments/demo.ts --no-tui "${flag[@]}" --ledger "$dir/l.duckdb" > "$dir/out.txt" 2>&1
    echo "exit $?, runner wall $(echo "$(date +%s.%N) - $t0" | bc) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    node bench/grid_time.ts "$dir/.tunegrid/runs"
    grep -E "succeeded|failed" "$dir/out.txt" | sed 's/^/    /'
  done
done
