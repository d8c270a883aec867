// The study's two headline claims, one factor at a time (issue #3): "bf16 is slower than fp16" and
// "paged AdamW is 25% faster". Precision × optimizer at one fixed shape, everything else as in the
// study (QLoRA nf4 + double quant, compute dtype = precision, checkpointing on, dynamic padding,
// r16 on q/k/v/o) at the shape of the study's run 1 (1 × 512), in a randomized order; each cell
// stops once tok/s has a ±2% CI. Compare fp16 with bf16 at the same optimizer, and adamw_torch with
// paged_adamw_8bit at the same precision. (The study drew "+25%" from its run 1 against its run 2,
// which also changed batch and length to 2 × 2048, and "bf16 is slower" from its run 2 against
// its run 3, which also changed the length to 1,024: see experiments/paper-rtx4060.ts.)
// The full factorial (with batch and sequence length) is experiments/confounds.ts.
//
// Offline: add --set base.model=preset:qwen2.5-1.5b --set base.dataset=synthetic --set base.tokenizer=qwen-offline
import { defineGrid } from "tunegrid"
import confounds from "./confounds.ts"

export default defineGrid({
  ...confounds,
  name: "confounds-reduced",
  description:
    "precision × optimizer at batch 1 × 512 (the shape of the study's run 1), QLoRA with checkpointing: the study's two claims, one factor at a time",
  base: {
    ...confounds.base,
    bnb4bitQuantType: "nf4",
    bnb4bitUseDoubleQuant: true,
    r: 16,
    loraAlpha: 32,
    loraDropout: 0.05,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
    template: "alpaca",
    learningRate: 2e-4,
    batchSize: 1,
    maxSeqLength: 512
  },
  // the 4-bit layers compute in the cell's precision, as in the study
  cells: [
    { label: "fp16", precision: "fp16", bnb4bitComputeDtype: "fp16" },
    { label: "bf16", precision: "bf16", bnb4bitComputeDtype: "bf16" }
  ],
  axes: { optim: ["adamw_torch", "paged_adamw_8bit"] },
  measure: { warmup: { detect: { floor: "10s", cap: "60s" } }, window: "adaptive", minWindow: "30s", ciTarget: 0.02, maxDuration: "120s" }
})
