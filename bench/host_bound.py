"""Is a cell bound by the host or by the GPU? (issue #7: QLoRA against LoRA at 8k tokens/step)

Runs a planned cell through the trainer's own `prepare` and `Stepper`, with the measured loop's
shape (next micro-batch built ahead, one synchronisation per step), and times each step twice on
the host clock: until the CPU has queued the step's last kernel (just before the synchronisation)
and until the GPU has finished it. Then a few more steps under `torch.profiler`: the time the GPU
spent in kernels (union of kernel intervals) and the host-side operators with the most self CPU
time, per step.

  python bench/host_bound.py CELL.json --warmup N --steps M [--profile K] [--stock-4bit] [--out FILE]

A step whose enqueue time is close to its wall time, with kernel-busy time well below it, keeps
the GPU waiting for the CPU: a faster CPU, fewer launches or more tokens per step help, faster
kernels do not. Prints a table and writes one JSON object to --out (with each timed step's loss,
so two runs of one cell can be checked to have trained alike).

--stock-4bit keeps bitsandbytes' own Linear4bit in a compiled QLoRA cell (the trainer otherwise
dequantizes inside the compiled layers, `tunegrid_trainer/quant4.py`): the same cell before and
after, in one device session."""

from __future__ import annotations

import statistics
import sys
import time

import cell_bench

TOP_OPS = 8


def busy_length(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of [start, end) intervals (same unit in, same unit out)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def main(argv=None) -> int:
    parser = cell_bench.arguments(__doc__, "steps before timing starts (compilation, allocator)",
                                  "timed steps, without the profiler")
    parser.add_argument("--profile", type=int, default=3, help="steps under torch.profiler after the timed ones")
    parser.add_argument("--stock-4bit", action="store_true",
                        help="compiled QLoRA through bitsandbytes' Linear4bit, as before quant4")
    args = parser.parse_args(argv)
    if args.stock_4bit:
        from tunegrid_trainer import quant4

        quant4.dequantize_in_graph = lambda model: 0

    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    from tunegrid_trainer import packing

    cell = cell_bench.load(args.spec)
    spec, ready, stepper, cuda, sync = cell.spec, cell.ready, cell.stepper, cell.cuda, cell.sync
    batches = packing.Lookahead(ready.batches, ready.options.device)

    def step() -> tuple[float, float, int, float]:
        """→ (enqueue seconds, wall seconds, real tokens, loss) of one step as the measured loop runs it."""
        sync()
        t0 = time.perf_counter()
        loss, tokens, _, _ = stepper.forward_backward(batches)
        stepper.update()
        batches.fill()
        queued = time.perf_counter()
        sync()
        return queued - t0, time.perf_counter() - t0, tokens, float(loss)

    import torch

    for _ in range(args.warmup):
        step()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    timed = [step() for _ in range(args.steps)]
    peak_mib = torch.cuda.max_memory_allocated() / 2**20 if cuda else None

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        profiled = [step() for _ in range(args.profile)]
    kernels = [(e.time_range.start, e.time_range.end) for e in prof.events() if e.device_type == DeviceType.CUDA]
    n = max(1, args.profile)  # the profiler's times are µs summed over the profiled steps
    ops = sorted(prof.key_averages(), key=lambda a: a.self_cpu_time_total, reverse=True)[:TOP_OPS]

    enqueue_ms = statistics.median(t[0] for t in timed) * 1e3
    wall_ms = statistics.median(t[1] for t in timed) * 1e3
    result = {
        "run_id": spec.run_id, "cell_hash": spec.cell_hash, "stock_4bit": args.stock_4bit,
        "warnings": cell.ready.started.warnings, "torch_peak_mib": peak_mib,
        "warmup_steps": args.warmup, "steps": args.steps, "losses": [t[3] for t in timed],
        "tokens_per_step": statistics.median(t[2] for t in timed),
        "wall_ms": wall_ms, "enqueue_ms": enqueue_ms,
        "tok_s": sum(t[2] for t in timed) / sum(t[1] for t in timed),
        "profiled_steps": args.profile,
        "profiled_wall_ms": statistics.median(t[1] for t in profiled) * 1e3 if profiled else None,
        "gpu_busy_ms": busy_length(kernels) / 1e3 / n if cuda else None,
        "kernels_per_step": len(kernels) / n if cuda else None,
        "top_cpu_ops": [{"name": a.key, "calls_per_step": a.count / n,
                         "self_cpu_ms_per_step": a.self_cpu_time_total / 1e3 / n}
                        for a in ops],
    }
    busy, kernels_n = result["gpu_busy_ms"], result["kernels_per_step"]
    fmt = lambda x, spec: "—" if x is None else format(x, spec)  # noqa: E731
    idle = None if busy is None else 100 * (1 - busy / wall_ms)  # kernel times do not depend on the profiler
    print(f"cell {spec.run_id}: {result['tokens_per_step']:.0f} tokens/step, {result['tok_s']:.1f} tok/s over {args.steps} steps,"
          f" torch peak {fmt(peak_mib, '.0f')} MiB")
    print("| wall ms/step | host enqueue ms/step | GPU kernel-busy ms/step (profiled) | kernels/step | GPU idle % |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| {wall_ms:.1f} | {enqueue_ms:.1f} | {fmt(busy, '.1f')} | {fmt(kernels_n, '.0f')} | {fmt(idle, '.0f')} |")
    print("\n| host op (most self CPU time) | calls/step | self CPU ms/step |\n| --- | --- | --- |")
    for op in result["top_cpu_ops"]:
        print(f"| {op['name']} | {op['calls_per_step']:.0f} | {op['self_cpu_ms_per_step']:.2f} |")
    cell_bench.write(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
