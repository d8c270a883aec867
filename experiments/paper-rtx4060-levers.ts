// The RTX 4060 study's three runs again (experiments/paper-rtx4060.ts, every base-weight reading),
// with tunegrid's speed levers (issue #7): each cell keeps its model, method, precision, optimizer
// and B × S budget, and adds padding-free packing filled to B × S real tokens per step (the study's
// dynamic padding put one or two Alpaca samples of ~160 tokens in each 512 / 2,048 / 4,096-token
// step), the fused loss, per-layer compilation and checkpointing left to the memory probe. More
// samples per step is a change of the optimisation, not only of speed: compare losses per token,
// not per step. The study's figures are not carried here: these are not its configurations.
//
// Offline: add --set base.model=preset:qwen2.5-1.5b --set base.dataset=synthetic --set base.tokenizer=qwen-offline
import { defineGrid } from "tunegrid"
import paper from "./paper-rtx4060.ts"

const levers = { padding: "packed", lossKernel: "fused", compile: true, gradientCheckpointing: "auto" } as const

export default defineGrid({
  ...paper,
  name: "paper-rtx4060-levers",
  description:
    "the study's three runs (every base-weight reading) with packing to B × S tokens, fused loss, compile and checkpointing by the memory probe",
  cells: (paper.cells ?? []).map(({ reference: _published, ...c }) => ({
    ...c,
    ...levers,
    label: `${String(c.label)}-levers`,
    tokensPerStep: Number(c.batchSize) * Number(c.maxSeqLength)
  }))
})
