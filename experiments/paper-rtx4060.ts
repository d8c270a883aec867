// The reference study as a grid: three hand-picked runs of Qwen2.5-1.5B-Instruct on a 5k Alpaca
// subset with HF-style LoRA through the bitsandbytes backend (4-bit QLoRA), gradient
// checkpointing, seed 42 and a 60 s warm-up, each changing several factors at once.
//
// Batch × sequence of 1 × 512 and 2 × 2048 are the shapes quoted for the study; the pairing of
// precision and optimizer follows its two headline claims (fp16 vs bf16; paged 8-bit AdamW).
// If you have the study's Table 1, correct the three cells below to match it exactly.
//
// Online: npx tunegrid run experiments/paper-rtx4060.ts
// Offline (random weights, synthetic Alpaca-like data, bundled Qwen tokenizer):
//   npx tunegrid run experiments/paper-rtx4060.ts --set base.model=preset:qwen2.5-1.5b \
//     --set base.dataset=synthetic --set base.tokenizer=qwen-offline
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "paper-rtx4060",
  description: "The reference study's three runs (Qwen2.5-1.5B-Instruct, 5k Alpaca, RTX 4060 8 GB) as explicit cells",
  base: {
    model: "hub:Qwen/Qwen2.5-1.5B-Instruct",
    tokenizer: "model",
    dataset: "hub:tatsu-lab/alpaca",
    datasetSamples: 5000,
    template: "alpaca",
    method: "qlora",
    bnb4bitQuantType: "nf4",
    bnb4bitUseDoubleQuant: true,
    r: 16,
    loraAlpha: 32,
    loraDropout: 0.05,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
    gradientCheckpointing: true,
    learningRate: 2e-4,
    device: "cuda"
  },
  cells: [
    { label: "run1-fp16-adamw-b1-s512", precision: "fp16", bnb4bitComputeDtype: "fp16", optim: "adamw_torch", batchSize: 1, maxSeqLength: 512 },
    { label: "run2-bf16-adamw-b1-s512", precision: "bf16", bnb4bitComputeDtype: "bf16", optim: "adamw_torch", batchSize: 1, maxSeqLength: 512 },
    { label: "run3-fp16-paged8-b2-s2048", precision: "fp16", bnb4bitComputeDtype: "fp16", optim: "paged_adamw_8bit", batchSize: 2, maxSeqLength: 2048 }
  ],
  seeds: [42],
  measure: { warmup: "60s", window: "120s", maxDuration: "10m" }
})
