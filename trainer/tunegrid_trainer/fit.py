"""The fit frontier where the runner is not (PROTOCOL.md §4b): `python -m tunegrid_trainer.fit
<plan-dir> --out <runs-dir>` runs the searches of a plan written by `tunegrid fit <grid> --plan
<plan-dir>`: probes (the cell's spec with `probe` on, at each value fit_search picks) as sampler +
trainer pairs like `batch`, then a measured run at each frontier. It writes one folder per run and
`searches.jsonl` (which run was which probe, and each search's decision) for `tunegrid ingest`, and
resumes from that file when run again on the same --out."""

from __future__ import annotations

import argparse
import copy
import json
import sys
import uuid
from pathlib import Path
from typing import Optional

from .run_folder import add_runner_args, copy_plan_facts, run_cell
from .fit_search import Bounds, Done, next_probe


def _events(run_dir: Path) -> list[dict]:
    try:
        lines = (run_dir / "trainer.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            break  # a protocol error: what follows is not trusted
    return events


def probe_answer(run_dir: Path, cap_mib: float, headroom: float) -> tuple[str, Optional[bool], str]:
    """(outcome, fits, words) of a probe's folder: completed (fits when torch's peak allocation is
    within the headroom of the cap), oom (does not fit), or anything else (no answer about memory)."""
    events = _events(run_dir)
    failed = next((e for e in events if e.get("event") == "failed"), None)
    finished = next((e for e in events if e.get("event") == "finished"), None)
    memory = [e for e in events if e.get("event") == "memory"]
    if failed is not None:
        if failed.get("kind") == "oom":
            return "oom", False, f"out of memory under the {cap_mib:g} MiB cap"
        return "failed", None, f"failed {failed.get('kind')}: {failed.get('message')}"
    if finished is None or not memory:
        return "failed", None, "ended without a finished event and a memory report"
    peak = memory[-1]["torch_peak_allocated_mib"]
    fits = peak <= (1 - headroom) * cap_mib
    return "completed", fits, f"{'fits' if fits else 'over the headroom'}: torch peak {peak:,.0f} MiB allocated of the {cap_mib:g} MiB cap"


def _record(log: Path, entry: dict) -> None:
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def _run(spec: dict, out: Path, args, idle_ms: int) -> Path:
    spec_file = out / "specs" / f"{spec['run_id']}.json"
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(json.dumps(spec, indent=2))
    return run_cell(spec_file, out, args.python, args.sampler_mode, args.interval_ms, idle_ms)


def run_search(s: dict, plan: dict, out: Path, log: Path, past: list[dict], args) -> None:
    sid, key, cap = s["search_id"], s["spec_key"], s["budget"]["capMib"]
    bounds = Bounds(**s["bounds"])
    outcomes: dict[int, bool] = {}
    for e in past:
        if e["kind"] == "probe":
            outcome, fits, _ = probe_answer(out / e["run_id"], cap, plan["headroom"])
            if fits is not None:
                outcomes[e["value"]] = fits
    decision = next((e for e in past if e["kind"] == "done"), None)
    while decision is None:
        nxt = next_probe(outcomes, bounds)
        if isinstance(nxt, Done):
            decision = {"search_id": sid, "kind": "done", "frontier": nxt.frontier, "reason": nxt.reason, "probes": len(outcomes)}
            _record(log, decision)
            break
        spec = copy.deepcopy(s["probe_spec"])
        spec.update({key: nxt, "run_id": str(uuid.uuid4()), "cell_hash": f"fit-probe:{sid[:12]}:{nxt}"})
        run_dir = _run(spec, out, args, idle_ms=0)
        _record(log, {"search_id": sid, "kind": "probe", "value": nxt, "run_id": spec["run_id"]})
        outcome, fits, words = probe_answer(run_dir, cap, plan["headroom"])
        print(f"{s['name']}: probe {s['field']} {nxt}: {words}", file=sys.stderr, flush=True)
        if fits is None:
            print(f"{s['name']}: search stopped: the probe gave no answer about memory; run again to retry", file=sys.stderr)
            return
        outcomes[nxt] = fits
    frontier = decision["frontier"]
    print(
        f"{s['name']}: largest {s['field']} that fits on {s['budget']['name']}: {frontier} ({decision['reason']})",
        file=sys.stderr,
        flush=True,
    )
    if frontier is None or not args.measure or any(e["kind"] == "measured" for e in past):
        return
    spec = copy.deepcopy(s["frontier_spec"])
    spec.update({key: frontier, "run_id": str(uuid.uuid4()), "cell_hash": f"fit-frontier:{sid[:12]}:{frontier}"})
    _run(spec, out, args, idle_ms=args.idle_ms)
    _record(log, {"search_id": sid, "kind": "measured", "value": frontier, "run_id": spec["run_id"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunegrid_trainer.fit", description=__doc__)
    parser.add_argument("plan_dir", type=Path)
    add_runner_args(
        parser, out_help="runs directory; one folder per probe and measured run", idle_help="idle power measured before each measured run"
    )
    parser.add_argument("--no-measure", dest="measure", action="store_false", help="find the frontiers only")
    args = parser.parse_args(argv)

    plan_file = args.plan_dir / "fit.json"
    if not plan_file.exists():
        print(f"no fit.json in {args.plan_dir} (write one with: tunegrid fit <grid> --plan {args.plan_dir})", file=sys.stderr)
        return 1
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fit.json").write_text(plan_file.read_text(encoding="utf-8"))
    copy_plan_facts(args.plan_dir, args.out, args.python)
    log = args.out / "searches.jsonl"
    past = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()] if log.exists() else []
    for s in plan["searches"]:
        run_search(s, plan, args.out, log, [e for e in past if e["search_id"] == s["search_id"]], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
