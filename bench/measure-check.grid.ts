// The GPU check of issue #3 (bench/measure-check.sh) on issue #7's headline cell: Qwen2.5-1.5B
// preset (random weights, bundled Qwen tokenizer, synthetic Alpaca-like data), LoRA r16 on every
// linear projection, bf16, all speed levers (packed, fused loss, per-layer compile, checkpointing
// decided by the memory probe) at 16k tokens per step. Packed token-budget steps carry nearly the
// same tokens each, so tok/s settles; the cell stops by itself once tok/s has a ±2% CI after a
// 60 s window (warm-up detected, compilation included), or at 200 s marked not steady.
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "measure-check",
  description:
    "ledger tok/s vs CUDA events and the bare trainer, energy counter vs integrated power, NVML vs torch memory, analytic vs counted FLOPs, adaptive stop",
  base: {
    model: "preset:qwen2.5-1.5b",
    tokenizer: "qwen-offline",
    dataset: "synthetic",
    datasetSamples: 5000,
    method: "lora",
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    precision: "bf16",
    maxSeqLength: 2048,
    device: "cuda"
  },
  cells: [
    { label: "all-levers-16k", padding: "packed", lossKernel: "fused", gradientCheckpointing: "auto", compile: true, tokensPerStep: 16384 }
  ],
  seeds: [42],
  measure: { warmup: { detect: { floor: "10s", cap: "90s" } }, window: "adaptive", minWindow: "60s", ciTarget: 0.02, maxDuration: "200s" }
})
