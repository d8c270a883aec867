// The HF Trainer + PEFT peer's cells for experiments/speed-h100.ts: the cells HF Trainer can run
// as configured (dynamic padding, full logits, eager, a fixed batch), with the same labels and
// therefore the same cell hashes. Run them with bench/peer_batch.py (the peer as the trainer)
// and ingest into a separate ledger; bench/compare.ts puts both ledgers side by side.
import { defineGrid } from "tunegrid"
import speed from "./speed-h100.ts"

const peerLabels = new Set(["hf-b16-gc", "hf-b16", "qlora-hf-b16-gc"])

export default defineGrid({
  ...speed,
  name: "speed-h100-peer",
  description: "HF Trainer + PEFT peer on the HF-style cells of speed-h100",
  cells: (speed.cells ?? []).filter((c) => peerLabels.has(String(c.label)))
})
