// What runs fastest on an 8 GB RTX 4060, measured under its memory instead of predicted: Qwen2.5-1.5B
// with every speed lever (packed, fused loss, per-layer compile, checkpointing left to the memory
// probe), as QLoRA (nf4, double quant, bf16 compute) and as LoRA bf16, each held to the RTX 4060
// budget (8,188 MiB less a 400 MiB CUDA-context allowance for PyTorch's allocator; src/vram/budget.ts).
// `fit` searches tokens per step: probes on the largest micro-batches the data produces, then a
// measured run at the largest that fits. Memory is measured under the cap; tok/s is the measuring
// GPU's, not a 4060's.
//
//   npx tunegrid fit experiments/rtx4060-speed.ts                 # the frontier per cell, measured there
//   npx tunegrid run experiments/rtx4060-speed.ts                 # just the 2k/4k-token cells below
// Offline: add --set base.model=preset:qwen2.5-1.5b --set base.dataset=synthetic --set base.tokenizer=qwen-offline
import { defineGrid } from "tunegrid"

const qlora = { method: "qlora", bnb4bitQuantType: "nf4", bnb4bitUseDoubleQuant: true, bnb4bitComputeDtype: "bf16" } as const

export default defineGrid({
  name: "rtx4060-speed",
  description: "Qwen2.5-1.5B QLoRA nf4 and LoRA bf16, r16 all-linear, packed + fused loss + compile, under the RTX 4060 8 GB budget",
  base: {
    model: "hub:Qwen/Qwen2.5-1.5B-Instruct",
    tokenizer: "model",
    dataset: "hub:tatsu-lab/alpaca",
    datasetSamples: 5000,
    precision: "bf16",
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    maxSeqLength: 2048,
    padding: "packed",
    lossKernel: "fused",
    compile: true,
    gradientCheckpointing: "auto",
    vramBudget: "rtx4060",
    device: "cuda"
  },
  cells: [
    { label: "qlora", ...qlora },
    { label: "lora", method: "lora" }
  ],
  // fit starts its search at each cell's value; run measures these two
  axes: { tokensPerStep: [2048, 4096] },
  // 8 warm-up steps: compiled cells spend their first steps compiling
  measure: { warmup: "8 steps", window: "adaptive", minWindow: "30s", ciTarget: 0.02, maxDuration: "3m" }
})
