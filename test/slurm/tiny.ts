// The Slurm end-to-end test's grid: the tiny preset on the CPU, two cells × two repeats (four
// array tasks), deterministic, a few steps each, so a one-node test cluster runs it in a minute.
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "slurm-tiny",
  base: {
    model: "preset:tiny",
    device: "cpu",
    precision: "fp32",
    maxSeqLength: 64,
    datasetSamples: 64,
    gradientCheckpointing: false,
    deterministic: true
  },
  axes: { batchSize: [1, 2] },
  seeds: [42],
  repeats: 2,
  measure: { warmup: "1 steps", window: "3 steps", ciTarget: null, maxDuration: "120s" },
  slurm: { time: "10:00", parallel: 2 }
})
