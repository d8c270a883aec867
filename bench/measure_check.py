"""Helper of bench/measure-check.sh: checks tunegrid's measurements against independent ones on
the runs of a Python-only batch.

  localize <plan> <out-plan> --tokenizer DIR   copy a plan, pointing missing tokenizer paths at DIR
  compare <plan> <runs> --out DIR              write measure-check.md / .json

Per run: NVML energy-counter delta vs trapezoid-integrated power over the same steady window
(target: within 5%); NVML device-memory peak vs torch's peak reserved/allocated (NVML also sees
the CUDA context and non-torch memory, so it should be the larger); the adaptive stop (steps and
seconds to a ±2% CI). Per cell: analytic FLOPs/token (flops.py, 4·N_mm + 6·N_lora + 3·A, plus the
checkpointing recompute for HFU) vs torch.utils.flop_counter.FlopCounterMode on one
forward+backward of a batch of unpadded sequences of max_seq_len tokens (target: within 10%).
These are computed here from the raw events, independently of ledger/results.sql."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Optional


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def localize(plan: Path, out: Path, tokenizer: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(plan.glob("*.json")):
        spec = json.loads(f.read_text())
        tok = spec.get("tokenizer") or {}
        if f.name != "manifest.json" and tok.get("source") == "file" and not Path(tok["path"]).exists():
            spec["tokenizer"]["path"] = tokenizer
        (out / f.name).write_text(json.dumps(spec, indent=2))


def counter_joules(samples: list[dict], t: float) -> Optional[float]:
    """NVML energy counter (mJ → J) at time t, interpolated between the samples around it."""
    pts = sorted((s["t"], s["energy_mj"]) for s in samples if s.get("energy_mj") is not None)
    before = [p for p in pts if p[0] <= t]
    after = [p for p in pts if p[0] >= t]
    if not before or not after:
        return None
    (ta, ea), (tb, eb) = before[-1], after[0]
    e = ea if tb == ta else ea + (eb - ea) * (t - ta) / (tb - ta)
    return e / 1000.0


def integrated_joules(samples: list[dict], w0: float, w1: float) -> Optional[float]:
    pts = sorted((s["t"], s["power_w"]) for s in samples if s.get("power_w") is not None)
    if not pts or pts[0][0] > w0 or pts[-1][0] < w1:
        return None
    total = 0.0
    for (ta, pa), (tb, pb) in zip(pts, pts[1:]):
        overlap = min(tb, w1) - max(ta, w0)
        if overlap > 0:
            total += (pa + pb) / 2 * overlap
    return total


def second_clocks(run_id: str, steps: list[dict], cut: int, n: int, cuda_dir: Optional[Path], bare_dir: Optional[Path]) -> dict:
    """The window's tok/s by two other clocks: CUDA events recorded at the end of each step of the
    same run (bench/cuda_events: GPU time from the end of step cut−1 to the end of the last window
    step), and the bare loop (bench/bare_loop.py: the same cell, trainer alone, no sampler, no
    events, no per-step sync) over as many steps after as many warm-up steps."""
    out: dict = {}
    win = steps[cut:cut + n]
    tokens = sum(s["tokens"] for s in win)
    f = cuda_dir and cuda_dir / f"{run_id}.json"
    if f and f.exists() and cut >= 1:
        rec = json.loads(f.read_text())
        at = {s: ms for s, ms in zip(rec["steps"], rec["end_ms"])}
        a, b = steps[cut - 1]["step"], win[-1]["step"]
        if a in at and b in at:
            gpu_s = (at[b] - at[a]) / 1000
            host_s = win[-1]["t_end"] - steps[cut - 1]["t_end"]  # the same span on the host clock
            out.update(tok_s_cuda=tokens / gpu_s, cuda_span_s=gpu_s, host_span_s=host_s)
    f = bare_dir and bare_dir / f"{run_id}.json"
    if f and f.exists():
        bare = json.loads(f.read_text())
        out.update(bare_tok_s=bare["tok_s_cuda"] or bare["tok_s_host"], bare_steps=bare["steps"],
                   bare_tokens=bare["tokens"], bare_warmup=bare["warmup_steps"])
    return out


def run_figures(run_dir: Path, cuda_dir: Optional[Path] = None, bare_dir: Optional[Path] = None) -> dict:
    from tunegrid_trainer.stop import rate_ci

    events = read_jsonl(run_dir / "trainer.jsonl")
    sampler = read_jsonl(run_dir / "sampler.jsonl")
    from tunegrid_trainer.spec import upgrade  # noqa: E402

    spec = upgrade(json.loads((run_dir / "cell.json").read_text()))  # run folders planned before #19 too
    started = next((e for e in events if e["event"] == "started"), None)
    finished = next((e for e in events if e["event"] == "finished"), None)
    failed = next((e for e in events if e["event"] == "failed"), None)
    steps = [e for e in events if e["event"] == "step"]
    header = next((e for e in sampler if e["event"] == "sampler"), {})
    samples = [e for e in sampler if e["event"] == "sample"]
    out: dict = {"run": run_dir.name[:8], "gradient_checkpointing": spec["gradient_checkpointing"],
                 "outcome": finished["reason"] if finished else f"failed {failed and failed['kind']}: {failed and failed['message']}"}
    if not finished or not steps:
        return out
    cut, n = finished["warmup_steps"], finished["window_steps"]
    win = steps[cut:cut + n]
    w0, w1 = win[0]["t_start"], win[-1]["t_end"]
    ci = rate_ci([s["tokens"] for s in win], [s["t_start"] for s in win], [s["t_end"] for s in win])
    e0, e1 = counter_joules(samples, w0), counter_joules(samples, w1)
    counter = None if e0 is None or e1 is None else e1 - e0
    integrated = integrated_joules(samples, w0, w1)
    nvml_peak = max((s["mem_used_mib"] for s in samples if s.get("mem_used_mib") is not None), default=None)
    model = started["model"]
    out.update(
        steps=len(steps), warmup_steps=cut, warmup_s=w0 - steps[0]["t_start"], window_steps=n, window_s=w1 - w0,
        tok_s=ci.tok_s if ci else None, ci_rel=ci.rel if ci else None,
        energy_counter_j=counter, energy_integrated_j=integrated,
        counter_vs_integrated=None if counter is None or not integrated else counter / integrated - 1,
        mean_power_w=None if counter is None else counter / (w1 - w0), idle_power_w=header.get("idle_power_w"),
        nvml_peak_mib=nvml_peak, torch_peak_reserved_mib=steps[-1]["mem_peak_reserved_mib"],
        torch_peak_allocated_mib=steps[-1]["mem_peak_allocated_mib"], gpu_total_mib=header.get("memory_total_mib"),
        flops_per_token=model["flops_per_token"], flops_per_token_hfu=model["flops_per_token_hfu"],
        gpu_peak_tflops=model["gpu_peak_tflops"], gpu=started["env"]["gpu_name"],
    )
    out.update(second_clocks(run_dir.name, steps, cut, n, cuda_dir, bare_dir))
    if ci and out.get("tok_s_cuda"):
        out["ledger_vs_cuda"] = ci.tok_s / out["tok_s_cuda"] - 1
    if ci and out.get("bare_tok_s"):
        out["harness_vs_bare"] = ci.tok_s / out["bare_tok_s"] - 1
    if ci and model["gpu_peak_tflops"]:
        out["mfu"] = model["flops_per_token"] * ci.tok_s / (model["gpu_peak_tflops"] * 1e12)
        out["hfu"] = model["flops_per_token_hfu"] * ci.tok_s / (model["gpu_peak_tflops"] * 1e12)
    return out


def flop_check(spec: dict) -> dict:
    """Analytic vs counted FLOPs per token on one forward+backward of batch_size × max_seq_len
    unpadded tokens (so the token-weighted mean length is exactly max_seq_len)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tunegrid_trainer.flops import flops_per_token, recompute_flops_per_token
    from tunegrid_trainer.models import TORCH_DTYPES, build_model, model_facts

    device = "cuda" if torch.cuda.is_available() else "cpu"
    lora, quant = spec["lora"], spec["quant"] or {}
    built = build_model(
        source=spec["model"]["source"], where=spec["model"].get("name") or spec["model"].get("id") or spec["model"].get("path"),
        method=spec["method"], lora_r=lora["r"], lora_alpha=lora["lora_alpha"], lora_dropout=lora["lora_dropout"],
        target_modules=lora["target_modules"], quant_type=quant.get("bnb_4bit_quant_type"), double_quant=quant.get("bnb_4bit_use_double_quant"),
        compute_dtype=quant.get("bnb_4bit_compute_dtype"), precision=spec["precision"],
        gradient_checkpointing=spec["gradient_checkpointing"], device=device,
    )
    model, facts = built.model, model_facts(built.model)
    # FlopCounterMode cannot count SDPA with grouped-query K/V (Qwen2.5: 14 query, 2 KV heads);
    # eager attention runs the same score and value matmuls as explicit bmm calls it can count.
    model.get_base_model().config._attn_implementation = "eager"
    batch, length = min(spec["batch_size"], 2), spec["max_seq_length"]  # per-token counts do not depend on the batch
    ids = torch.randint(0, facts["vocab"], (batch, length), device=device)
    model.train()
    autocast = torch.autocast(device_type=device, dtype=TORCH_DTYPES[spec["precision"]]) if spec["precision"] != "fp32" else None
    counter = FlopCounterMode(display=False)
    with counter:
        if autocast:
            with autocast:
                loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids).loss
        else:
            loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids).loss
        loss.backward()
    counted = counter.get_total_flops() / (batch * length)
    analytic = flops_per_token(facts["n_mm"], facts["n_lora"], facts["attn_flops_per_token_per_seq_len"], float(length))
    recompute = recompute_flops_per_token(facts["n_mm"], facts["n_lora"], facts["vocab"] * facts["hidden"],
                                          facts["attn_flops_per_token_per_seq_len"], float(length), spec["gradient_checkpointing"])
    expected = analytic + recompute  # what the hardware ran: the recompute is executed too
    del model, built
    if device == "cuda":
        torch.cuda.empty_cache()
    return dict(gradient_checkpointing=spec["gradient_checkpointing"], tokens=batch * length, device=device,
                analytic_flops_per_token=analytic, analytic_with_recompute=expected, counted_flops_per_token=counted,
                counted_vs_analytic=counted / expected - 1)


