#!/usr/bin/env bash
# A queue of plan folders on a Python-only GPU box, run in the background so that one batch of
# GPU work can outlast a single device command (each ≤ 10 min): `start` copies what the queue
# needs out of the working tree (which the next command replaces) into /tmp/q, installs the
# carried wheels and starts the queue detached; `wait <seconds>` follows it until it ends or the
# time is up, then packs every run folder so far into $OUT (one .tgz per plan, plus the log).
# Each plan is a cell plan (`tunegrid plan`, run by tunegrid_trainer.batch) or a fit plan
# (`tunegrid fit --plan`, fit.json, run by tunegrid_trainer.fit).
# usage: bash bench/gpu_queue.sh start <plan-dir>...   (carry: .whl, .device)
#        bash bench/gpu_queue.sh wait <seconds>
set -u
Q=/tmp/q
case "$1" in
  start)
    shift
    rm -rf "$Q" && mkdir -p "$Q/plans" "$Q/runs"
    cp -r trainer bench "$Q/" && rm -rf /tmp/tok && cp -r .device/tok /tmp/tok
    for p in "$@"; do cp -r "$p" "$Q/plans/"; done
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl > "$Q/pip.log" 2>&1
    cat > "$Q/run.sh" <<'RUN'
export PYTHONPATH=/tmp/site:/tmp/q/trainer PYTHONUNBUFFERED=1
cd /tmp/q
python3 bench/long_rows.py --out /tmp/long2048.jsonl
python3 -c "import torch, transformers, peft, trl, datasets, pyarrow, bitsandbytes; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'trl', trl.__version__, 'datasets', datasets.__version__, 'pyarrow', pyarrow.__version__, 'bitsandbytes', bitsandbytes.__version__)" > runs/versions.txt 2>&1
nvidia-smi > runs/nvidia-smi.txt 2>&1
for plan in plans/*; do
  name=$(basename "$plan")
  if [ -f "$plan/fit.json" ]; then module=tunegrid_trainer.fit; else module=tunegrid_trainer.batch; fi
  echo "$(date +%T) start $name ($module)" >> job.log
  python3 -m "$module" "$plan" --out "runs/$name" >> "job-$name.log" 2>&1
  echo "$(date +%T) end $name exit $?" >> job.log
done
touch ALLDONE
RUN
    setsid nohup bash "$Q/run.sh" > "$Q/queue.out" 2>&1 < /dev/null &
    echo "queue started: $(ls "$Q/plans" | tr '\n' ' ')"
    ;;
  wait)
    end=$(( $(date +%s) + $2 ))
    while [ ! -f "$Q/ALLDONE" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 5; done
    cat "$Q/job.log" 2>/dev/null; tail -3 "$Q"/job-*.log 2>/dev/null
    [ -f "$Q/ALLDONE" ] && echo "queue: all done" || echo "queue: still running"
    for d in "$Q"/runs/*/; do n=$(basename "$d"); tar czf "$OUT/$n.tgz" -C "$Q/runs" "$n"; done
    tar czf "$OUT/logs.tgz" -C "$Q" job.log pip.log queue.out $(cd "$Q" && ls job-*.log 2>/dev/null) runs/versions.txt runs/nvidia-smi.txt 2>/dev/null
    ls -la "$OUT"
    ;;
esac
