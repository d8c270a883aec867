// The GPU check of issue #3 (bench/measure-check.sh): one LoRA cell of the qwen2.5-0.5b preset
// (random weights, bundled Qwen tokenizer, synthetic Alpaca-like data) with and without gradient
// checkpointing, each stopping by itself once tok/s has a ±2% CI after a 60 s window (detected
// warm-up), or at 150 s marked not steady. Two cells fit in one 10-minute device command.
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "measure-check",
  description: "energy counter vs integrated power, NVML vs torch memory, analytic vs counted FLOPs, adaptive stop",
  base: {
    model: "preset:qwen2.5-0.5b",
    tokenizer: "qwen-offline",
    dataset: "synthetic",
    datasetSamples: 2000,
    method: "lora",
    precision: "bf16",
    batchSize: 4,
    maxSeqLength: 512,
    device: "cuda"
  },
  axes: { gradientCheckpointing: [false, true] },
  seeds: [42],
  measure: { warmup: { detect: { floor: "5s", cap: "60s" } }, window: "adaptive", minWindow: "60s", ciTarget: 0.02, maxDuration: "120s" }
})
