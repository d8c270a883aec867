// A grid that runs end to end on a 2-core CPU in under two minutes: the tiny preset (random
// weights, Qwen2 architecture, real Qwen tokenizer) on synthetic Alpaca-like data, comparing two
// batch sizes and two learning rates. Each cell: 3 warm-up steps, then a 12-step window.
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "demo",
  description: "CPU smoke grid: tiny preset, synthetic instructions, batch × learning rate",
  base: {
    model: "preset:tiny",
    device: "cpu",
    precision: "fp32",
    maxSeqLength: 128,
    datasetSamples: 256,
    gradientCheckpointing: false,
    learningRate: 1e-3
  },
  axes: {
    batchSize: [1, 4],
    learningRate: [3e-3, 1e-2]
  },
  seeds: [42],
  // 12 steps on a shared CPU give tok/s CIs of ±60–150% (measured); the CI is reported, but a
  // smoke grid sets no target, so its runs count as steady once their window is complete.
  measure: { warmup: "3 steps", window: "12 steps", ciTarget: null, maxDuration: "60s" }
})
