// What a grid gets for every field it leaves out. The reference study's choices where it made
// them (Qwen2.5-1.5B, LoRA r16 on the attention projections, 512 tokens, seed 42, 60 s warm-up).
import type { CellConfig } from "./schema.ts"

export const defaultCell: CellConfig = {
  model: "preset:qwen2.5-1.5b",
  tokenizer: "qwen-offline",
  method: "lora",
  r: 16,
  loraAlpha: 32,
  loraDropout: 0.05,
  targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
  bnb4bitQuantType: "nf4",
  bnb4bitUseDoubleQuant: true,
  bnb4bitComputeDtype: "bf16",
  precision: "bf16",
  optim: "adamw_torch",
  learningRate: 2e-4,
  lrSchedulerType: "constant",
  warmupSteps: 0,
  weightDecay: 0,
  maxGradNorm: 1.0,
  batchSize: 1,
  gradientAccumulationSteps: 1,
  maxSeqLength: 512,
  gradientCheckpointing: true,
  deterministic: false,
  // The speed levers (trainer/PROTOCOL.md §1) default to what HF Trainer + PEFT does.
  padding: "dynamic",
  lossKernel: "standard",
  compile: false,
  tokensPerStep: null,
  device: "auto",
  dataset: "synthetic",
  datasetSamples: 5000,
  datasetSeed: 0,
  template: "alpaca",
  torchDtype: null,
  vramBudget: null,
  // The user's data and trainer (trainer/PROTOCOL.md §1); loss fields default as TRL's.
  trainer: "tunegrid",
  script: null,
  scriptArgs: [],
  datasetSplit: "train",
  datasetSubset: null,
  datasetColumns: null,
  completionOnlyLoss: null,
  assistantOnlyLoss: false
}

export const defaultSeeds: ReadonlyArray<number> = [42]

/** Warm-up detected (MSER-5), window adaptive: stop at a ±2% CI after at least 60 s (long
 * enough for the NVML energy counter), else at 15 min with the result marked not steady. */
export const defaultMeasure = {
  warmup: "detect",
  window: "adaptive",
  ciTarget: 0.02,
  minWindow: "60s",
  maxSteps: 100_000,
  maxDuration: "15m"
} as const

/** Bounds of a detected warm-up when the grid says just "detect". */
export const defaultDetect = { floor: "10s", cap: "300s" } as const
