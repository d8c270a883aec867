// QLoRA against LoRA at the same tokens per step (issue #7: QLoRA nf4 + double quant + bf16 compute
// at ≥ 8k tokens/step should reach ≥ 0.85× LoRA). Qwen2.5-1.5B preset (random weights), r16 on all
// seven linear projections, synthetic Alpaca-like data, every speed lever on; each pair differs in
// `method` (and its quantisation fields) only. Four cells, ~6 minutes on an H100.
//
//   npx tunegrid run experiments/qlora-h100.ts
// Python-only GPU box: plan here, `python -m tunegrid_trainer.batch` there, ingest here (README).
import { defineGrid } from "tunegrid"

const qlora = { method: "qlora", bnb4bitQuantType: "nf4", bnb4bitUseDoubleQuant: true, bnb4bitComputeDtype: "bf16" } as const

export default defineGrid({
  name: "qlora-h100",
  description: "LoRA vs QLoRA (nf4, double quant, bf16 compute) at 8k and 16k tokens per step, all levers on",
  base: {
    model: "preset:qwen2.5-1.5b",
    tokenizer: "qwen-offline",
    dataset: "synthetic",
    datasetSamples: 5000,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    precision: "bf16",
    maxSeqLength: 2048,
    padding: "packed",
    lossKernel: "fused",
    compile: true,
    gradientCheckpointing: "auto",
    device: "cuda"
  },
  cells: [
    { label: "lora-8k", method: "lora", tokensPerStep: 8192 },
    { label: "qlora-8k", ...qlora, tokensPerStep: 8192 },
    { label: "lora-16k", method: "lora", tokensPerStep: 16384 },
    { label: "qlora-16k", ...qlora, tokensPerStep: 16384 }
  ],
  seeds: [42],
  measure: { warmup: { detect: { floor: "10s", cap: "60s" } }, window: "adaptive", minWindow: "30s", ciTarget: 0.02, maxDuration: "120s" }
})
