// The HF Trainer + PEFT peer's reference cell for issue #7's ratio, run in the same device
// session as bench/measure-check.grid.ts: speed-h100's `hf-b16-gc` (what the study's users run:
// dynamic padding, batch 16, checkpointing on, full logits), measured like the headline cell
// (detected warm-up, adaptive window of at least 60 s). Run it with bench/peer_batch.py.
import { defineGrid } from "tunegrid"
import speed from "../experiments/speed-h100.ts"

export default defineGrid({
  ...speed,
  name: "peer-check",
  description: "HF Trainer peer on hf-b16-gc with a 60 s adaptive window",
  cells: (speed.cells ?? []).filter((c) => c.label === "hf-b16-gc"),
  seeds: [42],
  measure: { warmup: { detect: { floor: "10s", cap: "60s" } }, window: "adaptive", minWindow: "60s", ciTarget: 0.02, maxDuration: "150s" }
})