def fmt(v, spec: str = ".1f") -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return format(v, spec) if isinstance(v, (int, float)) else str(v)


def report(runs: list[dict], flops: list[dict]) -> str:
    lines = ["# tunegrid measurement check", ""]
    gpu = next((r.get("gpu") for r in runs if r.get("gpu")), "no GPU")
    lines += [f"GPU: {gpu}", "", "## Steady window, energy and memory (per run)", "",
              "| run | ckpt | outcome | steps | warm-up cut | window | tok/s | CI ± | counter J | integrated J | counter vs integrated | within 5% | idle W | mean W | NVML peak MiB | torch reserved MiB | torch alloc MiB | NVML − reserved | MFU | HFU |",
              "|" + " --- |" * 20]
    for r in runs:
        diff = r.get("counter_vs_integrated")
        nvml, res = r.get("nvml_peak_mib"), r.get("torch_peak_reserved_mib")
        lines.append("| " + " | ".join([
            r["run"], fmt(r["gradient_checkpointing"]), r["outcome"], fmt(r.get("steps"), "d"),
            f"{fmt(r.get('warmup_steps'), 'd')} steps / {fmt(r.get('warmup_s'))} s", f"{fmt(r.get('window_steps'), 'd')} steps / {fmt(r.get('window_s'))} s",
            fmt(r.get("tok_s")), fmt(None if r.get("ci_rel") is None else 100 * r["ci_rel"], ".2f") + "%",
            fmt(r.get("energy_counter_j")), fmt(r.get("energy_integrated_j")), fmt(None if diff is None else 100 * diff, "+.2f") + "%",
            fmt(None if diff is None else abs(diff) <= 0.05), fmt(r.get("idle_power_w")), fmt(r.get("mean_power_w")),
            fmt(nvml, ".0f"), fmt(res, ".0f"), fmt(r.get("torch_peak_allocated_mib"), ".0f"),
            fmt(None if nvml is None or res is None else nvml - res, ".0f"),
            fmt(None if r.get("mfu") is None else 100 * r["mfu"]) + "%", fmt(None if r.get("hfu") is None else 100 * r["hfu"]) + "%",
        ]) + " |")
    lines += ["", "## tok/s by other clocks: CUDA events on the same steps; the trainer alone (bare loop, same cell)", "",
              "| run | window tok/s (ledger rule) | CUDA-event tok/s, same steps | ledger vs CUDA | within 1% | bare-loop tok/s (same warm-up, same step count) | tunegrid vs bare | within 1% |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        lc, hb = r.get("ledger_vs_cuda"), r.get("harness_vs_bare")
        lines.append("| " + " | ".join([
            r["run"], fmt(r.get("tok_s")), fmt(r.get("tok_s_cuda")), fmt(None if lc is None else 100 * lc, "+.3f") + "%",
            fmt(None if lc is None else abs(lc) <= 0.01), fmt(r.get("bare_tok_s")),
            fmt(None if hb is None else 100 * hb, "+.2f") + "%", fmt(None if hb is None else abs(hb) <= 0.01),
        ]) + " |")
    lines += ["", "## FLOPs per token: analytic (flops.py) vs torch.utils.flop_counter, one forward+backward", "",
              "| ckpt | tokens | analytic (model) | analytic + recompute | counted | counted vs analytic+recompute | within 10% |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for f in flops:
        lines.append(f"| {fmt(f['gradient_checkpointing'])} | {f['tokens']} | {f['analytic_flops_per_token']:.4e} | "
                     f"{f['analytic_with_recompute']:.4e} | {f['counted_flops_per_token']:.4e} | {100 * f['counted_vs_analytic']:+.2f}% | "
                     f"{fmt(abs(f['counted_vs_analytic']) <= 0.10)} |")
    return "\n".join(lines) + "\n"


def compare(plan: Path, runs_dir: Path, out: Path, cuda_dir: Optional[Path] = None, bare_dir: Optional[Path] = None,
            count_flops: bool = True) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "trainer"))
    runs = [run_figures(d, cuda_dir, bare_dir) for d in sorted(runs_dir.iterdir()) if (d / "cell.json").exists()]
    # the first cell, with checkpointing off and on (a cell's "auto" is decided only when it runs)
    from tunegrid_trainer.spec import upgrade

    spec = next(upgrade(json.loads(f.read_text())) for f in sorted(plan.glob("*.json")) if f.name != "manifest.json")
    flops = [flop_check({**spec, "gradient_checkpointing": on}) for on in (False, True)] if count_flops else []
    out.mkdir(parents=True, exist_ok=True)
    (out / "measure-check.json").write_text(json.dumps({"runs": runs, "flops": flops}, indent=2))
    text = report(runs, flops)
    (out / "measure-check.md").write_text(text)
    print(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    loc = sub.add_parser("localize")
    loc.add_argument("plan", type=Path)
    loc.add_argument("out", type=Path)
    loc.add_argument("--tokenizer", required=True)
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("plan", type=Path)
    cmp_.add_argument("runs", type=Path)
    cmp_.add_argument("--out", type=Path, required=True)
    cmp_.add_argument("--cuda", type=Path, help="bench/cuda_events output folder")
    cmp_.add_argument("--bare", type=Path, help="bench/bare_loop.py output folder")
    cmp_.add_argument("--no-flops", action="store_true", help="skip the FLOP count (one model build per checkpointing setting)")
    cut = sub.add_parser("window", help="print 'run_id warmup_steps window_steps' of each finished run (for the bare loop)")
    cut.add_argument("runs", type=Path)
    args = parser.parse_args(argv)
    if args.command == "localize":
        localize(args.plan, args.out, args.tokenizer)
        if not (args.plan / "manifest.json").exists():
            print(f"warning: {args.plan}/manifest.json missing: the runs cannot be ingested", file=sys.stderr)
        else:
            shutil.copyfile(args.plan / "manifest.json", args.out / "manifest.json")
    elif args.command == "window":
        for d in sorted(args.runs.iterdir()):
            fin = next((e for e in read_jsonl(d / "trainer.jsonl") if e["event"] == "finished"), None)
            if fin and fin["window_steps"]:
                print(d.name, fin["warmup_steps"], fin["window_steps"])
    else:
        compare(args.plan, args.runs, args.out, args.cuda, args.bare, not args.no_flops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
