// What each speed lever is worth on a datacenter GPU (issue #7): Qwen2.5-1.5B architecture (random
// weights), LoRA r16 on every linear projection, bf16, synthetic Alpaca-like lengths (mean ≈104
// tokens). A ladder from what HF Trainer users run (dynamic padding, batch 16, checkpointing on)
// to all levers on, then QLoRA (nf4, double quant, bf16 compute) with the same levers.
// The HF Trainer peer runs the first cells as experiments/speed-h100-peer.ts (same cell hashes).
//
//   npx tunegrid run experiments/speed-h100.ts
// Python-only GPU box (see bench/README.md): plan here, batch there, ingest here.
import { defineGrid } from "tunegrid"

const qlora = { method: "qlora", bnb4bitQuantType: "nf4", bnb4bitUseDoubleQuant: true, bnb4bitComputeDtype: "bf16" } as const
const levers = { padding: "packed", lossKernel: "fused", gradientCheckpointing: "auto" } as const

export default defineGrid({
  name: "speed-h100",
  description: "Qwen2.5-1.5B LoRA r16 all-linear bf16, Alpaca-like lengths: HF-style cells, then one lever at a time, then QLoRA",
  base: {
    model: "preset:qwen2.5-1.5b",
    dataset: "synthetic",
    datasetSamples: 5000,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    precision: "bf16",
    maxSeqLength: 2048,
    device: "cuda"
  },
  cells: [
    { label: "hf-b16-gc", batchSize: 16, gradientCheckpointing: true },
    { label: "hf-b16", batchSize: 16, gradientCheckpointing: false },
    { label: "packed-16k", padding: "packed", gradientCheckpointing: false, tokensPerStep: 16384 },
    { label: "packed-fused-16k", ...levers, tokensPerStep: 16384 },
    { label: "packed-fused-32k", ...levers, tokensPerStep: 32768 },
    { label: "packed-fused-64k", ...levers, tokensPerStep: 65536 },
    { label: "packed-fused-32k-compile", ...levers, tokensPerStep: 32768, compile: true },
    { label: "packed-16k-gc", padding: "packed", gradientCheckpointing: true, tokensPerStep: 16384 },
    { label: "packed-fused-4k-compile-nogc", ...levers, gradientCheckpointing: false, tokensPerStep: 4096, compile: true },
    { label: "packed-fused-8k-compile-nogc", ...levers, gradientCheckpointing: false, tokensPerStep: 8192, compile: true },
    { label: "packed-fused-16k-compile", ...levers, tokensPerStep: 16384, compile: true },
    { label: "qlora-hf-b16-gc", ...qlora, batchSize: 16, gradientCheckpointing: true },
    { label: "qlora-packed-fused-8k-compile-nogc", ...qlora, ...levers, gradientCheckpointing: false, tokensPerStep: 8192, compile: true },
    { label: "qlora-packed-fused-16k-compile", ...qlora, ...levers, tokensPerStep: 16384, compile: true },
    { label: "qlora-packed-fused-16k", ...qlora, ...levers, tokensPerStep: 16384 },
    { label: "qlora-packed-fused-32k", ...qlora, ...levers, tokensPerStep: 32768 }
  ],
  // 8 warm-up steps: compiled cells spend their first 3–5 steps compiling and recompiling (dynamic shapes)
  measure: { warmup: "8 steps", window: "12 steps", maxDuration: "3m" }
})
