"""Alpaca rows long enough that every sample fills max_seq_len (the playbook's "full 4 × 2048"
batches, issue #16): `python bench/long_rows.py --rows 64 --tokens 2200 --out /tmp/long2048.jsonl`.
Seeded word text from the synthetic set's generator, so the file (and the cell hash, which digests
it) is the same on every machine; throughput and memory do not depend on what the words say."""

import argparse
import json
import random

from tunegrid_trainer.synthetic import _text

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=64)
parser.add_argument("--tokens", type=int, default=2200, help="about this many tokens of output per row")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", required=True)
args = parser.parse_args()

rng = random.Random(args.seed)
with open(args.out, "w", encoding="utf-8") as f:
    for _ in range(args.rows):
        f.write(json.dumps({"instruction": _text(rng, 20), "input": "", "output": _text(rng, args.tokens)}) + "\n")
