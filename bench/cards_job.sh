#!/usr/bin/env bash
# One device call for issues #16 and #17 (bench/results/cards-h200.md says which plans and why):
# install the carried wheels, then run each plan folder in turn — a cell plan through
# tunegrid_trainer.batch, a fit plan (fit.json) through tunegrid_trainer.fit — each within what is
# left of <seconds>, packing its runs folder into $OUT/<name>.tgz as it ends. A fit cut by the
# deadline resumes in a later call from its runs folder (carry .device/runs-<name> back).
# usage: bash bench/cards_job.sh <seconds> <plan-dir>...   (carry: .whl, .device)
set -u
deadline=$(( $(date +%s) + $1 )); shift
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/trainer PYTHONUNBUFFERED=1
rm -rf /tmp/tok && cp -r .device/tok /tmp/tok
python3 bench/long_rows.py --out /tmp/long2048.jsonl   # the playbook's full 4 × 2048 batches (same file as at plan time)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/nvidia-smi.csv" 2>&1
for plan in "$@"; do
  name=$(basename "$plan"); runs=.device/runs-$name
  left=$(( deadline - $(date +%s) ))
  [ "$left" -lt 90 ] && { echo "skipped $name: ${left}s left" >> "$OUT/job.log"; continue; }
  if [ -f "$plan/fit.json" ]; then module=tunegrid_trainer.fit; else module=tunegrid_trainer.batch; fi
  echo "$(date +%T) $module $plan (${left}s left)" >> "$OUT/job.log"
  timeout --signal=INT "$left" python3 -m "$module" "$plan" --out "$runs" >> "$OUT/job.log" 2>&1
  echo "$(date +%T) $name exit $?" >> "$OUT/job.log"
  tar czf "$OUT/$name.tgz" -C .device "runs-$name"
done
