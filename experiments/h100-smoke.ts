// A small real grid for a datacenter GPU: Qwen2.5-0.5B architecture (random weights), LoRA in
// bf16 and fp16, and QLoRA (nf4, double quant, bf16 compute), on synthetic Alpaca-like data.
// It checks the whole path on a GPU in a few minutes: sampler energy counter, VRAM peaks,
// bitsandbytes (a QLoRA cell fails with `missing_dependency` where bitsandbytes is absent, and
// the grid goes on).
//
//   npx tunegrid run experiments/h100-smoke.ts
// Python-only GPU box: npx tunegrid plan experiments/h100-smoke.ts --out cells, then there
//   python -m tunegrid_trainer.batch cells --out runs, and here npx tunegrid ingest runs
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "h100-smoke",
  description: "Qwen2.5-0.5B preset: LoRA bf16 vs fp16, and QLoRA nf4, batch 8 x 512, synthetic data",
  base: {
    model: "preset:qwen2.5-0.5b",
    dataset: "synthetic",
    datasetSamples: 5000,
    batchSize: 8,
    maxSeqLength: 512,
    gradientCheckpointing: false,
    device: "cuda"
  },
  cells: [
    { label: "lora-bf16", method: "lora", precision: "bf16" },
    { label: "lora-fp16", method: "lora", precision: "fp16" },
    { label: "qlora-nf4-bf16", method: "qlora", precision: "bf16", bnb4bitComputeDtype: "bf16" }
  ],
  measure: { warmup: "15s", window: "40s", maxDuration: "3m" }
})
