#!/usr/bin/env bash
# One device session's work for the speed table (bench/README.md): checks, then the tunegrid
# cells, then the HF Trainer peer cells, each run folder written as it goes.
# usage: bash bench/device_job.sh <carry-dir> <job-dir>   (carry: trainer/, bench/, cells-*/, tok/, *.whl)
set -u
C=$(realpath "$1"); J=$2
mkdir -p "$J"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$C"/*.whl
export PYTHONPATH=/tmp/site:$C/trainer PYTHONUNBUFFERED=1
rm -rf /tmp/tok && cp -r "$C/tok" /tmp/tok
nvidia-smi > "$J/nvidia-smi.txt" 2>&1
python3 -c "import torch, transformers, peft, inspect; from torch.nn.attention.varlen import varlen_attn; print(torch.__version__, transformers.__version__, peft.__version__, inspect.signature(varlen_attn))" > "$J/versions.txt" 2>&1
python3 "$C/bench/gpu_check.py" > "$J/gpu_check.json" 2> "$J/gpu_check.err"
python3 -m tunegrid_trainer.batch "$C/cells-speed" --out "$J/runs-speed" 2> "$J/batch-speed.log"
python3 "$C/bench/peer_batch.py" "$C/cells-peer" --out "$J/runs-peer" 2> "$J/batch-peer.log"
touch "$J/DONE"
