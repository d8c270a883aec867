// Recommended starting grid for an 8 GB RTX 4060 (README "Speed levers"): QLoRA with every speed
// lever, at the two token budgets the H100 measurements predict to sit near 7 GB at max_seq_len
// 2048. Checkpointing "auto" lets the one-step memory probe decide on the card itself.
//
//   npx tunegrid run experiments/rtx4060-speed.ts
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "rtx4060-speed",
  description: "Qwen2.5-1.5B QLoRA nf4 r16 all-linear, packed + fused loss + compile, 2k/4k tokens per step",
  base: {
    model: "hub:Qwen/Qwen2.5-1.5B-Instruct",
    tokenizer: "model",
    dataset: "hub:tatsu-lab/alpaca",
    datasetSamples: 5000,
    method: "qlora",
    bnb4bitQuantType: "nf4",
    bnb4bitUseDoubleQuant: true,
    bnb4bitComputeDtype: "bf16",
    precision: "bf16",
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    maxSeqLength: 2048,
    padding: "packed",
    lossKernel: "fused",
    compile: true,
    gradientCheckpointing: "auto",
    device: "cuda"
  },
  axes: { tokensPerStep: [2048, 4096] },
  measure: { warmup: "60s", window: "120s", maxDuration: "10m" }
})
