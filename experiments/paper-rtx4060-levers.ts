// The reference study's three runs again, with tunegrid's speed levers (issue #7): each cell keeps
// its model, method (QLoRA nf4 + double quant), precision, optimizer and B × S budget, and adds
// padding-free packing filled to B × S real tokens per step (the study's dynamic padding put one
// or two ~100-token Alpaca samples in each 512 / 4096-token step), the fused loss, per-layer
// compilation and checkpointing left to the memory probe. More samples per step is a change of
// the optimisation, not only of speed: compare losses per token, not per step.
//
// Offline: add --set base.model=preset:qwen2.5-1.5b --set base.dataset=synthetic --set base.tokenizer=qwen-offline
import { defineGrid } from "tunegrid"
import paper from "./paper-rtx4060.ts"

const levers = { padding: "packed", lossKernel: "fused", compile: true, gradientCheckpointing: "auto" } as const

export default defineGrid({
  ...paper,
  name: "paper-rtx4060-levers",
  description: "the study's three runs with packing to B × S tokens, fused loss, compile and checkpointing by the memory probe",
  cells: (paper.cells ?? []).map((c) => ({
    ...c,
    ...levers,
    label: `${String(c.label)}-levers`,
    tokensPerStep: Number(c.batchSize) * Number(c.maxSeqLength)
  }))
})
