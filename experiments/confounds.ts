// The full factorial that separates the reference study's confounded factors: optimizer ×
// precision × batch × sequence length, everything else held fixed, in a randomized order (fixed
// seed) so slow drift of the GPU does not line up with one factor. 16 cells.
//
// Offline: add --set base.model=preset:qwen2.5-1.5b --set base.dataset=synthetic --set base.tokenizer=qwen-offline
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "confounds",
  description: "optimizer × precision × batch × sequence length, the study's factors one at a time",
  base: {
    model: "hub:Qwen/Qwen2.5-1.5B-Instruct",
    tokenizer: "model",
    dataset: "hub:tatsu-lab/alpaca",
    datasetSamples: 5000,
    method: "qlora",
    gradientCheckpointing: true,
    device: "cuda"
  },
  axes: {
    optim: ["adamw_torch", "paged_adamw_8bit"],
    precision: ["fp16", "bf16"],
    batchSize: [1, 2],
    maxSeqLength: [512, 2048]
  },
  seeds: [42],
  order: { randomized: 20261124 },
  measure: { warmup: "60s", window: "120s", maxDuration: "10m" }
})
