// HF Trainer, TRL's SFTTrainer and tunegrid on one cell (issue 20's GPU table): Qwen2.5-1.5B
// architecture (random weights), LoRA r16 on every linear projection, bf16, synthetic Alpaca-like
// lengths, batch 16 with gradient checkpointing (what the study's users run), seed 42. hf, trl,
// trl-padfree and tunegrid see the same 16 samples at every step, so `paired_runs` gives their
// ratios on the same steps; tunegrid-levers (packed, fused loss, compiled, 16k tokens per step,
// checkpointing decided by the memory probe) fills its steps differently and compares by tok/s
// and its CI. TRL 1.16 always computes its loss with its own fused LM head (lossKernel "fused").
//
// The GPU box has Python but no Node: plan here, run the cells there in two halves (each under
// ten minutes), ingest here, then compare (bench/README.md):
//   npx tunegrid plan experiments/trainers-qwen1.5b.ts --out cells-trainers --tokenizer-dir /tmp/tok
import { defineGrid } from "tunegrid"
import speed from "./speed-h100.ts"

export default defineGrid({
  name: "trainers-qwen1.5b",
  description: "Qwen2.5-1.5B LoRA r16 all-linear bf16, batch 16, checkpointing: HF Trainer vs TRL SFTTrainer vs tunegrid (and its levers)",
  // speed-h100's cell (its hf-b16-gc): the same model, adapters, data and precision
  base: { ...speed.base, tokenizer: "qwen-offline", batchSize: 16, gradientCheckpointing: true },
  cells: [
    { label: "hf", trainer: "hf" },
    { label: "trl", trainer: "trl", lossKernel: "fused" },
    { label: "trl-padfree", trainer: "trl", lossKernel: "fused", padding: "packed" },
    { label: "tunegrid", trainer: "tunegrid" },
    {
      label: "tunegrid-levers",
      trainer: "tunegrid",
      padding: "packed",
      lossKernel: "fused",
      compile: true,
      gradientCheckpointing: "auto",
      tokensPerStep: 16384
    }
  ],
  seeds: [42],
  // compiled cells spend their first steps compiling: the detected warm-up cuts them (never before 10 s, never after 45 s)
  measure: { warmup: { detect: { floor: "10s", cap: "45s" } }, window: "adaptive", minWindow: "30s", ciTarget: 0.02, maxDuration: "100s" }
})
